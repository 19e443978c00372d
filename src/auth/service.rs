//! Login, logout, password changes and token authentication.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{access_token, event, membership, organization, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, JoinType, QueryFilter, QueryResult, QuerySelect, RelationTrait, Set,
};
use uuid::Uuid;

use super::password::{check_password_policy, hash_off_runtime, verify_off_runtime};
use super::throttle::LoginThrottle;
use super::token::{generate_token, hash_token};
use super::{Grant, Viewer};
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::values::Email;

/// A successful login: the token is shown to the client once and never stored.
pub struct LoginOutcome {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: user::Model,
}

/// Checks a password and returns whose it is; the caller then issues a token in a unit of work
/// ([`issue_token`]). Wrong email and wrong password fail identically, in the same time;
/// repeated failures per email and per IP are throttled.
#[tracing::instrument(skip(db, throttle, password), fields(email = %raw_email))]
pub async fn verify_login(
    db: &DatabaseConnection,
    throttle: &LoginThrottle,
    raw_email: &str,
    password: &str,
    client_ip: Option<IpAddr>,
) -> AppResult<user::Model> {
    let throttle_key = raw_email.trim().to_lowercase();
    let attempt = throttle
        .begin_attempt(db, &throttle_key, client_ip, Utc::now())
        .await?;

    let found = match Email::parse(raw_email) {
        Ok(email) => {
            user::Entity::find()
                .filter(user::Column::Email.eq(email.as_str()))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let stored_hash = found.as_ref().and_then(|u| u.password_hash.clone());
    let verified = verify_off_runtime(password, stored_hash).await?;

    // A deactivated account fails like a wrong password (after the same hashing work).
    let Some(user) = found.filter(|u| verified && u.deactivated_at.is_none()) else {
        // The reserved attempt stays counted as a failure.
        return Err(AppError::InvalidCredentials);
    };
    throttle.succeeded(db, attempt, &throttle_key).await?;
    Ok(user)
}

/// Stores a new token for `user` and returns it (shown once) with its expiry. A login appends
/// no event and plans no email.
pub async fn issue_token(
    db: &impl ConnectionTrait,
    ttl: Duration,
    user: Uuid,
) -> AppResult<(String, DateTime<Utc>)> {
    let token = generate_token();
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(ttl).map_err(AppError::internal)?;
    let expires_at = now + ttl;
    access_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        token_hash: Set(hash_token(&token)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((token, expires_at))
}

/// A verified request to change a password: the new hash, and the stored hash it replaces.
pub struct PasswordChange {
    stored: String,
    hashed: String,
}

/// The first half of a password change, outside any transaction (hashing takes long): checks
/// the policy and the current password and hashes the new one. Wrong current passwords count
/// towards the login throttle like failed logins.
#[tracing::instrument(skip_all)]
pub async fn verify_password_change(
    db: &DatabaseConnection,
    throttle: &LoginThrottle,
    viewer: &Viewer,
    current: &str,
    new: &str,
    client_ip: Option<IpAddr>,
) -> AppResult<PasswordChange> {
    check_password_policy(new).map_err(|e| match e {
        AppError::BadInput { message, .. } => AppError::bad_input("newPassword", message),
        other => other,
    })?;
    let throttle_key = viewer.user.email.clone();
    let attempt = throttle
        .begin_attempt(db, &throttle_key, client_ip, Utc::now())
        .await?;
    // Checked against the hash stored now, not the one read when the request began: a second
    // change in flight (another request, an alias) may have replaced it.
    let stored = user::Entity::find_by_id(viewer.id())
        .one(db)
        .await?
        .and_then(|u| u.password_hash);
    let verified = verify_off_runtime(current, stored.clone()).await?;
    let Some(stored) = stored.filter(|_| verified) else {
        // The reserved attempt stays counted as a failure.
        return Err(wrong_password());
    };
    throttle.succeeded(db, attempt, &throttle_key).await?;
    let hashed = hash_off_runtime(new).await?;
    Ok(PasswordChange { stored, hashed })
}

fn wrong_password() -> AppError {
    AppError::bad_input("currentPassword", "is not your current password")
}

/// The second half, in the change's transaction: stores the new hash if the old one is still
/// in place, ends every session of the user (on every device, this one included) and returns
/// a fresh token.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    change: PasswordChange,
    token_ttl: Duration,
) -> AppResult<(LoginOutcome, event::Model)> {
    let now = Utc::now();
    // Compare-and-set: only if the hash is still the one just verified.
    let changed = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(Some(change.hashed)))
        .filter(user::Column::Id.eq(viewer.id()))
        .filter(user::Column::PasswordHash.eq(change.stored))
        .exec(db)
        .await?;
    if changed.rows_affected != 1 {
        return Err(wrong_password());
    }
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(Some(now)))
        .filter(access_token::Column::UserId.eq(viewer.id()))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    let (token, expires_at) = issue_token(db, token_ttl, viewer.id()).await?;
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::UserPasswordChanged,
            actor_id: Some(viewer.id()),
            subject_id: viewer.id(),
            object_id: None,
            organization_ids: Vec::new(),
            topic_ids: Vec::new(),
            audience: vec![Reader::User { id: viewer.id() }],
        },
    )
    .await?;
    let outcome = LoginOutcome {
        token,
        expires_at,
        user: viewer.user.clone(),
    };
    Ok((outcome, event))
}

