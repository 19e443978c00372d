//! Transactional logic of trainings and their registrations.
//!
//! Registering and cancelling a registration take the training's row lock first (PostgreSQL
//! `FOR UPDATE`; SQLite runs one writer at a time), so concurrent registrations are counted
//! one after another: exactly `capacity` get a place and the rest wait in the order they came.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::membership::Role;
use entity::organization::{self, OrganizationKind};
use entity::training_registration::{self as registration, RegistrationStatus};
use entity::{event, training, training_topic};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::topics::service::existing_topics;
use crate::values::{TimeZone, web_link};

/// The most places one training may have.
pub const MAX_CAPACITY: i32 = 10_000;

/// A validated training.
#[derive(Debug, Clone)]
pub struct TrainingInput {
    pub title: String,
    /// Markdown.
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The organiser's zone, in which its times are stated.
    pub time_zone: TimeZone,
    pub place: Option<String>,
    pub online_url: Option<String>,
    pub capacity: i32,
    pub topic_ids: Vec<Uuid>,
}

impl TrainingInput {
    /// Checks what does not depend on the database.
    pub fn check(&self) -> AppResult<()> {
        if self.ends_at <= self.starts_at {
            return Err(AppError::bad_input("endsAt", "must be after the start"));
        }
        if self.place.is_none() && self.online_url.is_none() {
            return Err(AppError::bad_input(
                "place",
                "give a place, an online link, or both",
            ));
        }
        if let Some(url) = &self.online_url
            && web_link(url).map_err(AppError::invalid("onlineUrl"))? != *url
        {
            return Err(AppError::bad_input("onlineUrl", "must be an http(s) link"));
        }
        if !(1..=MAX_CAPACITY).contains(&self.capacity) {
            return Err(AppError::bad_input(
                "capacity",
                format!("must be between 1 and {MAX_CAPACITY}"),
            ));
        }
        Ok(())
    }
}

/// The role through which someone organises for an organization of this kind.
fn organizer_role(kind: OrganizationKind) -> Role {
    match kind {
        OrganizationKind::Faculty | OrganizationKind::EducationUnit => Role::Mentor,
        OrganizationKind::ServiceUnit => Role::Contact,
        OrganizationKind::Management => Role::Lead,
    }
}

/// Whether `viewer` manages a training organised by `organizer` (`None`: the network): its
/// organising role in that organization, or an admin.
pub fn can_manage(viewer: &Viewer, organizer: Option<Uuid>) -> bool {
    viewer.is_admin()
        || organizer.is_some_and(|org| {
            viewer
                .grants
                .iter()
                .any(|g| g.organization_id == org && g.role == organizer_role(g.organization_kind))
        })
}

/// Who reads a registration's events: the person, and the organising role of the organiser
/// (admins read everything, which covers the network's own trainings).
async fn registration_readers(
    db: &impl ConnectionTrait,
    t: &training::Model,
    user: Uuid,
) -> AppResult<Vec<Reader>> {
    let mut readers = vec![Reader::User { id: user }];
    if let Some(org) = t.organizer_id
        && let Some(org) = organization::Entity::find_by_id(org).one(db).await?
    {
        readers.push(Reader::role_in(org.id, organizer_role(org.kind)));
    }
    Ok(readers)
}

async fn topics_of(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(training_topic::Entity::find()
        .filter(training_topic::Column::TrainingId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.topic_id)
        .collect())
}

