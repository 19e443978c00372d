//! Idempotency keys of creating requests: a person's request that carries a key made one thing;
//! the same key from the same person again (a double press, a retried request) is answered with
//! that thing instead of making a second one. Both halves run in the request's transaction.

use chrono::Utc;
use entity::idempotency_key;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Longest key taken.
pub const MAX_KEY: usize = 64;

/// A key as sent: 1–64 visible ASCII characters.
pub fn check(key: &str) -> AppResult<()> {
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::bad_input(
            "idempotencyKey",
            format!("must be 1 to {MAX_KEY} visible ASCII characters"),
        ));
    }
    Ok(())
}

/// What `user`'s earlier request with `key` made, if any.
pub async fn replayed(db: &impl ConnectionTrait, user: Uuid, key: &str) -> AppResult<Option<Uuid>> {
    Ok(idempotency_key::Entity::find_by_id((user, key.to_owned()))
        .one(db)
        .await?
        .map(|row| row.object_id))
}

/// Remembers that `user`'s request with `key` made `object`. Two requests with the same key in
/// flight at once: the second's transaction fails here with `CONFLICT` and makes nothing; sent
/// again, it finds the first's.
pub async fn remember(
    db: &impl ConnectionTrait,
    user: Uuid,
    key: &str,
    object: Uuid,
) -> AppResult<()> {
    idempotency_key::ActiveModel {
        user_id: Set(user),
        key: Set(key.to_owned()),
        object_id: Set(object),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(AppError::unique_violation(
        "idempotencyKey",
        "A request with this key is being handled; send it again to get its result.",
    ))?;
    Ok(())
}
