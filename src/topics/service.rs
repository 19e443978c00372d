//! Transactional logic of topics.

use chrono::Utc;
use entity::{event, topic};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::values::{Slug, TranslatedNames};

/// The distinct topic ids of an input, in a stable order, after checking that each exists;
/// an unknown one is `BAD_USER_INPUT` on `topicIds`.
#[tracing::instrument(skip_all)]
pub async fn existing_topics(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<Uuid>> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    let found = topic::Entity::find()
        .filter(topic::Column::Id.is_in(ids.iter().copied()))
        .count(db)
        .await?;
    if found != ids.len() as u64 {
        return Err(AppError::bad_input(
            "topicIds",
            "names a topic that does not exist",
        ));
    }
    Ok(ids)
}

/// All topics, by slug.
#[tracing::instrument(skip_all)]
pub async fn list_topics(db: &impl ConnectionTrait) -> AppResult<Vec<topic::Model>> {
    Ok(topic::Entity::find()
        .order_by_asc(topic::Column::Slug)
        .all(db)
        .await?)
}

/// Creates a topic.
#[tracing::instrument(skip_all)]
pub async fn create_topic(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    slug: Slug,
    names: TranslatedNames,
) -> AppResult<(topic::Model, event::Model)> {
    let now = Utc::now();
    let topic = topic::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(slug.into_inner()),
        name_fi: Set(names.fi),
        name_sv: Set(names.sv),
        name_en: Set(names.en),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(AppError::unique_violation(
        "slug",
        "A topic with this slug already exists.",
    ))?;
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::TopicCreated,
            actor_id: actor,
            subject_id: topic.id,
            object_id: None,
            organization_ids: vec![],
            topic_ids: vec![topic.id],
            audience: vec![Reader::Public],
        },
    )
    .await?;
    Ok((topic, event))
}
