//! Transactional logic of inquiries. Every write appends its event in the caller's transaction.

use chrono::{DateTime, Utc};
use entity::inquiry::{self, InquiryStatus};
use entity::inquiry_target::{self, TargetStatus};
use entity::membership::Role;
use entity::organization::OrganizationKind;
use entity::{event, inquiry_answer_revision, inquiry_message, inquiry_topic, organization, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
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

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest Markdown body, answer or message, in characters.
pub const MAX_BODY: usize = 20_000;

/// Which communities an inquiry addresses.
#[derive(Debug, Clone)]
pub enum Addressees {
    All,
    Some(Vec<Uuid>),
}

/// A validated new inquiry.
pub struct NewInquiry {
    pub organization_id: Uuid,
    pub title: String,
    pub body: String,
    pub topic_ids: Vec<Uuid>,
    pub deadline: Option<DateTime<Utc>>,
    pub addressees: Addressees,
    pub answers_shared: bool,
}

/// An inquiry with all of its slots.
pub struct LoadedInquiry {
    pub inquiry: inquiry::Model,
    pub targets: Vec<inquiry_target::Model>,
}

impl LoadedInquiry {
    fn communities(&self) -> Vec<Uuid> {
        self.targets.iter().map(|t| t.community_id).collect()
    }

    /// Whether `viewer` may read the inquiry (see [`access::can_read`]).
    pub fn readable_by(&self, viewer: &Viewer) -> bool {
        access::can_read(viewer, &self.inquiry, &self.communities())
    }

    fn inquiry_event(
        &self,
        topics: Vec<Uuid>,
        kind: EventKind,
        actor: Uuid,
        audience: Vec<Reader>,
    ) -> NewEvent {
        let mut organization_ids = vec![self.inquiry.organization_id];
        organization_ids.extend(self.communities());
        NewEvent {
            kind,
            actor_id: Some(actor),
            subject_id: self.inquiry.id,
            object_id: None,
            organization_ids,
            topic_ids: topics,
            audience,
        }
    }

    /// Who may read inquiry-wide events: the inquirer, leads and every addressed community.
    fn everyone(&self) -> Vec<Reader> {
        let mut audience = vec![
            Reader::organization(self.inquiry.organization_id),
            Reader::Leads,
        ];
        audience.extend(self.communities().into_iter().map(Reader::organization));
        audience
    }

    /// Who may read an event about one slot.
    fn slot_readers(&self, slot: &inquiry_target::Model) -> Vec<Reader> {
        if self.inquiry.answers_shared {
            return self.everyone();
        }
        vec![
            Reader::organization(self.inquiry.organization_id),
            Reader::Leads,
            Reader::organization(slot.community_id),
        ]
    }
}

/// Loads an inquiry and its slots, or `NOT_FOUND` when it does not exist or the viewer may not
/// know that it exists.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn load_readable(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<LoadedInquiry> {
    match load(db, id).await? {
        Some(loaded) if loaded.readable_by(viewer) => Ok(loaded),
        _ => Err(AppError::NotFound("inquiry")),
    }
}

/// The inquiry alone, if `viewer` may read it: one statement, the slots are not read.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn find_readable(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<inquiry::Model>> {
    Ok(inquiry::Entity::find_by_id(id)
        .filter(access::readable_condition(viewer))
        .one(db)
        .await?)
}

/// Loads an inquiry and its slots, whoever asks (callers check [`LoadedInquiry::readable_by`]).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<LoadedInquiry>> {
    let Some(inquiry) = inquiry::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let targets = inquiry_target::Entity::find()
        .filter(inquiry_target::Column::InquiryId.eq(id))
        .order_by_asc(inquiry_target::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(Some(LoadedInquiry { inquiry, targets }))
}

async fn topic_ids(db: &impl ConnectionTrait, inquiry: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(inquiry_topic::Entity::find()
        .filter(inquiry_topic::Column::InquiryId.eq(inquiry))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.topic_id)
        .collect())
}

/// The organization `viewer` sends something for (`what`, "post inquiries"): management, as
/// one of its leads, or a service unit, as one of its contacts.
pub async fn sending_organization(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    what: &str,
) -> AppResult<organization::Model> {
    let org = organization::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("organizationId", "no such organization"))?;
    let role = match org.kind {
        OrganizationKind::Management => Role::Lead,
        OrganizationKind::ServiceUnit => Role::Contact,
        _ => {
            return Err(AppError::bad_input(
                "organizationId",
                format!("only management and service units {what}"),
            ));
        }
    };
    if !viewer.holds(org.id, role) {
        return Err(AppError::forbidden(format!(
            "Only the organization's leads or contacts may {what} on its behalf."
        )));
    }
    Ok(org)
}