/// Sets a password through the link of a new account's email, or of a forgotten password's
/// (once, within its lifetime),
/// ends any other session of the user and returns a fresh one. `hashed` is the new password's
/// hash, made beforehand outside the transaction. A used, expired or unknown link is
/// `UNAUTHENTICATED`.
#[tracing::instrument(skip_all)]
pub async fn set_password_with_link(
    db: &impl ConnectionTrait,
    token: &str,
    hashed: String,
    token_ttl: Duration,
) -> AppResult<(LoginOutcome, event::Model)> {
    use super::links::LinkPurpose;
    let purposes = [LinkPurpose::SetPassword, LinkPurpose::ResetPassword];
    let (user, _) = super::links::use_link(db, token, &purposes).await?;
    let now = Utc::now();
    let user = user::ActiveModel {
        id: Set(user.id),
        password_hash: Set(Some(hashed)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(Some(now)))
        .filter(access_token::Column::UserId.eq(user.id))
        .filter(access_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    let (token, expires_at) = issue_token(db, token_ttl, user.id).await?;
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::UserPasswordChanged,
            actor_id: Some(user.id),
            subject_id: user.id,
            object_id: None,
            organization_ids: Vec::new(),
            topic_ids: Vec::new(),
            audience: vec![Reader::User { id: user.id }],
        },
    )
    .await?;
    Ok((
        LoginOutcome {
            token,
            expires_at,
            user,
        },
        event,
    ))
}

