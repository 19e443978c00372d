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

/// Renames a topic in its three languages.
#[tracing::instrument(skip_all)]
pub async fn rename_topic(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    id: Uuid,
    names: TranslatedNames,
) -> AppResult<(topic::Model, event::Model)> {
    let topic = topic::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("topic"))?;
    let mut active: topic::ActiveModel = topic.into();
    active.name_fi = Set(names.fi);
    active.name_sv = Set(names.sv);
    active.name_en = Set(names.en);
    active.updated_at = Set(Utc::now());
    let topic = active.update(db).await?;
    let event = topic_event(db, EventKind::TopicUpdated, actor, topic.id).await?;
    Ok((topic, event))
}

/// The tables that tag content with topics, each with its content column.
const TAGGED: [(&str, &str); 9] = [
    ("agenda_item_topic", "item_id"),
    ("announcement_topic", "announcement_id"),
    ("inquiry_topic", "inquiry_id"),
    ("meeting_topic", "meeting_id"),
    ("news_topic", "news_id"),
    ("project_topic", "project_id"),
    ("question_topic", "question_id"),
    ("tip_topic", "tip_id"),
    ("training_topic", "training_id"),
];

/// Merges topic `from` into `into`: everything tagged with `from` is tagged with `into` (once),
/// its followers follow `into` (someone who followed both keeps their setting for `into`), and
/// `from` is deleted. Returns the remaining topic.
#[tracing::instrument(skip_all)]
pub async fn merge_topics(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    from: Uuid,
    into: Uuid,
) -> AppResult<(topic::Model, event::Model)> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    if from == into {
        return Err(AppError::bad_input(
            "from",
            "a topic cannot be merged into itself",
        ));
    }
    let found = topic::Entity::find()
        .filter(topic::Column::Id.is_in([from, into]))
        .count(db)
        .await?;
    if found != 2 {
        return Err(AppError::NotFound("topic"));
    }
    let backend = db.get_database_backend();
    let mut tables: Vec<(&str, &str)> = TAGGED.to_vec();
    tables.push(("topic_subscription", "user_id"));
    for (table, key) in tables {
        let both = Query::select()
            .column(Alias::new(key))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("topic_id")).eq(into))
            .to_owned();
        let duplicates = Query::delete()
            .from_table(Alias::new(table))
            .and_where(Expr::col(Alias::new("topic_id")).eq(from))
            .and_where(Expr::col(Alias::new(key)).in_subquery(both))
            .to_owned();
        db.execute_raw(backend.build(&duplicates)).await?;
        let moved = Query::update()
            .table(Alias::new(table))
            .value(Alias::new("topic_id"), into)
            .and_where(Expr::col(Alias::new("topic_id")).eq(from))
            .to_owned();
        db.execute_raw(backend.build(&moved)).await?;
    }
    topic::Entity::delete_by_id(from).exec(db).await?;
    let topic = topic::Entity::find_by_id(into)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("topic"))?;
    let event = topic_event(db, EventKind::TopicMerged, actor, topic.id).await?;
    Ok((topic, event))
}

async fn topic_event(
    db: &impl ConnectionTrait,
    kind: EventKind,
    actor: Option<Uuid>,
    topic: Uuid,
) -> AppResult<event::Model> {
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: actor,
            subject_id: topic,
            object_id: None,
            organization_ids: vec![],
            topic_ids: vec![topic],
            audience: vec![Reader::Public],
        },
    )
    .await
}