/// Creates a draft inquiry with one pending slot per addressed community.
#[tracing::instrument(skip_all)]
pub async fn create_inquiry(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    new: NewInquiry,
) -> AppResult<(inquiry::Model, event::Model)> {
    let org = sending_organization(db, viewer, new.organization_id, "post inquiries").await?;
    let (topics, communities) = checked_targets(db, &new).await?;

    let now = Utc::now();
    let inquiry = inquiry::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.id),
        author_id: Set(viewer.id()),
        title: Set(new.title),
        body: Set(new.body),
        deadline: Set(new.deadline),
        status: Set(InquiryStatus::Draft),
        all_communities: Set(matches!(new.addressees, Addressees::All)),
        answers_shared: Set(new.answers_shared),
        published_at: Set(None),
        closed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    insert_topics_and_slots(db, inquiry.id, &topics, &communities, now).await?;
    let event = draft_event(db, EventKind::InquiryCreated, viewer, &inquiry, topics).await?;
    Ok((inquiry, event))
}

/// The event of a draft written or changed: only its organization hears of it.
async fn draft_event(
    db: &impl ConnectionTrait,
    kind: EventKind,
    viewer: &Viewer,
    inquiry: &inquiry::Model,
    topics: Vec<Uuid>,
) -> AppResult<event::Model> {
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(viewer.id()),
            subject_id: inquiry.id,
            object_id: None,
            organization_ids: vec![inquiry.organization_id],
            topic_ids: topics,
            audience: vec![Reader::organization(inquiry.organization_id)],
        },
    )
    .await
}

/// What a new or edited draft names, checked: a deadline in the future, the topics that exist,
/// and the addressed communities.
async fn checked_targets(
    db: &impl ConnectionTrait,
    new: &NewInquiry,
) -> AppResult<(Vec<Uuid>, Vec<Uuid>)> {
    if new.deadline.is_some_and(|d| d <= Utc::now()) {
        return Err(AppError::bad_input("deadline", "must be in the future"));
    }
    let topics = existing_topics(db, &new.topic_ids).await?;
    let communities = addressed_communities(db, &new.addressees).await?;
    Ok((topics, communities))
}

