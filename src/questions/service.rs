//! Transactional logic of questions. Every write appends its event in the caller's transaction.

use chrono::Utc;
use entity::membership::Role;
use entity::organization::OrganizationKind;
use entity::question::{self, Decision, QuestionKind, QuestionStatus};
use entity::{event, organization, question_topic};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::access;
use crate::auth::Viewer;
use crate::db::pagination::Page;
use crate::directory::service::is_community;
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::topics::service::existing_topics;

/// A validated new question.
pub struct NewQuestion {
    pub community_id: Uuid,
    pub title: String,
    pub body: String,
    pub topic_ids: Vec<Uuid>,
    /// The asker wishes the service unit not to see their name (the mentor decides).
    pub hide_wish: bool,
    /// A question, a wish or a view.
    pub kind: QuestionKind,
}

/// Loads a question the viewer may read, else `NOT_FOUND`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn load_readable(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<question::Model> {
    question::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|q| access::can_read(viewer, q))
        .ok_or(AppError::NotFound("question"))
}

async fn topic_ids(db: &impl ConnectionTrait, question: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(question_topic::Entity::find()
        .filter(question_topic::Column::QuestionId.eq(question))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.topic_id)
        .collect())
}

/// Who may read events about a question in its current state.
fn readers(q: &question::Model) -> Vec<Reader> {
    let mut readers = vec![
        Reader::User { id: q.asker_id },
        Reader::role_in(q.community_id, Role::Mentor),
    ];
    if let Some(unit) = q.service_unit_id {
        readers.push(Reader::role_in(unit, Role::Contact));
    }
    readers
}

async fn record(
    db: &impl ConnectionTrait,
    q: &question::Model,
    kind: EventKind,
    actor: Uuid,
) -> AppResult<event::Model> {
    let mut organization_ids = vec![q.community_id];
    organization_ids.extend(q.service_unit_id);
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(actor),
            subject_id: q.id,
            object_id: None,
            organization_ids,
            topic_ids: topic_ids(db, q.id).await?,
            audience: readers(q),
        },
    )
    .await
}

/// A staff member (or mentor) of a community asks their mentors.
#[tracing::instrument(skip_all)]
pub async fn ask_question(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    new: NewQuestion,
) -> AppResult<(question::Model, event::Model)> {
    let community = organization::Entity::find_by_id(new.community_id)
        .one(db)
        .await?
        .filter(|o| is_community(o.kind))
        .ok_or_else(|| AppError::bad_input("communityId", "no such community"))?;
    if !(viewer.holds(community.id, Role::Member) || viewer.holds(community.id, Role::Mentor)) {
        return Err(AppError::forbidden(
            "You can ask only in a community you belong to.",
        ));
    }
    let topics = existing_topics(db, &new.topic_ids).await?;
    let now = Utc::now();
    let q = question::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(community.id),
        asker_id: Set(viewer.id()),
        title: Set(new.title),
        body: Set(new.body),
        status: Set(QuestionStatus::Submitted),
        service_unit_id: Set(None),
        forward_note: Set(None),
        hide_asker: Set(false),
        hide_wish: Set(new.hide_wish),
        forwarded_by: Set(None),
        forwarded_at: Set(None),
        answer: Set(None),
        answered_by: Set(None),
        answered_at: Set(None),
        close_reason: Set(None),
        duplicate_of: Set(None),
        closed_by: Set(None),
        closed_at: Set(None),
        kind: Set(new.kind),
        decision: Set(None),
        decision_reason: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    if !topics.is_empty() {
        question_topic::Entity::insert_many(topics.iter().map(|t| question_topic::ActiveModel {
            question_id: Set(q.id),
            topic_id: Set(*t),
        }))
        .exec(db)
        .await?;
    }
    let event = record(db, &q, EventKind::QuestionSubmitted, viewer.id()).await?;
    Ok((q, event))
}

/// Loads a question for a mentor of its community to act on while it is still in their hands.
async fn for_triage(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<question::Model> {
    let q = load_readable(db, viewer, id).await?;
    if !viewer.holds(q.community_id, Role::Mentor) {
        return Err(AppError::forbidden(
            "Only the community's mentors triage its questions.",
        ));
    }
    Ok(q)
}

fn require_status(q: &question::Model, allowed: &[QuestionStatus], action: &str) -> AppResult<()> {
    if allowed.contains(&q.status) {
        Ok(())
    } else {
        Err(AppError::conflict(
            None,
            format!("A question that is {:?} cannot be {action}.", q.status).to_lowercase(),
        ))
    }
}

/// A mentor forwards a question to a service unit, optionally hiding who asked.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn forward_question(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    service_unit: Uuid,
    note: Option<String>,
    hide_asker: bool,
) -> AppResult<(question::Model, event::Model)> {
    let q = for_triage(db, viewer, id).await?;
    require_status(&q, &[QuestionStatus::Submitted], "forwarded")?;
    let unit = organization::Entity::find_by_id(service_unit)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("serviceUnitId", "no such organization"))?;
    if unit.kind != OrganizationKind::ServiceUnit {
        return Err(AppError::bad_input(
            "serviceUnitId",
            format!("{} is not a service unit", unit.slug),
        ));
    }
    let now = Utc::now();
    let q = question::ActiveModel {
        id: Set(q.id),
        status: Set(QuestionStatus::Forwarded),
        service_unit_id: Set(Some(unit.id)),
        forward_note: Set(note),
        hide_asker: Set(hide_asker),
        forwarded_by: Set(Some(viewer.id())),
        forwarded_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    let event = record(db, &q, EventKind::QuestionForwarded, viewer.id()).await?;
    Ok((q, event))
}