async fn set_topics(db: &impl ConnectionTrait, id: Uuid, topics: &[Uuid]) -> AppResult<()> {
    training_topic::Entity::delete_many()
        .filter(training_topic::Column::TrainingId.eq(id))
        .exec(db)
        .await?;
    if !topics.is_empty() {
        training_topic::Entity::insert_many(topics.iter().map(|t| training_topic::ActiveModel {
            training_id: Set(id),
            topic_id: Set(*t),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// A training event that anyone may read (scheduled, updated, cancelled), carrying its topics.
async fn public_event(
    db: &impl ConnectionTrait,
    t: &training::Model,
    kind: EventKind,
    actor: Uuid,
) -> AppResult<event::Model> {
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(actor),
            subject_id: t.id,
            object_id: None,
            organization_ids: t.organizer_id.into_iter().collect(),
            topic_ids: topics_of(db, t.id).await?,
            audience: vec![Reader::Public],
        },
    )
    .await
}

/// A registration's event: its subject is the training, its object the registration.
async fn registration_event(
    db: &impl ConnectionTrait,
    t: &training::Model,
    r: &registration::Model,
    kind: EventKind,
    actor: Uuid,
) -> AppResult<event::Model> {
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(actor),
            subject_id: t.id,
            object_id: Some(r.id),
            organization_ids: t.organizer_id.into_iter().collect(),
            topic_ids: vec![],
            audience: registration_readers(db, t, r.user_id).await?,
        },
    )
    .await
}

/// Schedules a training for `organizer` (a community as its mentor, a service unit as its
/// contact, management as its lead), or for the network (`None`, admins).
#[tracing::instrument(skip_all)]
pub async fn schedule(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    organizer: Option<Uuid>,
    input: TrainingInput,
) -> AppResult<(training::Model, event::Model)> {
    if let Some(id) = organizer {
        organization::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::bad_input("organizerId", "no such organization"))?;
    }
    if !can_manage(viewer, organizer) {
        return Err(AppError::forbidden(
            "Trainings are organised by a community's mentors, a service unit's contacts, \
             management's leads, or for the network by administrators.",
        ));
    }
    input.check()?;
    let topics = existing_topics(db, &input.topic_ids).await?;
    let now = Utc::now();
    let t = training::ActiveModel {
        id: Set(Uuid::now_v7()),
        organizer_id: Set(organizer),
        title: Set(input.title),
        description: Set(input.description),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        time_zone: Set(input.time_zone.name().to_owned()),
        place: Set(input.place),
        online_url: Set(input.online_url),
        capacity: Set(input.capacity),
        sequence: Set(0),
        cancelled_at: Set(None),
        cancel_reason: Set(None),
        created_by: Set(viewer.id()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    set_topics(db, t.id, &topics).await?;
    let event = public_event(db, &t, EventKind::TrainingScheduled, viewer.id()).await?;
    Ok((t, event))
}

/// The training, locked for the rest of the transaction on PostgreSQL, so registrations of
/// one training are decided one at a time.
async fn locked(db: &impl ConnectionTrait, id: Uuid) -> AppResult<training::Model> {
    let mut query = training::Entity::find_by_id(id);
    if db.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    query.one(db).await?.ok_or(AppError::NotFound("training"))
}

/// A training its organiser may change: found, theirs, not cancelled.
async fn managed(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<training::Model> {
    let t = locked(db, id).await?;
    if !can_manage(viewer, t.organizer_id) {
        return Err(AppError::forbidden(
            "Only the training's organisers change or cancel it.",
        ));
    }
    if t.cancelled_at.is_some() {
        return Err(AppError::conflict(None, "The training has been cancelled."));
    }
    Ok(t)
}

/// Counts of places taken and people waiting, per training.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub registered: i64,
    pub waiting: i64,
}

#[derive(FromQueryResult)]
struct CountRow {
    training_id: Uuid,
    status: RegistrationStatus,
    n: i64,
}

/// Places taken and people waiting for each of `ids`, in one query.
pub async fn counts(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Counts>> {
    let rows = registration::Entity::find()
        .select_only()
        .column(registration::Column::TrainingId)
        .column(registration::Column::Status)
        .column_as(registration::Column::Id.count(), "n")
        .filter(registration::Column::TrainingId.is_in(ids.iter().copied()))
        .filter(registration::Column::Status.ne(RegistrationStatus::Cancelled))
        .group_by(registration::Column::TrainingId)
        .group_by(registration::Column::Status)
        .into_model::<CountRow>()
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, Counts> = HashMap::new();
    for row in rows {
        let entry = out.entry(row.training_id).or_default();
        match row.status {
            RegistrationStatus::Registered => entry.registered = row.n,
            RegistrationStatus::Waiting => entry.waiting = row.n,
            RegistrationStatus::Cancelled => {}
        }
    }
    Ok(out)
}

/// The registrations of a training that are not cancelled, in registration order.
async fn active(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Vec<registration::Model>> {
    Ok(registration::Entity::find()
        .filter(registration::Column::TrainingId.eq(id))
        .filter(registration::Column::Status.ne(RegistrationStatus::Cancelled))
        .order_by_asc(registration::Column::Position)
        .all(db)
        .await?)
}

/// Gives the free places to the first in line; one `training.promoted` event each.
async fn move_up(
    db: &impl ConnectionTrait,
    t: &training::Model,
    actor: Uuid,
) -> AppResult<Vec<event::Model>> {
    let all = active(db, t.id).await?;
    let taken = all
        .iter()
        .filter(|r| r.status == RegistrationStatus::Registered)
        .count();
    let free = usize::try_from(t.capacity)
        .unwrap_or(0)
        .saturating_sub(taken);
    let mut events = Vec::new();
    for waiting in all
        .into_iter()
        .filter(|r| r.status == RegistrationStatus::Waiting)
        .take(free)
    {
        let r = registration::ActiveModel {
            id: Set(waiting.id),
            status: Set(RegistrationStatus::Registered),
            updated_at: Set(Utc::now()),
            ..Default::default()
        }
        .update(db)
        .await?;
        events.push(registration_event(db, t, &r, EventKind::TrainingPromoted, actor).await?);
    }
    Ok(events)
}

/// Changes a training: its SEQUENCE rises, everyone registered or waiting is told, and when
/// places were added the first in line move up. Fewer places than are taken is refused.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    input: TrainingInput,
) -> AppResult<(training::Model, Vec<event::Model>)> {
    let t = managed(db, viewer, id).await?;
    input.check()?;
    let taken = counts(db, &[id]).await?.remove(&id).unwrap_or_default();
    if i64::from(input.capacity) < taken.registered {
        return Err(AppError::bad_input(
            "capacity",
            format!("{} people have a place already", taken.registered),
        ));
    }
    let topics = existing_topics(db, &input.topic_ids).await?;
    let t = training::ActiveModel {
        id: Set(t.id),
        title: Set(input.title),
        description: Set(input.description),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        time_zone: Set(input.time_zone.name().to_owned()),
        place: Set(input.place),
        online_url: Set(input.online_url),
        capacity: Set(input.capacity),
        sequence: Set(t.sequence + 1),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    set_topics(db, t.id, &topics).await?;
    let mut events = vec![public_event(db, &t, EventKind::TrainingUpdated, viewer.id()).await?];
    events.extend(move_up(db, &t, viewer.id()).await?);
    Ok((t, events))
}

/// Cancels a training: everyone registered or waiting gets its cancellation (`METHOD:CANCEL`).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn cancel(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    reason: Option<String>,
) -> AppResult<(training::Model, event::Model)> {
    let t = managed(db, viewer, id).await?;
    let now = Utc::now();
    let t = training::ActiveModel {
        id: Set(t.id),
        cancelled_at: Set(Some(now)),
        cancel_reason: Set(reason),
        sequence: Set(t.sequence + 1),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    let event = public_event(db, &t, EventKind::TrainingCancelled, viewer.id()).await?;
    Ok((t, event))
}

/// Registers the viewer: a place while there are places, else the end of the waiting list.
/// Registered or waiting already, a cancelled training or one that has started is `CONFLICT`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn register(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(registration::Model, event::Model)> {
    let t = locked(db, id).await?;
    if t.cancelled_at.is_some() {
        return Err(AppError::conflict(None, "The training has been cancelled."));
    }
    if t.starts_at <= Utc::now() {
        return Err(AppError::conflict(
            None,
            "The training has already started.",
        ));
    }
    let all = registration::Entity::find()
        .filter(registration::Column::TrainingId.eq(id))
        .all(db)
        .await?;
    let own = all.iter().find(|r| r.user_id == viewer.id());
    if own.is_some_and(|r| r.status != RegistrationStatus::Cancelled) {
        return Err(AppError::conflict(
            None,
            "You are registered for this training already.",
        ));
    }
    let taken = all
        .iter()
        .filter(|r| r.status == RegistrationStatus::Registered)
        .count();
    let waiting = all.iter().any(|r| r.status == RegistrationStatus::Waiting);
    // Someone waiting means no place is free for a newcomer, whatever the count says.
    let status = if !waiting && taken < usize::try_from(t.capacity).unwrap_or(0) {
        RegistrationStatus::Registered
    } else {
        RegistrationStatus::Waiting
    };
    let position = all.iter().map(|r| r.position).max().unwrap_or(0) + 1;
    let now = Utc::now();
    let r = match own {
        Some(earlier) => {
            registration::ActiveModel {
                id: Set(earlier.id),
                status: Set(status),
                position: Set(position),
                registered_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(db)
            .await?
        }
        None => {
            registration::ActiveModel {
                id: Set(Uuid::now_v7()),
                training_id: Set(id),
                user_id: Set(viewer.id()),
                status: Set(status),
                position: Set(position),
                registered_at: Set(now),
                updated_at: Set(now),
            }
            .insert(db)
            .await?
        }
    };
    let event = registration_event(db, &t, &r, EventKind::TrainingRegistered, viewer.id()).await?;
    Ok((r, event))
}

/// Cancels the viewer's registration; a place it frees goes to the first in line.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn unregister(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(registration::Model, Vec<event::Model>)> {
    let t = locked(db, id).await?;
    let own = registration::Entity::find()
        .filter(registration::Column::TrainingId.eq(id))
        .filter(registration::Column::UserId.eq(viewer.id()))
        .filter(registration::Column::Status.ne(RegistrationStatus::Cancelled))
        .one(db)
        .await?
        .ok_or_else(|| AppError::conflict(None, "You are not registered for this training."))?;
    let had_place = own.status == RegistrationStatus::Registered;
    let r = registration::ActiveModel {
        id: Set(own.id),
        status: Set(RegistrationStatus::Cancelled),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    let mut events =
        vec![registration_event(db, &t, &r, EventKind::TrainingUnregistered, viewer.id()).await?];
    if had_place && t.cancelled_at.is_none() && t.starts_at > Utc::now() {
        events.extend(move_up(db, &t, viewer.id()).await?);
    }
    Ok((r, events))
}

/// One training.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<training::Model>> {
    Ok(training::Entity::find_by_id(id).one(db).await?)
}

/// Which trainings to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Not yet ended, soonest first; else ended, latest first.
    pub upcoming: bool,
    /// Organised by this organization.
    pub organizer: Option<Uuid>,
    /// Only the network's own.
    pub network_only: bool,
    /// On this topic.
    pub topic: Option<Uuid>,
}

/// Trainings by `filter`, at most `limit`.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &Filter,
    limit: u64,
) -> AppResult<Vec<training::Model>> {
    let now = Utc::now();
    let mut query = training::Entity::find();
    query = if filter.upcoming {
        query
            .filter(training::Column::EndsAt.gt(now))
            .order_by_asc(training::Column::StartsAt)
    } else {
        query
            .filter(training::Column::EndsAt.lte(now))
            .order_by_desc(training::Column::StartsAt)
    };
    if let Some(org) = filter.organizer {
        query = query.filter(training::Column::OrganizerId.eq(org));
    } else if filter.network_only {
        query = query.filter(training::Column::OrganizerId.is_null());
    }
    if let Some(topic) = filter.topic {
        query = query.filter(
            training::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(training_topic::Column::TrainingId)
                    .from(training_topic::Entity)
                    .and_where(training_topic::Column::TopicId.eq(topic))
                    .to_owned(),
            ),
        );
    }
    Ok(query
        .order_by_asc(training::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The viewer's own registrations (cancelled ones too) among `ids`.
pub async fn own_registrations(
    db: &impl ConnectionTrait,
    user: Uuid,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, registration::Model>> {
    Ok(registration::Entity::find()
        .filter(registration::Column::TrainingId.is_in(ids.iter().copied()))
        .filter(registration::Column::UserId.eq(user))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.training_id, r))
        .collect())
}

/// Where a waiting registration stands in line (1 = next to get a place).
pub async fn place_in_line(
    db: &impl ConnectionTrait,
    r: &registration::Model,
) -> AppResult<Option<u64>> {
    if r.status != RegistrationStatus::Waiting {
        return Ok(None);
    }
    let ahead = registration::Entity::find()
        .filter(registration::Column::TrainingId.eq(r.training_id))
        .filter(registration::Column::Status.eq(RegistrationStatus::Waiting))
        .filter(registration::Column::Position.lt(r.position))
        .count(db)
        .await?;
    Ok(Some(ahead + 1))
}

/// A training's participant list (registered, then waiting, in registration order), for its
/// organisers only.
pub async fn participants(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    t: &training::Model,
) -> AppResult<Vec<registration::Model>> {
    if !can_manage(viewer, t.organizer_id) {
        return Err(AppError::forbidden(
            "Only the training's organisers see who registered.",
        ));
    }
    let mut all = active(db, t.id).await?;
    all.sort_by_key(|r| (r.status != RegistrationStatus::Registered, r.position));
    Ok(all)
}

/// The people registered (or waiting) for a training, in registration order: whom its
/// updates, cancellation and reminders go to.
pub async fn registrants(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<Vec<registration::Model>> {
    active(db, id).await
}