/// The topics and one pending slot per community of a draft.
async fn insert_topics_and_slots(
    db: &impl ConnectionTrait,
    inquiry: Uuid,
    topics: &[Uuid],
    communities: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !topics.is_empty() {
        inquiry_topic::Entity::insert_many(topics.iter().map(|t| inquiry_topic::ActiveModel {
            inquiry_id: Set(inquiry),
            topic_id: Set(*t),
        }))
        .exec(db)
        .await?;
    }
    inquiry_target::Entity::insert_many(communities.iter().map(|c| inquiry_target::ActiveModel {
        id: Set(Uuid::now_v7()),
        inquiry_id: Set(inquiry),
        community_id: Set(*c),
        status: Set(TargetStatus::Pending),
        answer: Set(None),
        decline_reason: Set(None),
        version: Set(0),
        answered_by: Set(None),
        answered_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// Changes a draft: its text, deadline, topics and addressees (its slots are made again; a
/// draft has no answers). Only the inquiring organization, only while it is a draft, and it
/// stays with its organization.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update_draft(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    new: NewInquiry,
) -> AppResult<(inquiry::Model, event::Model)> {
    let loaded = load_readable(db, viewer, id).await?;
    require_inquirer(viewer, &loaded.inquiry)?;
    if loaded.inquiry.status != InquiryStatus::Draft {
        return Err(AppError::conflict(
            None,
            "Only a draft can be edited; this inquiry is published.",
        ));
    }
    if new.organization_id != loaded.inquiry.organization_id {
        return Err(AppError::bad_input(
            "organizationId",
            "a draft stays with the organization it was written for",
        ));
    }
    let (topics, communities) = checked_targets(db, &new).await?;
    let now = Utc::now();
    let inquiry = inquiry::ActiveModel {
        id: Set(id),
        title: Set(new.title),
        body: Set(new.body),
        deadline: Set(new.deadline),
        all_communities: Set(matches!(new.addressees, Addressees::All)),
        answers_shared: Set(new.answers_shared),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    inquiry_topic::Entity::delete_many()
        .filter(inquiry_topic::Column::InquiryId.eq(id))
        .exec(db)
        .await?;
    inquiry_target::Entity::delete_many()
        .filter(inquiry_target::Column::InquiryId.eq(id))
        .exec(db)
        .await?;
    insert_topics_and_slots(db, id, &topics, &communities, now).await?;
    let event = draft_event(db, EventKind::InquiryDraftUpdated, viewer, &inquiry, topics).await?;
    Ok((inquiry, event))
}

/// The communities an inquiry (or an announcement) addresses, each once, after checking them.
pub async fn addressed_communities(
    db: &impl ConnectionTrait,
    addressees: &Addressees,
) -> AppResult<Vec<Uuid>> {
    let communities = [OrganizationKind::Faculty, OrganizationKind::EducationUnit];
    match addressees {
        Addressees::All => {
            let all: Vec<Uuid> = organization::Entity::find()
                .filter(organization::Column::Kind.is_in(communities))
                .order_by_asc(organization::Column::NameEn)
                .all(db)
                .await?
                .into_iter()
                .map(|o| o.id)
                .collect();
            if all.is_empty() {
                return Err(AppError::bad_input(
                    "communityIds",
                    "the network has no communities yet",
                ));
            }
            Ok(all)
        }
        Addressees::Some(ids) => {
            let mut ids = ids.clone();
            ids.sort();
            ids.dedup();
            if ids.is_empty() {
                return Err(AppError::bad_input(
                    "communityIds",
                    "address at least one community, or all of them",
                ));
            }
            let found = organization::Entity::find()
                .filter(organization::Column::Id.is_in(ids.iter().copied()))
                .all(db)
                .await?;
            if found.len() != ids.len() {
                return Err(AppError::bad_input(
                    "communityIds",
                    "names an organization that does not exist",
                ));
            }
            if let Some(other) = found.iter().find(|o| !is_community(o.kind)) {
                return Err(AppError::bad_input(
                    "communityIds",
                    format!("{} is not a community", other.slug),
                ));
            }
            Ok(ids)
        }
    }
}

/// Opens a draft for answers.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn publish_inquiry(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(inquiry::Model, event::Model)> {
    let loaded = load_readable(db, viewer, id).await?;
    require_inquirer(viewer, &loaded.inquiry)?;
    if loaded.inquiry.status != InquiryStatus::Draft {
        return Err(AppError::conflict(
            None,
            "The inquiry is already published.",
        ));
    }
    if loaded.inquiry.deadline.is_some_and(|d| d <= Utc::now()) {
        return Err(AppError::bad_input(
            "deadline",
            "has passed; set a new deadline before publishing",
        ));
    }
    let now = Utc::now();
    let change = inquiry::ActiveModel {
        id: Set(id),
        status: Set(InquiryStatus::Open),
        published_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    };
    transition(db, &loaded, change, EventKind::InquiryPublished, viewer).await
}

/// Ends an open inquiry: no more answers.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn close_inquiry(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(inquiry::Model, event::Model)> {
    let loaded = load_readable(db, viewer, id).await?;
    require_inquirer(viewer, &loaded.inquiry)?;
    if loaded.inquiry.status != InquiryStatus::Open {
        return Err(AppError::conflict(
            None,
            "Only an open inquiry can be closed.",
        ));
    }
    let now = Utc::now();
    let change = inquiry::ActiveModel {
        id: Set(id),
        status: Set(InquiryStatus::Closed),
        closed_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    };
    transition(db, &loaded, change, EventKind::InquiryClosed, viewer).await
}

/// Saves a status change and appends its inquiry-wide event.
async fn transition(
    db: &impl ConnectionTrait,
    loaded: &LoadedInquiry,
    change: inquiry::ActiveModel,
    kind: EventKind,
    viewer: &Viewer,
) -> AppResult<(inquiry::Model, event::Model)> {
    let inquiry = change.update(db).await?;
    let topics = topic_ids(db, inquiry.id).await?;
    let new = loaded.inquiry_event(topics, kind, viewer.id(), loaded.everyone());
    let event = append_event(db, new).await?;
    Ok((inquiry, event))
}

fn require_inquirer(viewer: &Viewer, inquiry: &inquiry::Model) -> AppResult<()> {
    if viewer.is_admin() || access::acts_for_inquirer(viewer, inquiry) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only the inquiring organization may do this.",
        ))
    }
}