/// Revokes the token the caller used. The event ends the connections opened with it, on every
/// instance.
#[tracing::instrument(skip_all)]
pub async fn logout(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<event::Model> {
    access_token::ActiveModel {
        id: Set(viewer.token_id),
        revoked_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(db)
    .await?;
    append_event(
        db,
        NewEvent {
            kind: EventKind::UserLoggedOut,
            actor_id: Some(viewer.id()),
            subject_id: viewer.id(),
            object_id: Some(viewer.token_id),
            organization_ids: Vec::new(),
            topic_ids: Vec::new(),
            audience: vec![Reader::User { id: viewer.id() }],
        },
    )
    .await
}

/// The grants of a user, for acting as them outside a request (demo data, background jobs).
#[tracing::instrument(skip_all)]
pub async fn viewer_for_user(db: &impl ConnectionTrait, user: user::Model) -> AppResult<Viewer> {
    let grants = grants_of(db, user.id).await?;
    Ok(Viewer {
        user,
        token_id: Uuid::nil(),
        grants,
    })
}

async fn grants_of(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<Grant>> {
    Ok(grants_by_user(db, &[user_id])
        .await?
        .remove(&user_id)
        .unwrap_or_default())
}

/// The grants of many users in one query.
#[tracing::instrument(skip_all)]
pub async fn grants_by_user(
    db: &impl ConnectionTrait,
    users: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, Vec<Grant>>> {
    let mut out: std::collections::HashMap<Uuid, Vec<Grant>> = std::collections::HashMap::new();
    for (m, org) in membership::Entity::find()
        .filter(membership::Column::UserId.is_in(users.iter().copied()))
        .find_also_related(organization::Entity)
        .all(db)
        .await?
    {
        if let Some(org) = org {
            out.entry(m.user_id).or_default().push(Grant {
                organization_id: m.organization_id,
                organization_kind: org.kind,
                role: m.role,
            });
        }
    }
    Ok(out)
}

/// Resolves a bearer token to its user and memberships; an unknown, expired or revoked token
/// is `UNAUTHENTICATED`.
#[tracing::instrument(skip_all)]
pub async fn authenticate(db: &impl ConnectionTrait, token: &str) -> AppResult<Viewer> {
    Ok(authenticate_until(db, token).await?.0)
}

/// As [`authenticate`], with the moment the token expires (a long-lived connection ends then).
///
/// One statement: the token, its user (without the password hash) and their memberships with
/// each organization's kind, joined.
#[tracing::instrument(skip_all)]
pub async fn authenticate_until(
    db: &impl ConnectionTrait,
    token: &str,
) -> AppResult<(Viewer, DateTime<Utc>)> {
    let select = access_token::Entity::find()
        .select_only()
        .column_as(access_token::Column::Id, "token_id")
        .column_as(access_token::Column::ExpiresAt, "token_expires_at")
        .column_as(access_token::Column::RevokedAt, "token_revoked_at")
        .column_as(membership::Column::OrganizationId, "grant_organization_id")
        .column_as(membership::Column::Role, "grant_role")
        .column_as(organization::Column::Kind, "grant_organization_kind");
    let rows = crate::db::users::with_user_columns(select, "u_")
        .join(JoinType::InnerJoin, access_token::Relation::User.def())
        .join(JoinType::LeftJoin, user::Relation::Membership.def())
        .join(JoinType::LeftJoin, membership::Relation::Organization.def())
        .filter(access_token::Column::TokenHash.eq(hash_token(token)))
        .into_model::<TokenRow>()
        .all(db)
        .await?;
    let mut rows = rows.into_iter();
    let Some(first) = rows.next() else {
        return Err(AppError::Unauthenticated);
    };
    if first.revoked_at.is_some()
        || first.expires_at <= Utc::now()
        || first.user.deactivated_at.is_some()
    {
        return Err(AppError::Unauthenticated);
    }
    let (token_id, expires_at, user) = (first.token_id, first.expires_at, first.user);
    let grants = first
        .grant
        .into_iter()
        .chain(rows.filter_map(|row| row.grant))
        .collect();
    Ok((
        Viewer {
            user,
            token_id,
            grants,
        },
        expires_at,
    ))
}

/// One row of [`authenticate_until`]'s join: the token, its user, and one membership (none
/// when the user has no memberships).
struct TokenRow {
    token_id: Uuid,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    user: user::Model,
    grant: Option<Grant>,
}

impl FromQueryResult for TokenRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        let organization_id: Option<Uuid> = res.try_get(pre, "grant_organization_id")?;
        let role: Option<membership::Role> = res.try_get(pre, "grant_role")?;
        let kind: Option<organization::OrganizationKind> =
            res.try_get(pre, "grant_organization_kind")?;
        Ok(Self {
            token_id: res.try_get(pre, "token_id")?,
            expires_at: res.try_get(pre, "token_expires_at")?,
            revoked_at: res.try_get(pre, "token_revoked_at")?,
            user: user::Model::from_query_result(res, &format!("{pre}u_"))?,
            grant: match (organization_id, role, kind) {
                (Some(organization_id), Some(role), Some(organization_kind)) => Some(Grant {
                    organization_id,
                    organization_kind,
                    role,
                }),
                _ => None,
            },
        })
    }
}