/// Answers a question: a mentor while it is with the community, a contact of the service unit
/// once it has been forwarded there.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn answer_question(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    answer: String,
) -> AppResult<(question::Model, event::Model)> {
    let q = load_readable(db, viewer, id).await?;
    let allowed = match q.status {
        QuestionStatus::Submitted => viewer.holds(q.community_id, Role::Mentor),
        QuestionStatus::Forwarded => access::sees_as_contact(viewer, &q),
        QuestionStatus::Answered | QuestionStatus::Closed => {
            return Err(AppError::conflict(
                None,
                "The question has already been answered or closed.",
            ));
        }
    };
    if !allowed {
        return Err(AppError::forbidden(
            "A question is answered by its community's mentors, or by the service unit it was forwarded to.",
        ));
    }
    let now = Utc::now();
    let q = question::ActiveModel {
        id: Set(q.id),
        status: Set(QuestionStatus::Answered),
        answer: Set(Some(answer)),
        answered_by: Set(Some(viewer.id())),
        answered_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    let event = record(db, &q, EventKind::QuestionAnswered, viewer.id()).await?;
    Ok((q, event))
}

/// A mentor closes a question, e.g. as a duplicate of another in the same community.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn close_question(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    reason: String,
    duplicate_of: Option<Uuid>,
) -> AppResult<(question::Model, event::Model)> {
    let q = for_triage(db, viewer, id).await?;
    require_status(
        &q,
        &[QuestionStatus::Submitted, QuestionStatus::Forwarded],
        "closed",
    )?;
    if let Some(original) = duplicate_of {
        let same_community = question::Entity::find_by_id(original)
            .one(db)
            .await?
            .is_some_and(|o| o.community_id == q.community_id);
        if original == q.id || !same_community {
            return Err(AppError::bad_input(
                "duplicateOf",
                "must be another question of the same community",
            ));
        }
    }
    let now = Utc::now();
    let q = question::ActiveModel {
        id: Set(q.id),
        status: Set(QuestionStatus::Closed),
        close_reason: Set(Some(reason)),
        duplicate_of: Set(duplicate_of),
        closed_by: Set(Some(viewer.id())),
        closed_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    let event = record(db, &q, EventKind::QuestionClosed, viewer.id()).await?;
    Ok((q, event))
}

/// The service unit a wish or a view was forwarded to records what happens to it — noted,
/// planned, done, or not possible (which needs a reason) — and may change it later; the asker
/// and the community's mentors are told each time. The first decision is the unit's response:
/// the item leaves the unit's queue as answered. A question proper is answered instead
/// (`CONFLICT`), as is anything not (or no longer) with a unit.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn decide_question(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    decision: Decision,
    reason: Option<String>,
) -> AppResult<(question::Model, event::Model)> {
    let q = load_readable(db, viewer, id).await?;
    if !(viewer.is_admin() || access::sees_as_contact(viewer, &q)) {
        return Err(AppError::forbidden(
            "Only the service unit a wish or a view was forwarded to decides about it.",
        ));
    }
    if q.kind == QuestionKind::Question {
        return Err(AppError::conflict(
            None,
            "A question is answered; only a wish or a view gets a decision.",
        ));
    }
    if q.service_unit_id.is_none() {
        return Err(AppError::conflict(
            None,
            "It has not been forwarded to a service unit.",
        ));
    }
    require_status(
        &q,
        &[QuestionStatus::Forwarded, QuestionStatus::Answered],
        "decided",
    )?;
    if decision == Decision::NotPossible && reason.is_none() {
        return Err(AppError::bad_input("reason", "say why it is not possible"));
    }
    let now = Utc::now();
    let q = question::ActiveModel {
        id: Set(q.id),
        status: Set(QuestionStatus::Answered),
        answered_at: Set(Some(q.answered_at.unwrap_or(now))),
        decision: Set(Some(decision)),
        decision_reason: Set(reason),
        decided_by: Set(Some(viewer.id())),
        decided_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    let event = record(db, &q, EventKind::QuestionDecided, viewer.id()).await?;
    Ok((q, event))
}

/// Filters of the question list.
#[derive(Debug, Default, Clone)]
pub struct QuestionFilter {
    pub status: Option<QuestionStatus>,
    pub kind: Option<QuestionKind>,
    pub community: Option<Uuid>,
    pub service_unit: Option<Uuid>,
}

/// One page of the questions the viewer may read, newest first.
#[tracing::instrument(skip_all)]
pub async fn list_questions(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    filter: &QuestionFilter,
    page: &Page,
) -> AppResult<Vec<question::Model>> {
    let mut query = question::Entity::find().filter(access::readable_condition(viewer));
    if let Some(status) = filter.status {
        query = query.filter(question::Column::Status.eq(status));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(question::Column::Kind.eq(kind));
    }
    if let Some(community) = filter.community {
        query = query.filter(question::Column::CommunityId.eq(community));
    }
    if let Some(unit) = filter.service_unit {
        query = query.filter(question::Column::ServiceUnitId.eq(unit));
    }
    if let Some(after) = page.after {
        query = query.filter(question::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(question::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?)
}