/// What a mentor writes into a slot.
pub enum SlotResponse {
    Answer(String),
    Decline(String),
}

/// Answers or declines on behalf of a community. `expected_version` must be the slot's current
/// version; otherwise a co-mentor changed it meanwhile and the write is refused with `CONFLICT`
/// naming them. The replaced state is kept as a revision. Returns the slot with its inquiry.
#[tracing::instrument(skip_all, fields(%target_id))]
pub async fn respond_to_inquiry(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    target_id: Uuid,
    response: SlotResponse,
    expected_version: i32,
) -> AppResult<(inquiry_target::Model, inquiry::Model, event::Model)> {
    let slot = inquiry_target::Entity::find_by_id(target_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("inquiry target"))?;
    let loaded = load_readable(db, viewer, slot.inquiry_id)
        .await
        .map_err(|_| AppError::NotFound("inquiry target"))?;
    if !viewer.holds(slot.community_id, Role::Mentor) {
        return Err(AppError::forbidden(
            "Only the community's mentors may answer for it.",
        ));
    }
    if loaded.inquiry.status != InquiryStatus::Open {
        return Err(AppError::conflict(
            None,
            "The inquiry is closed: answers can no longer change.",
        ));
    }
    if slot.version != expected_version {
        return Err(stale_version(db, &slot).await);
    }
    if slot.version > 0 {
        inquiry_answer_revision::ActiveModel {
            id: Set(Uuid::now_v7()),
            target_id: Set(slot.id),
            version: Set(slot.version),
            status: Set(slot.status),
            answer: Set(slot.answer.clone()),
            decline_reason: Set(slot.decline_reason.clone()),
            author_id: Set(slot.answered_by),
            written_at: Set(slot.updated_at),
            created_at: Set(Utc::now()),
        }
        .insert(db)
        .await
        .map_err(AppError::unique_violation(
            "expectedVersion",
            "Another mentor saved this target at the same moment; reload it.",
        ))?;
    }
    let (status, answer, reason, kind) = match response {
        SlotResponse::Answer(text) => (
            TargetStatus::Answered,
            Some(text),
            None,
            EventKind::InquiryAnswered,
        ),
        SlotResponse::Decline(text) => (
            TargetStatus::Declined,
            None,
            Some(text),
            EventKind::InquiryDeclined,
        ),
    };
    let now = Utc::now();
    // Conditional on the version, so two mentors racing cannot both win.
    let updated = inquiry_target::Entity::update_many()
        .col_expr(inquiry_target::Column::Status, Expr::value(status))
        .col_expr(inquiry_target::Column::Answer, Expr::value(answer))
        .col_expr(inquiry_target::Column::DeclineReason, Expr::value(reason))
        .col_expr(
            inquiry_target::Column::Version,
            Expr::value(expected_version + 1),
        )
        .col_expr(
            inquiry_target::Column::AnsweredBy,
            Expr::value(Some(viewer.id())),
        )
        .col_expr(inquiry_target::Column::AnsweredAt, Expr::value(Some(now)))
        .col_expr(inquiry_target::Column::UpdatedAt, Expr::value(now))
        .filter(
            Condition::all()
                .add(inquiry_target::Column::Id.eq(slot.id))
                .add(inquiry_target::Column::Version.eq(expected_version)),
        )
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(stale_version(db, &slot).await);
    }
    let slot = inquiry_target::Entity::find_by_id(slot.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("inquiry target"))?;
    let topics = topic_ids(db, loaded.inquiry.id).await?;
    let event = append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(viewer.id()),
            subject_id: loaded.inquiry.id,
            object_id: Some(slot.id),
            organization_ids: vec![loaded.inquiry.organization_id, slot.community_id],
            topic_ids: topics,
            audience: loaded.slot_readers(&slot),
        },
    )
    .await?;
    Ok((slot, loaded.inquiry, event))
}

