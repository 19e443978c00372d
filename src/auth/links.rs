//! One-time links sent by email: random, stored only as a SHA-256 hash, usable once, for one
//! [`LinkPurpose`] and within its lifetime.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use entity::{sign_in_link, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use uuid::Uuid;

use super::throttle::LoginThrottle;
use super::token::{generate_token, hash_token};
use crate::error::{AppError, AppResult};
use crate::values::Email;

/// How long a sign-in link works.
pub const LINK_TTL: chrono::Duration = chrono::Duration::minutes(15);

/// How long the link in a new account's email works.
pub const SET_PASSWORD_TTL: chrono::Duration = chrono::Duration::days(7);

/// How long a link to choose a new password (a forgotten one) works.
pub const RESET_PASSWORD_TTL: chrono::Duration = chrono::Duration::minutes(60);

/// What a link does; a link of one purpose never works as the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Signs in, then opens a page ([`LINK_TTL`]).
    SignIn,
    /// Sets the password of a new account and signs in ([`SET_PASSWORD_TTL`]).
    SetPassword,
    /// Sets a new password for a forgotten one and signs in ([`RESET_PASSWORD_TTL`]).
    ResetPassword,
}

impl LinkPurpose {
    /// As stored in `sign_in_link.purpose`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SetPassword => "set_password",
            Self::ResetPassword => "reset_password",
        }
    }

    /// How long a link of this purpose works.
    pub fn ttl(self) -> chrono::Duration {
        match self {
            Self::SignIn => LINK_TTL,
            Self::SetPassword => SET_PASSWORD_TTL,
            Self::ResetPassword => RESET_PASSWORD_TTL,
        }
    }
}

/// Longest return path kept.
const MAX_NEXT: usize = 2000;

/// A page to return to is a path on this site, never another site (`//host`, `/\\host`, a
/// scheme); anything else returns to the home page.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.starts_with("/\\")
                && next.len() <= MAX_NEXT
                && !next.chars().any(char::is_control)
                && !next.starts_with("/sign-in") =>
        {
            next.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Finds whom a link request is for. Every request counts against the login throttle (per
/// address and per client), so links cannot be used to flood an inbox; an unknown address is
/// `None`, and the caller answers the same either way.
#[tracing::instrument(skip(db, throttle), fields(email = %raw_email))]
pub async fn link_recipient(
    db: &DatabaseConnection,
    throttle: &LoginThrottle,
    raw_email: &str,
    client_ip: Option<IpAddr>,
) -> AppResult<Option<user::Model>> {
    let email = Email::parse(raw_email)
        .map_err(|_| AppError::bad_input("email", "is not an email address"))?;
    // Reserved as a failure and never released: a link request is not a sign-in.
    let _counted = throttle
        .begin_attempt(db, email.as_str(), client_ip, Utc::now())
        .await?;
    // A deactivated person is answered like an unknown address.
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .filter(user::Column::DeactivatedAt.is_null())
        .one(db)
        .await?)
}

/// Stores a new link for `user` that opens `next` and returns its token (for the email only).
pub async fn create_link(
    db: &impl ConnectionTrait,
    user: Uuid,
    next: &str,
    purpose: LinkPurpose,
) -> AppResult<(String, DateTime<Utc>)> {
    let token = generate_token();
    let now = Utc::now();
    let expires_at = now + purpose.ttl();
    sign_in_link::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        token_hash: Set(hash_token(&token)),
        next_path: Set(next.to_owned()),
        purpose: Set(purpose.as_str().to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((token, expires_at))
}

/// Uses a link of one of `purposes`: marks it used (only if unused and unexpired, so two clicks
/// racing use it once) and returns whose it is and where they were going. Anything else (a link
/// of another purpose too) is `UNAUTHENTICATED`.
pub async fn use_link(
    db: &impl ConnectionTrait,
    token: &str,
    purposes: &[LinkPurpose],
) -> AppResult<(user::Model, String)> {
    if token.len() > 128 {
        return Err(AppError::Unauthenticated);
    }
    let hash = hash_token(token);
    let now = Utc::now();
    let used = sign_in_link::Entity::update_many()
        .col_expr(sign_in_link::Column::UsedAt, Expr::value(Some(now)))
        .filter(sign_in_link::Column::TokenHash.eq(hash.as_str()))
        .filter(sign_in_link::Column::Purpose.is_in(purposes.iter().map(|p| p.as_str())))
        .filter(sign_in_link::Column::UsedAt.is_null())
        .filter(sign_in_link::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if used.rows_affected != 1 {
        return Err(AppError::Unauthenticated);
    }
    let Some(link) = sign_in_link::Entity::find()
        .filter(sign_in_link::Column::TokenHash.eq(hash))
        .one(db)
        .await?
    else {
        return Err(AppError::Unauthenticated);
    };
    let user = user::Entity::find_by_id(link.user_id)
        .one(db)
        .await?
        .filter(|u| u.deactivated_at.is_none())
        .ok_or(AppError::Unauthenticated)?;
    Ok((user, link.next_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_returned_to() {
        assert_eq!(safe_next(Some("/inquiries/1?x=2")), "/inquiries/1?x=2");
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "",
            "/a\nb",
            "/sign-in?next=/x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(3000)))), "/");
    }

    proptest::proptest! {
        #[test]
        fn a_return_path_never_leaves_the_site(next in "\\PC{0,60}") {
            let kept = safe_next(Some(&next));
            proptest::prop_assert!(kept.starts_with('/'));
            proptest::prop_assert!(!kept.starts_with("//") && !kept.starts_with("/\\"));
        }
    }
}
