//! Who is calling: tokens, passwords, login throttling and the per-request [`Viewer`].

pub mod links;
pub mod oidc;
pub mod password;
pub mod schema;
pub mod service;
pub mod throttle;
pub mod token;

use async_graphql::Context;

use crate::error::{AppError, AppResult};
pub use crate::values::viewer::{Grant, Viewer};

/// The caller of this request, if any.
pub fn viewer<'a>(ctx: &'a Context<'_>) -> Option<&'a Viewer> {
    ctx.data_opt::<Viewer>()
}

/// The caller, or `UNAUTHENTICATED`.
pub fn require_viewer<'a>(ctx: &'a Context<'_>) -> AppResult<&'a Viewer> {
    viewer(ctx).ok_or(AppError::Unauthenticated)
}

/// An administrator, or `UNAUTHENTICATED` / `FORBIDDEN`.
pub fn require_admin<'a>(ctx: &'a Context<'_>) -> AppResult<&'a Viewer> {
    let viewer = require_viewer(ctx)?;
    if viewer.is_admin() {
        Ok(viewer)
    } else {
        Err(AppError::forbidden("Only administrators may do this."))
    }
}