/// The `CONFLICT` for a stale version, naming who changed the slot and when.
async fn stale_version(db: &impl ConnectionTrait, seen: &inquiry_target::Model) -> AppError {
    let current = match inquiry_target::Entity::find_by_id(seen.id).one(db).await {
        Ok(Some(current)) => current,
        Ok(None) => return AppError::NotFound("inquiry target"),
        Err(err) => return err.into(),
    };
    let who = match current.answered_by {
        Some(id) => user::Entity::find_by_id(id)
            .one(db)
            .await
            .ok()
            .flatten()
            .map(|u| u.display_name)
            .unwrap_or_else(|| "another mentor".into()),
        None => "another mentor".into(),
    };
    let when = current.updated_at.format("%Y-%m-%d %H:%M UTC");
    AppError::conflict(
        Some("expectedVersion"),
        format!(
            "{who} changed this answer at {when} (now version {}); reload it and merge your changes.",
            current.version
        ),
    )
}

/// Posts a follow-up message on a slot's thread.
#[tracing::instrument(skip_all, fields(%target_id))]
pub async fn post_message(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    target_id: Uuid,
    body: String,
) -> AppResult<(inquiry_message::Model, event::Model)> {
    let slot = inquiry_target::Entity::find_by_id(target_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("inquiry target"))?;
    let loaded = load_readable(db, viewer, slot.inquiry_id)
        .await
        .map_err(|_| AppError::NotFound("inquiry target"))?;
    if loaded.inquiry.status == InquiryStatus::Draft {
        return Err(AppError::conflict(
            None,
            "The inquiry is not published yet.",
        ));
    }
    let organization_id = if access::acts_for_inquirer(viewer, &loaded.inquiry) {
        loaded.inquiry.organization_id
    } else if viewer.holds(slot.community_id, Role::Mentor) {
        slot.community_id
    } else {
        return Err(AppError::forbidden(
            "Only the inquiring organization and the community's mentors write in this thread.",
        ));
    };
    let message = inquiry_message::ActiveModel {
        id: Set(Uuid::now_v7()),
        target_id: Set(slot.id),
        author_id: Set(viewer.id()),
        organization_id: Set(organization_id),
        body: Set(body),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::InquiryMessagePosted,
            actor_id: Some(viewer.id()),
            subject_id: loaded.inquiry.id,
            object_id: Some(message.id),
            organization_ids: vec![loaded.inquiry.organization_id, slot.community_id],
            topic_ids: topic_ids(db, loaded.inquiry.id).await?,
            audience: vec![
                Reader::organization(loaded.inquiry.organization_id),
                Reader::Leads,
                Reader::role_in(slot.community_id, Role::Mentor),
            ],
        },
    )
    .await?;
    Ok((message, event))
}

/// Filters of the inquiry list.
#[derive(Debug, Default, Clone)]
pub struct InquiryFilter {
    pub status: Option<InquiryStatus>,
    pub topic: Option<Uuid>,
    pub organization: Option<Uuid>,
    /// Only open inquiries where one of the viewer's communities has not answered yet.
    pub waiting_for_my_community: bool,
}

/// One page of the inquiries the viewer may read, newest first.
#[tracing::instrument(skip_all)]
pub async fn list_inquiries(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    filter: &InquiryFilter,
    page: &Page,
) -> AppResult<Vec<inquiry::Model>> {
    use sea_orm::sea_query::Query;
    let mut query = inquiry::Entity::find().filter(access::readable_condition(viewer));
    if let Some(status) = filter.status {
        query = query.filter(inquiry::Column::Status.eq(status));
    }
    if let Some(organization) = filter.organization {
        query = query.filter(inquiry::Column::OrganizationId.eq(organization));
    }
    if let Some(topic) = filter.topic {
        query = query.filter(
            inquiry::Column::Id.in_subquery(
                Query::select()
                    .column(inquiry_topic::Column::InquiryId)
                    .from(inquiry_topic::Entity)
                    .and_where(inquiry_topic::Column::TopicId.eq(topic))
                    .to_owned(),
            ),
        );
    }
    if filter.waiting_for_my_community {
        let communities: Vec<Uuid> = viewer
            .grants
            .iter()
            .filter(|g| is_community(g.organization_kind))
            .map(|g| g.organization_id)
            .collect();
        query = query
            .filter(inquiry::Column::Status.eq(InquiryStatus::Open))
            .filter(
                inquiry::Column::Id.in_subquery(
                    Query::select()
                        .column(inquiry_target::Column::InquiryId)
                        .from(inquiry_target::Entity)
                        .and_where(inquiry_target::Column::CommunityId.is_in(communities))
                        .and_where(inquiry_target::Column::Status.eq(TargetStatus::Pending))
                        .to_owned(),
                ),
            );
    }
    if let Some(after) = page.after {
        query = query.filter(inquiry::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(inquiry::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?)
}
