//! GraphQL types and resolvers of trainings and their registrations.

use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::training;
use entity::training_registration::{self as registration, RegistrationStatus as Stored};
use uuid::Uuid;

use super::service::{self, Counts, Filter, TrainingInput};
use crate::auth::{require_viewer, viewer as viewer_of};
use crate::directory::loaders::{OrganizationById, UserById};
use crate::directory::schema::{Organization, Person};
use crate::error::{AppError, AppResult};
use crate::graphql::{load_one, parse_id};
use crate::inquiries::service::{MAX_BODY, MAX_TITLE};
use crate::meetings::schema::{MeetingTime, cancel_reason};
use crate::state::AppState;
use crate::topics::loaders::TopicsByTraining;
use crate::topics::schema::Topic;
use crate::values::{NonEmptyText, TimeZone, web_link};

/// Where a registration stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RegistrationStatus {
    /// Has a place.
    Registered,
    /// On the waiting list; gets a place automatically when one comes free.
    Waiting,
    /// Cancelled by the person.
    Cancelled,
}

impl From<Stored> for RegistrationStatus {
    fn from(s: Stored) -> Self {
        match s {
            Stored::Registered => Self::Registered,
            Stored::Waiting => Self::Waiting,
            Stored::Cancelled => Self::Cancelled,
        }
    }
}

/// One person's registration for a training.
pub struct Registration {
    pub row: registration::Model,
    /// Place in line, for the waiting.
    pub in_line: Option<u64>,
}

/// One person's registration for a training.
#[Object]
impl Registration {
    /// Where it stands.
    async fn status(&self) -> RegistrationStatus {
        self.row.status.into()
    }
    /// For someone waiting, their place in line (1 = next to get a place).
    async fn place_in_line(&self) -> Option<i32> {
        self.in_line.map(|n| i32::try_from(n).unwrap_or(i32::MAX))
    }
    /// When they registered (or last registered again).
    async fn registered_at(&self) -> DateTime<Utc> {
        self.row.registered_at
    }
    /// Who registered.
    async fn person(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_one::<UserById>(ctx, self.row.user_id)
            .await?
            .map(Person::participant))
    }
}

/// A training or community event. Anyone may read it; registering needs signing in; the
/// online link is for those with a place and the organisers.
pub struct Training {
    pub training: training::Model,
    pub counts: Counts,
    /// The reader's own registration, if any.
    pub mine: Option<Registration>,
    /// Whether the reader organises it.
    pub manages: bool,
}

impl Training {
    fn has_place(&self) -> bool {
        self.mine
            .as_ref()
            .is_some_and(|r| r.row.status == Stored::Registered)
    }
}

/// A training or community event.
#[Object]
impl Training {
    /// The training's id.
    async fn id(&self) -> ID {
        ID(self.training.id.to_string())
    }
    /// What it is called.
    async fn title(&self) -> &str {
        &self.training.title
    }
    /// Markdown.
    async fn description(&self) -> &str {
        &self.training.description
    }
    /// The organising community, service unit or management; null when the network itself
    /// organises it.
    async fn organizer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        match self.training.organizer_id {
            Some(id) => Ok(load_one::<OrganizationById>(ctx, id)
                .await?
                .map(Organization)),
            None => Ok(None),
        }
    }
    /// When it starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.training.starts_at
    }
    /// When it ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.training.ends_at
    }
    /// The organiser's time zone (IANA), in which its times are stated.
    async fn time_zone(&self) -> &str {
        &self.training.time_zone
    }
    /// Where it is held, if somewhere.
    async fn place(&self) -> Option<&str> {
        self.training.place.as_deref()
    }
    /// Whether it can be joined online.
    async fn online(&self) -> bool {
        self.training.online_url.is_some()
    }
    /// The link to join online: for those with a place and the organisers, else null.
    async fn online_url(&self) -> Option<&str> {
        self.training
            .online_url
            .as_deref()
            .filter(|_| self.manages || self.has_place())
    }
    /// How many can take part.
    async fn capacity(&self) -> i32 {
        self.training.capacity
    }
    /// How many have a place.
    async fn registered_count(&self) -> i32 {
        i32::try_from(self.counts.registered).unwrap_or(i32::MAX)
    }
    /// How many are waiting for one.
    async fn waiting_count(&self) -> i32 {
        i32::try_from(self.counts.waiting).unwrap_or(i32::MAX)
    }
    /// Places still free.
    async fn places_left(&self) -> i32 {
        let left = i64::from(self.training.capacity) - self.counts.registered;
        i32::try_from(left.max(0)).unwrap_or(0)
    }
    /// Rises with every change (iCalendar SEQUENCE).
    async fn sequence(&self) -> i32 {
        self.training.sequence
    }
    /// When it was cancelled; null while it is on.
    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.training.cancelled_at
    }
    /// Why it was cancelled, if the organiser said.
    async fn cancel_reason(&self) -> Option<&str> {
        self.training.cancel_reason.as_deref()
    }
    /// Topics of the training; their subscribers hear of it.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Topic>> {
        Ok(load_one::<TopicsByTraining>(ctx, self.training.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Topic)
            .collect())
    }
    /// The reader's own registration; null for visitors and those who never registered.
    async fn my_registration(&self) -> Option<&Registration> {
        self.mine.as_ref()
    }
    /// Whether the reader organises it (may change or cancel it and see who registered).
    async fn can_manage(&self) -> bool {
        self.manages
    }
    /// Who registered: those with a place, then those waiting, in registration order. For the
    /// organisers only; null for anyone else.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn participants(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<Registration>>> {
        let Some(viewer) = viewer_of(ctx).filter(|_| self.manages) else {
            return Ok(None);
        };
        let state = ctx.data::<AppState>()?;
        let rows = service::participants(&state.db, viewer, &self.training).await?;
        let mut waiting = 0;
        Ok(Some(
            rows.into_iter()
                .map(|row| {
                    let in_line = (row.status == Stored::Waiting).then(|| {
                        waiting += 1;
                        waiting
                    });
                    Registration { row, in_line }
                })
                .collect(),
        ))
    }
}

