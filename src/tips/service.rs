//! Transactional logic of the tips bank.

use chrono::Utc;
use entity::inquiry_target::{self, TargetStatus};
use entity::membership::Role;
use entity::{event, inquiry, tip, tip_topic};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
};
use uuid::Uuid;

use super::search;
use crate::auth::Viewer;
use crate::db::pagination::Page;
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::inquiries::access::acts_for_inquirer;
use crate::topics::service::existing_topics;

/// A validated tip.
pub struct TipInput {
    /// A short title.
    pub title: String,
    /// The tip (Markdown).
    pub body: String,
    /// Topics the tip is about; their subscribers hear of it.
    pub topic_ids: Vec<Uuid>,
}

async fn save_topics(
    db: &impl ConnectionTrait,
    tip: Uuid,
    topics: Vec<Uuid>,
) -> AppResult<Vec<Uuid>> {
    let topics = existing_topics(db, &topics).await?;
    tip_topic::Entity::delete_many()
        .filter(tip_topic::Column::TipId.eq(tip))
        .exec(db)
        .await?;
    if !topics.is_empty() {
        tip_topic::Entity::insert_many(topics.iter().map(|t| tip_topic::ActiveModel {
            tip_id: Set(tip),
            topic_id: Set(*t),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(topics)
}

async fn record(
    db: &impl ConnectionTrait,
    tip: &tip::Model,
    topics: Vec<Uuid>,
    kind: EventKind,
    actor: Uuid,
) -> AppResult<event::Model> {
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(actor),
            subject_id: tip.id,
            object_id: None,
            organization_ids: vec![tip.organization_id],
            topic_ids: topics,
            audience: vec![Reader::Public],
        },
    )
    .await
}

async fn insert(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    organization: Uuid,
    input: TipInput,
    source: Option<Uuid>,
) -> AppResult<(tip::Model, event::Model)> {
    let now = Utc::now();
    let tip = tip::ActiveModel {
        id: Set(Uuid::now_v7()),
        author_id: Set(viewer.id()),
        organization_id: Set(organization),
        title: Set(input.title),
        body: Set(input.body),
        source_target_id: Set(source),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(AppError::unique_violation(
        "targetId",
        "This answer is already a tip.",
    ))?;
    let topics = save_topics(db, tip.id, input.topic_ids).await?;
    search::index(db, tip.id, &tip.title, &tip.body).await?;
    let event = record(db, &tip, topics, EventKind::TipCreated, viewer.id()).await?;
    Ok((tip, event))
}

/// A mentor (for their community) or a contact (for their unit) adds a tip.
#[tracing::instrument(skip_all, fields(%organization))]
pub async fn create(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    organization: Uuid,
    input: TipInput,
) -> AppResult<(tip::Model, event::Model)> {
    if !(viewer.is_admin()
        || viewer.holds(organization, Role::Mentor)
        || viewer.holds(organization, Role::Contact))
    {
        return Err(AppError::forbidden(
            "Mentors add tips for their community, contacts for their unit.",
        ));
    }
    insert(db, viewer, organization, input, None).await
}

/// The author or an admin edits a tip.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    input: TipInput,
) -> AppResult<(tip::Model, event::Model)> {
    let current = tip::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("tip"))?;
    if !(viewer.is_admin() || current.author_id == viewer.id()) {
        return Err(AppError::forbidden(
            "Only the author or an admin may edit a tip.",
        ));
    }
    let tip = tip::ActiveModel {
        id: Set(id),
        title: Set(input.title),
        body: Set(input.body),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    let topics = save_topics(db, id, input.topic_ids).await?;
    search::index(db, tip.id, &tip.title, &tip.body).await?;
    let event = record(db, &tip, topics, EventKind::TipUpdated, viewer.id()).await?;
    Ok((tip, event))
}

/// Turns a community's inquiry answer into a tip attributed to the community, once. Allowed to
/// the community's mentors, the inquiring organization and admins.
#[tracing::instrument(skip_all, fields(%target))]
pub async fn promote_answer(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    target: Uuid,
) -> AppResult<(tip::Model, event::Model)> {
    let slot = inquiry_target::Entity::find_by_id(target)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("inquiry target"))?;
    let inquiry = inquiry::Entity::find_by_id(slot.inquiry_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("inquiry"))?;
    if !(viewer.is_admin()
        || viewer.holds(slot.community_id, Role::Mentor)
        || acts_for_inquirer(viewer, &inquiry))
    {
        return Err(AppError::forbidden(
            "The community's mentors or the inquirer promote answers.",
        ));
    }
    let (Some(answer), TargetStatus::Answered) = (slot.answer.clone(), slot.status) else {
        return Err(AppError::bad_input(
            "targetId",
            "only an answered target can become a tip",
        ));
    };
    let topics = entity::inquiry_topic::Entity::find()
        .filter(entity::inquiry_topic::Column::InquiryId.eq(inquiry.id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.topic_id)
        .collect();
    let input = TipInput {
        title: inquiry.title.clone(),
        body: answer,
        topic_ids: topics,
    };
    insert(db, viewer, slot.community_id, input, Some(slot.id)).await
}

/// Tips, by search words (ranked) or newest first, optionally on one topic.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    search_query: Option<&str>,
    topic: Option<Uuid>,
    page: &Page,
) -> AppResult<Vec<tip::Model>> {
    // The tips of the topic as a subquery: never a parameter list that grows with the data.
    let in_topic = |topic: Uuid| {
        tip::Column::Id.in_subquery(
            tip_topic::Entity::find()
                .select_only()
                .column(tip_topic::Column::TipId)
                .filter(tip_topic::Column::TopicId.eq(topic))
                .into_query(),
        )
    };
    match search_query.map(search::words) {
        Some(words) => {
            // At most `search::MAX_CANDIDATES` ids, best first.
            let candidates = search::ranked_ids(db, &words).await?;
            let mut query = tip::Entity::find().filter(tip::Column::Id.is_in(candidates.clone()));
            if let Some(topic) = topic {
                query = query.filter(in_topic(topic));
            }
            let mut found: std::collections::HashMap<Uuid, tip::Model> = query
                .all(db)
                .await?
                .into_iter()
                .map(|t| (t.id, t))
                .collect();
            Ok(candidates
                .into_iter()
                .filter_map(|id| found.remove(&id))
                .take(page.fetch_limit() as usize)
                .collect())
        }
        None => {
            let mut query = tip::Entity::find();
            if let Some(topic) = topic {
                query = query.filter(in_topic(topic));
            }
            if let Some(after) = page.after {
                query = query.filter(tip::Column::Id.lt(after));
            }
            Ok(query
                .order_by_desc(tip::Column::Id)
                .limit(page.fetch_limit())
                .all(db)
                .await?)
        }
    }
}
