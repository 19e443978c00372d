//! Appending to the event log.

use chrono::Utc;
use entity::event;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QuerySelect, Set,
};
use uuid::Uuid;

use super::audience::Reader;
use super::kinds::EventKind;
use crate::error::{AppError, AppResult};

/// What a change says about itself.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventKind,
    pub actor_id: Option<Uuid>,
    pub subject_id: Uuid,
    /// The specific part of the subject (a slot, a message), if any.
    pub object_id: Option<Uuid>,
    pub organization_ids: Vec<Uuid>,
    pub topic_ids: Vec<Uuid>,
    /// Who may read it (administrators always may).
    pub audience: Vec<Reader>,
}

/// Appends an event inside the caller's transaction and returns it with its sequence number.
#[tracing::instrument(skip_all)]
pub async fn append_event(db: &impl ConnectionTrait, new: NewEvent) -> AppResult<event::Model> {
    let model = event::ActiveModel {
        seq: NotSet,
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind.as_str().to_owned()),
        actor_id: Set(new.actor_id),
        subject_id: Set(new.subject_id),
        object_id: Set(new.object_id),
        organization_ids: Set(serde_json::json!(new.organization_ids)),
        topic_ids: Set(serde_json::json!(new.topic_ids)),
        audience: Set(serde_json::to_value(&new.audience).map_err(AppError::internal)?),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(model)
}

/// The ids stored in one of an event's JSON id lists.
pub fn ids(value: &serde_json::Value) -> Vec<Uuid> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// The highest seq in the log now (0 when empty).
#[tracing::instrument(skip_all)]
pub async fn log_end(db: &impl ConnectionTrait) -> Result<i64, sea_orm::DbErr> {
    let max: Option<Option<i64>> = event::Entity::find()
        .select_only()
        .column_as(event::Column::Seq.max(), "max")
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}