/// A training to schedule or change.
#[derive(InputObject)]
#[graphql(name = "TrainingInput")]
pub struct TrainingInputObject {
    /// What it is called.
    pub title: String,
    /// Markdown.
    #[graphql(default)]
    pub description: String,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends; after the start.
    pub ends_at: DateTime<Utc>,
    /// The organiser's time zone (IANA); by default the caller's own.
    pub time_zone: Option<String>,
    /// Where it is held; a place or an online link is needed.
    pub place: Option<String>,
    /// An https link to join online (shown to those with a place).
    pub online_url: Option<String>,
    /// How many can take part (1–10000); the rest wait in line.
    pub capacity: i32,
    /// Topics of the training; their subscribers hear of it.
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
}

impl TrainingInputObject {
    fn parse(self, own_zone: &str) -> AppResult<TrainingInput> {
        let optional = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let description = match self.description.trim() {
            "" => String::new(),
            text => NonEmptyText::input("description", text, MAX_BODY)?,
        };
        let zone = optional(self.time_zone).unwrap_or_else(|| own_zone.to_owned());
        Ok(TrainingInput {
            title: NonEmptyText::line("title", &self.title, MAX_TITLE)?,
            description,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            time_zone: TimeZone::parse(&zone).map_err(AppError::invalid("timeZone"))?,
            place: optional(self.place)
                .map(|place| NonEmptyText::line("place", &place, MAX_TITLE))
                .transpose()?,
            online_url: optional(self.online_url)
                .map(|url| web_link(&url).map_err(AppError::invalid("onlineUrl")))
                .transpose()?,
            capacity: self.capacity,
            topic_ids: self
                .topic_ids
                .iter()
                .map(|id| parse_id("topicIds", id))
                .collect::<AppResult<_>>()?,
        })
    }
}

/// Trainings with their counts and the reader's own registrations, in three queries.
async fn dress(
    ctx: &Context<'_>,
    rows: Vec<training::Model>,
) -> async_graphql::Result<Vec<Training>> {
    let state = ctx.data::<AppState>()?;
    let viewer = viewer_of(ctx);
    let ids: Vec<Uuid> = rows.iter().map(|t| t.id).collect();
    let mut counts = service::counts(&state.db, &ids).await?;
    let mut mine: HashMap<Uuid, registration::Model> = match viewer {
        Some(v) => service::own_registrations(&state.db, v.id(), &ids).await?,
        None => HashMap::new(),
    };
    let mut out = Vec::with_capacity(rows.len());
    for training in rows {
        let own = match mine.remove(&training.id) {
            Some(row) => {
                let in_line = service::place_in_line(&state.db, &row).await?;
                Some(Registration { row, in_line })
            }
            None => None,
        };
        out.push(Training {
            counts: counts.remove(&training.id).unwrap_or_default(),
            manages: viewer.is_some_and(|v| service::can_manage(v, training.organizer_id)),
            mine: own,
            training,
        });
    }
    Ok(out)
}

async fn dressed_one(ctx: &Context<'_>, t: training::Model) -> async_graphql::Result<Training> {
    dress(ctx, vec![t])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound("training").into())
}

/// A training as it stands now, for the reader.
async fn reloaded(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Training> {
    let state = ctx.data::<AppState>()?;
    let t = service::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("training"))?;
    dressed_one(ctx, t).await
}

#[derive(Default)]
pub struct TrainingQuery;

