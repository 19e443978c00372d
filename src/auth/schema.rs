//! `me`, `login`, `changePassword` and `logout`.

use std::net::IpAddr;

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{require_viewer, service, viewer};
use crate::changes::Done;
use crate::directory::schema::User;
use crate::graphql::PasswordChecks;
use crate::state::AppState;

/// The client address of the request, when known; used for login throttling.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

/// A new session: send `token` as `Authorization: Bearer <token>` (HTTP) or as `token` in the
/// WebSocket `connection_init` payload.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// The bearer token, shown only now.
    pub token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// Who logged in.
    pub user: User,
}

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The logged-in user, or null for a visitor.
    async fn me(&self, ctx: &Context<'_>) -> Option<User> {
        viewer(ctx).map(|v| User(v.user.clone()))
    }
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Log in with email and password. A wrong email and a wrong password give the same
    /// `UNAUTHENTICATED` error; repeated failures give `RATE_LIMITED`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your email address.")] email: String,
        #[graphql(desc = "Your password.")] password: String,
    ) -> async_graphql::Result<LoginPayload> {
        ctx.data::<PasswordChecks>()?.claim()?;
        let state = ctx.data::<AppState>()?;
        let ip = ctx.data_opt::<ClientIp>().and_then(|c| c.0);
        let user =
            service::verify_login(&state.db, &state.login_throttle, &email, &password, ip).await?;
        let ttl = state.config.token_ttl;
        let (token, expires_at) = state
            .changes
            .run(async |txn| {
                service::issue_token(txn, ttl, user.id)
                    .await
                    .map(Done::quiet)
            })
            .await?;
        Ok(LoginPayload {
            token,
            expires_at,
            user: User(user),
        })
    }

    /// Change your password. Every session of yours ends (on every device); the answer holds
    /// a fresh token for this one. A wrong current password counts like a failed login.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The password you have now.")] current_password: String,
        #[graphql(desc = "The new password (at least 12 characters).")] new_password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let viewer = require_viewer(ctx)?;
        ctx.data::<PasswordChecks>()?.claim()?;
        let state = ctx.data::<AppState>()?;
        let ip = ctx.data_opt::<ClientIp>().and_then(|c| c.0);
        let change = service::verify_password_change(
            &state.db,
            &state.login_throttle,
            viewer,
            &current_password,
            &new_password,
            ip,
        )
        .await?;
        let ttl = state.config.token_ttl;
        let outcome = state
            .changes
            .run(async |txn| service::change_password(txn, viewer, change, ttl).await)
            .await?;
        Ok(LoginPayload {
            token: outcome.token,
            expires_at: outcome.expires_at,
            user: User(outcome.user),
        })
    }

    /// Revoke the token this request was made with.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = require_viewer(ctx)?;
        let state = ctx.data::<AppState>()?;
        state
            .changes
            .run(async |txn| service::logout(txn, viewer).await)
            .await?;
        Ok(true)
    }
}
