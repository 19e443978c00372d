//! Transactional logic of the news column.

use chrono::Utc;
use entity::membership::Role;
use entity::{event, news_post, news_topic};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::db::pagination::Page;
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::partners::service::existing as existing_partner;
use crate::topics::service::existing_topics;

/// A validated post.
pub struct NewsInput {
    /// A short title.
    pub title: String,
    /// The text (Markdown).
    pub body: String,
    /// Topics the post is about; their subscribers hear of it.
    pub topic_ids: Vec<Uuid>,
    /// The partner network the news comes from, if any.
    pub partner_id: Option<Uuid>,
}

/// Admins, service units' contacts and communities' mentors write the news column.
pub fn may_publish(viewer: &Viewer) -> bool {
    viewer.is_admin()
        || viewer
            .grants
            .iter()
            .any(|g| matches!(g.role, Role::Contact | Role::Mentor))
}

fn may_edit(viewer: &Viewer, post: &news_post::Model) -> bool {
    viewer.is_admin() || post.author_id == viewer.id()
}

async fn set_topics(db: &impl ConnectionTrait, post: Uuid, topics: &[Uuid]) -> AppResult<()> {
    news_topic::Entity::delete_many()
        .filter(news_topic::Column::NewsId.eq(post))
        .exec(db)
        .await?;
    if !topics.is_empty() {
        news_topic::Entity::insert_many(topics.iter().map(|t| news_topic::ActiveModel {
            news_id: Set(post),
            topic_id: Set(*t),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

async fn record(
    db: &impl ConnectionTrait,
    post: &news_post::Model,
    topics: Vec<Uuid>,
    kind: EventKind,
    actor: Uuid,
) -> AppResult<event::Model> {
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(actor),
            subject_id: post.id,
            object_id: post.meeting_id,
            organization_ids: vec![],
            topic_ids: topics,
            audience: vec![Reader::Public],
        },
    )
    .await
}

/// Publishes a post (a meeting report when `meeting_id` is set).
#[tracing::instrument(skip_all)]
pub async fn publish(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    input: NewsInput,
    meeting_id: Option<Uuid>,
) -> AppResult<(news_post::Model, event::Model)> {
    if !may_publish(viewer) {
        return Err(AppError::forbidden(
            "Admins, contacts and mentors write the news column.",
        ));
    }
    let topics = existing_topics(db, &input.topic_ids).await?;
    let partner = existing_partner(db, "partnerId", input.partner_id).await?;
    let now = Utc::now();
    let post = news_post::ActiveModel {
        id: Set(Uuid::now_v7()),
        author_id: Set(viewer.id()),
        title: Set(input.title),
        body: Set(input.body),
        meeting_id: Set(meeting_id),
        partner_id: Set(partner),
        published_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    set_topics(db, post.id, &topics).await?;
    let event = record(db, &post, topics, EventKind::NewsPublished, viewer.id()).await?;
    Ok((post, event))
}

async fn find_editable(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<news_post::Model> {
    let post = news_post::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("news post"))?;
    if !may_edit(viewer, &post) {
        return Err(AppError::forbidden(
            "Only the author or an admin may change a post.",
        ));
    }
    Ok(post)
}

/// Edits a post's text and topics.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    input: NewsInput,
) -> AppResult<(news_post::Model, event::Model)> {
    find_editable(db, viewer, id).await?;
    let topics = existing_topics(db, &input.topic_ids).await?;
    let partner = existing_partner(db, "partnerId", input.partner_id).await?;
    let post = news_post::ActiveModel {
        id: Set(id),
        title: Set(input.title),
        body: Set(input.body),
        partner_id: Set(partner),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    set_topics(db, id, &topics).await?;
    let event = record(db, &post, topics, EventKind::NewsUpdated, viewer.id()).await?;
    Ok((post, event))
}

/// Withdraws a post from the column and the feed.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn unpublish(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(news_post::Model, event::Model)> {
    let current = find_editable(db, viewer, id).await?;
    if current.published_at.is_none() {
        return Err(AppError::conflict(None, "The post is not published."));
    }
    let post = news_post::ActiveModel {
        id: Set(id),
        published_at: Set(None),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    let event = record(db, &post, vec![], EventKind::NewsUnpublished, viewer.id()).await?;
    Ok((post, event))
}

/// One page of published posts, newest first, optionally on one topic.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    topic: Option<Uuid>,
    page: &Page,
) -> AppResult<Vec<news_post::Model>> {
    use sea_orm::sea_query::Query;
    let mut query = news_post::Entity::find().filter(news_post::Column::PublishedAt.is_not_null());
    if let Some(topic) = topic {
        query = query.filter(
            news_post::Column::Id.in_subquery(
                Query::select()
                    .column(news_topic::Column::NewsId)
                    .from(news_topic::Entity)
                    .and_where(news_topic::Column::TopicId.eq(topic))
                    .to_owned(),
            ),
        );
    }
    if let Some(after) = page.after {
        query = query.filter(news_post::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(news_post::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?)
}

/// A post anyone may read (published), or any post for its author and admins.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn find_readable(
    db: &impl ConnectionTrait,
    viewer: Option<&Viewer>,
    id: Uuid,
) -> AppResult<Option<news_post::Model>> {
    Ok(news_post::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|p| p.published_at.is_some() || viewer.is_some_and(|v| may_edit(v, p))))
}