#[Object]
impl TrainingQuery {
    /// Trainings and community events; readable without login. At most 100.
    #[graphql(complexity = "crate::graphql::page_cost(Some(first), child_complexity)")]
    async fn trainings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Upcoming (not yet ended, soonest first) or past (latest first).")]
        when: MeetingTime,
        #[graphql(desc = "Only those organised by this organization.")] organizer_id: Option<ID>,
        #[graphql(default, desc = "Only the network's own.")] network_only: bool,
        #[graphql(desc = "Only those on this topic.")] topic_id: Option<ID>,
        #[graphql(default = 20, desc = "How many to return.")] first: i32,
    ) -> async_graphql::Result<Vec<Training>> {
        if !(1..=100).contains(&first) {
            return Err(AppError::bad_input("first", "must be between 1 and 100").into());
        }
        let filter = Filter {
            upcoming: when == MeetingTime::Upcoming,
            organizer: organizer_id
                .map(|id| parse_id("organizerId", &id))
                .transpose()?,
            network_only,
            topic: topic_id.map(|id| parse_id("topicId", &id)).transpose()?,
        };
        let state = ctx.data::<AppState>()?;
        let rows = service::list(&state.db, &filter, first as u64).await?;
        dress(ctx, rows).await
    }

    /// One training, or null when there is none with this id; readable without login.
    async fn training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The training's id.")] id: ID,
    ) -> async_graphql::Result<Option<Training>> {
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        match service::find(&state.db, id).await? {
            Some(t) => Ok(Some(dressed_one(ctx, t).await?)),
            None => Ok(None),
        }
    }
}

#[derive(Default)]
pub struct TrainingMutation;

#[Object]
impl TrainingMutation {
    /// Schedule a training: for a community as its mentor, a service unit as its contact,
    /// management as its lead, or (without `organizerId`) for the network as an admin. Its
    /// topics' subscribers hear of it.
    async fn schedule_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who organises it; omit for the network itself (admins).")]
        organizer_id: Option<ID>,
        #[graphql(desc = "The training.")] input: TrainingInputObject,
    ) -> async_graphql::Result<Training> {
        let viewer = require_viewer(ctx)?;
        let organizer = organizer_id
            .map(|id| parse_id("organizerId", &id))
            .transpose()?;
        let input = input.parse(&viewer.user.time_zone)?;
        let state = ctx.data::<AppState>()?;
        let t = state
            .changes
            .run(async |txn| service::schedule(txn, viewer, organizer, input).await)
            .await?;
        dressed_one(ctx, t).await
    }

    /// The organisers: change a training. Everyone registered or waiting is told (with the
    /// calendar again, its SEQUENCE raised); added places go to the first in line. Fewer
    /// places than are taken is `BAD_USER_INPUT`; a cancelled training is `CONFLICT`.
    async fn update_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The training to change.")] id: ID,
        #[graphql(desc = "Its new details.")] input: TrainingInputObject,
    ) -> async_graphql::Result<Training> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let input = input.parse(&viewer.user.time_zone)?;
        let state = ctx.data::<AppState>()?;
        let t = state
            .changes
            .run(async |txn| service::update(txn, viewer, id, input).await)
            .await?;
        dressed_one(ctx, t).await
    }

    /// The organisers: cancel a training. It stays listed, marked cancelled with the reason;
    /// everyone registered or waiting is told (`.ics`, `METHOD:CANCEL`, for those with a
    /// place). Cancelled already is `CONFLICT`.
    async fn cancel_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The training to cancel.")] id: ID,
        #[graphql(desc = "Why, in a sentence or two (shown in the email and on the page).")]
        reason: Option<String>,
    ) -> async_graphql::Result<Training> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let reason = cancel_reason(reason)?;
        let state = ctx.data::<AppState>()?;
        let t = state
            .changes
            .run(async |txn| service::cancel(txn, viewer, id, reason).await)
            .await?;
        dressed_one(ctx, t).await
    }

    /// Register for a training: a place while there are places, else the end of the waiting
    /// list (a place then comes automatically). An email confirms it, with the calendar for a
    /// place. Registered already, a cancelled training or one that has started is `CONFLICT`.
    async fn register_for_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The training.")] id: ID,
    ) -> async_graphql::Result<Training> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        state
            .changes
            .run(async |txn| service::register(txn, viewer, id).await)
            .await?;
        reloaded(ctx, id).await
    }

    /// Cancel your registration; a place it frees goes to the first in line, who is told.
    /// Not registered is `CONFLICT`.
    async fn cancel_training_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The training.")] id: ID,
    ) -> async_graphql::Result<Training> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        state
            .changes
            .run(async |txn| service::unregister(txn, viewer, id).await)
            .await?;
        reloaded(ctx, id).await
    }
}
