//! Writing and reading audit entries.

use chrono::Utc;
use entity::audit_entry;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PrimaryKeyTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};
use serde_json::Value;
use uuid::Uuid;

use crate::db::pagination::Page;
use crate::error::AppResult;

/// Columns never copied into the log: secrets and stored email bodies.
const LEFT_OUT: &[&str] = &["password_hash", "token_hash", "payload", "secret"];

/// The row of `E` with this id as JSON, secrets left out; `None` when there is none.
pub async fn snapshot<E>(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<Value>>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    Ok(E::find_by_id(id).into_json().one(db).await?.map(redact))
}

fn redact(mut row: Value) -> Value {
    if let Value::Object(fields) = &mut row {
        for column in LEFT_OUT {
            fields.remove(*column);
        }
    }
    row
}

/// One action to record.
pub struct Action<'a> {
    /// The administrator, or `None` for the operator's command line.
    pub actor: Option<Uuid>,
    /// The mutation or command, e.g. `updateOrganization`.
    pub name: &'a str,
    /// The record it acted on.
    pub subject: Option<Uuid>,
}

impl<'a> Action<'a> {
    /// An administrator's action `name` on the record `subject`.
    pub fn by(actor: Uuid, name: &'a str, subject: Uuid) -> Self {
        Self {
            actor: Some(actor),
            name,
            subject: Some(subject),
        }
    }
}

/// Appends an entry.
pub async fn record(
    db: &impl ConnectionTrait,
    action: Action<'_>,
    before: Option<Value>,
    after: Option<Value>,
) -> AppResult<()> {
    audit_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_id: Set(action.actor),
        action: Set(action.name.to_owned()),
        subject_id: Set(action.subject),
        before: Set(before.map(|v| v.to_string())),
        after: Set(after.map(|v| v.to_string())),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Runs `work` on the row of `E` with this id and records the row before and after it.
pub async fn around<E, O>(
    db: &impl ConnectionTrait,
    action: Action<'_>,
    work: impl AsyncFnOnce() -> AppResult<O>,
) -> AppResult<O>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    let before = match action.subject {
        Some(id) => snapshot::<E>(db, id).await?,
        None => None,
    };
    let done = work().await?;
    let after = match action.subject {
        Some(id) => snapshot::<E>(db, id).await?,
        None => None,
    };
    record(db, action, before, after).await?;
    Ok(done)
}

/// Records a row `work` created (its id returned by `id_of`).
pub async fn created<E, O>(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    name: &str,
    work: impl AsyncFnOnce() -> AppResult<O>,
    id_of: impl FnOnce(&O) -> Uuid,
) -> AppResult<O>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    let done = work().await?;
    record_created::<E>(db, actor, name, id_of(&done)).await?;
    Ok(done)
}

/// Records the row of `E` with this id as created.
pub async fn record_created<E>(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    name: &str,
    id: Uuid,
) -> AppResult<()>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    let after = snapshot::<E>(db, id).await?;
    let action = Action {
        actor,
        name,
        subject: Some(id),
    };
    record(db, action, None, after).await
}

/// The rows a query selects, as a JSON array, secrets left out.
pub async fn snapshot_rows<E: EntityTrait>(
    db: &impl ConnectionTrait,
    query: Select<E>,
) -> AppResult<Value> {
    let rows = query.into_json().all(db).await?;
    Ok(Value::Array(rows.into_iter().map(redact).collect()))
}

/// Entries newest first, optionally of one action or about one record.
pub async fn list(
    db: &impl ConnectionTrait,
    action: Option<&str>,
    subject: Option<Uuid>,
    page: &Page,
) -> AppResult<Vec<audit_entry::Model>> {
    let mut query = audit_entry::Entity::find();
    if let Some(action) = action {
        query = query.filter(audit_entry::Column::Action.eq(action));
    }
    if let Some(subject) = subject {
        query = query.filter(audit_entry::Column::SubjectId.eq(subject));
    }
    if let Some(after) = page.after {
        query = query.filter(audit_entry::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(audit_entry::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?)
}
