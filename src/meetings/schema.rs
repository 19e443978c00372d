//! GraphQL types and resolvers of meetings and meeting reports.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::meeting;
use sea_orm::EntityTrait;

use super::loaders::ReportByMeeting;
use super::service::{self, MeetingInput};
use crate::agenda::schema::{AgendaItem, of_meeting as agenda_of_meeting};
use crate::audit::service as audit;
use crate::auth::require_viewer;
use crate::error::{AppError, AppResult};
use crate::graphql::{load_one, parse_id};
use crate::inquiries::service::{MAX_BODY, MAX_TITLE};
use crate::news::schema::{NewsInputObject, NewsPost};
use crate::partners::schema::{PartnerNetwork, partner_of};
use crate::state::AppState;
use crate::topics::loaders::TopicsByMeeting;
use crate::topics::schema::Topic;
use crate::values::NonEmptyText;

/// Which meetings to list.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum MeetingTime {
    /// Not yet ended, soonest first.
    Upcoming,
    /// Ended, latest first.
    Past,
}

/// A network meeting.
pub struct Meeting(pub meeting::Model);

/// A network meeting.
#[Object]
impl Meeting {
    /// The meeting's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What the meeting is called.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// When it starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// When it ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// Where it is held, if somewhere.
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    /// The link to join online, if any.
    async fn online_url(&self) -> Option<&str> {
        self.0.online_url.as_deref()
    }
    /// Markdown.
    async fn agenda(&self) -> &str {
        &self.0.agenda
    }
    /// Rises with every change (iCalendar SEQUENCE).
    async fn sequence(&self) -> i32 {
        self.0.sequence
    }
    /// The monthly series the meeting was scheduled in, if any; its meetings share this id.
    async fn series_id(&self) -> Option<ID> {
        self.0.series_id.map(|id| ID(id.to_string()))
    }
    /// When the meeting was cancelled; null while it is on.
    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.0.cancelled_at
    }
    /// Why it was cancelled, if the organizer said.
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }
    /// Topics on the agenda.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Topic>> {
        Ok(load_one::<TopicsByMeeting>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Topic)
            .collect())
    }
    /// The partner network the meeting is held jointly with, if any.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PartnerNetwork>> {
        partner_of(ctx, self.0.partner_id).await
    }
    /// The network's own items on this meeting's agenda, in order (handled ones too).
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn agenda_items(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AgendaItem>> {
        agenda_of_meeting(ctx, self.0.id).await
    }
    /// The published report of this meeting, if any.
    async fn report(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<NewsPost>> {
        Ok(load_one::<ReportByMeeting>(ctx, self.0.id)
            .await?
            .map(NewsPost))
    }
}

/// A meeting to schedule or change.
#[derive(InputObject)]
#[graphql(name = "MeetingInput")]
pub struct MeetingInputObject {
    /// What the meeting is called.
    pub title: String,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends; after the start.
    pub ends_at: DateTime<Utc>,
    /// Where it is held; a place or an online link is needed.
    pub place: Option<String>,
    /// An https link to join online.
    pub online_url: Option<String>,
    /// The agenda (Markdown).
    #[graphql(default)]
    pub agenda: String,
    /// Topics on the agenda; their subscribers hear of it.
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
    /// A partner network the meeting is held jointly with.
    pub partner_id: Option<ID>,
}

impl MeetingInputObject {
    fn parse(self) -> AppResult<MeetingInput> {
        let optional = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let agenda = match self.agenda.trim() {
            "" => String::new(),
            agenda => NonEmptyText::input("agenda", agenda, MAX_BODY)?,
        };
        Ok(MeetingInput {
            title: NonEmptyText::line("title", &self.title, MAX_TITLE)?,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            place: optional(self.place)
                .map(|place| NonEmptyText::line("place", &place, MAX_TITLE))
                .transpose()?,
            online_url: optional(self.online_url)
                .map(|url| service::online_url(&url))
                .transpose()?,
            agenda,
            topic_ids: self
                .topic_ids
                .iter()
                .map(|id| parse_id("topicIds", id))
                .collect::<AppResult<_>>()?,
            partner_id: self
                .partner_id
                .as_ref()
                .map(|id| parse_id("partnerId", id))
                .transpose()?,
        })
    }
}

/// Longest reason for a cancellation.
const MAX_REASON: usize = 2000;

/// A cancellation's reason as given: trimmed, none when blank.
pub(crate) fn cancel_reason(reason: Option<String>) -> AppResult<Option<String>> {
    match reason.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(reason) => Ok(Some(NonEmptyText::input("reason", reason, MAX_REASON)?)),
    }
}

#[derive(Default)]
pub struct MeetingQuery;

#[Object]
impl MeetingQuery {
    /// Network meetings; readable without login. At most 100.
    #[graphql(complexity = "crate::graphql::page_cost(Some(first), child_complexity)")]
    async fn meetings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Upcoming or past meetings.")] when: MeetingTime,
        #[graphql(default = 20, desc = "How many to return.")] first: i32,
        #[graphql(
            default = true,
            desc = "Whether cancelled meetings are listed too (marked by `cancelledAt`)."
        )]
        include_cancelled: bool,
    ) -> async_graphql::Result<Vec<Meeting>> {
        if !(1..=100).contains(&first) {
            return Err(AppError::bad_input("first", "must be between 1 and 100").into());
        }
        let state = ctx.data::<AppState>()?;
        let upcoming = when == MeetingTime::Upcoming;
        Ok(
            service::list(&state.db, upcoming, include_cancelled, first as u64)
                .await?
                .into_iter()
                .map(Meeting)
                .collect(),
        )
    }

    /// One network meeting, or null when there is none with this id; readable without login.
    async fn meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting's id.")] id: ID,
    ) -> async_graphql::Result<Option<Meeting>> {
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        Ok(service::find(&state.db, id).await?.map(Meeting))
    }
}

#[derive(Default)]
pub struct MeetingMutation;

#[Object]
impl MeetingMutation {
    /// Admin: schedule a meeting, or a monthly series with `repeatMonthly` (1–12). Every mentor
    /// gets an invitation with the `.ics` attached.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn schedule_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting, or the first of the series.")] input: MeetingInputObject,
        #[graphql(
            default = 1,
            desc = "How many monthly meetings at the same local time (1–12)."
        )]
        repeat_monthly: i32,
    ) -> async_graphql::Result<Vec<Meeting>> {
        let viewer = require_viewer(ctx)?;
        let input = input.parse()?;
        let count = u32::try_from(repeat_monthly).unwrap_or(0);
        let state = ctx.data::<AppState>()?;
        let meetings = state
            .changes
            .run(async |txn| {
                let (meetings, event) = service::schedule(txn, viewer, input, count).await?;
                for meeting in &meetings {
                    audit::record_created::<meeting::Entity>(
                        txn,
                        Some(viewer.id()),
                        "scheduleMeeting",
                        meeting.id,
                    )
                    .await?;
                }
                Ok((meetings, event))
            })
            .await?;
        Ok(meetings.into_iter().map(Meeting).collect())
    }

    /// Admin: change a meeting; invitations are sent again with a higher SEQUENCE.
    async fn update_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting to change.")] id: ID,
        #[graphql(desc = "Its new details.")] input: MeetingInputObject,
    ) -> async_graphql::Result<Meeting> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let input = input.parse()?;
        let state = ctx.data::<AppState>()?;
        let meeting = state
            .changes
            .run(async |txn| {
                let action = audit::Action::by(viewer.id(), "updateMeeting", id);
                audit::around::<meeting::Entity, _>(txn, action, async || {
                    service::update(txn, viewer, id, input).await
                })
                .await
            })
            .await?;
        Ok(Meeting(meeting))
    }

    /// Admin: cancel a meeting. It stays listed, marked cancelled with the reason; every mentor
    /// gets a cancellation (`.ics`, `METHOD:CANCEL`, the SEQUENCE raised) and its topics'
    /// subscribers are told. A meeting cancelled already is `CONFLICT`; a cancelled meeting
    /// cannot be changed.
    async fn cancel_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting to cancel.")] id: ID,
        #[graphql(desc = "Why, in a sentence or two (shown in the email and on the page).")]
        reason: Option<String>,
    ) -> async_graphql::Result<Meeting> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let reason = cancel_reason(reason)?;
        let state = ctx.data::<AppState>()?;
        let meeting = state
            .changes
            .run(async |txn| {
                let action = audit::Action::by(viewer.id(), "cancelMeeting", id);
                audit::around::<meeting::Entity, _>(txn, action, async || {
                    service::cancel(txn, viewer, id, reason).await
                })
                .await
            })
            .await?;
        Ok(Meeting(meeting))
    }

    /// Admin: cancel what is left of a monthly series: every meeting of the series `id` belongs
    /// to that has not ended and is not cancelled yet, soonest first. Every mentor gets one
    /// email with a cancellation (`.ics`, `METHOD:CANCEL`, the SEQUENCE raised) for each of
    /// them. A meeting outside any series is `BAD_USER_INPUT`; a series with nothing left to
    /// cancel is `CONFLICT`.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn cancel_meeting_series(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Any meeting of the series.")] id: ID,
        #[graphql(desc = "Why, in a sentence or two (shown in the email and on the pages).")]
        reason: Option<String>,
    ) -> async_graphql::Result<Vec<Meeting>> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let reason = cancel_reason(reason)?;
        let state = ctx.data::<AppState>()?;
        let meetings = state
            .changes
            .run(async |txn| {
                let before = audit::snapshot::<meeting::Entity>(txn, id).await?;
                let (meetings, event) = service::cancel_series(txn, viewer, id, reason).await?;
                let after = audit::snapshot::<meeting::Entity>(txn, id).await?;
                let action = audit::Action::by(viewer.id(), "cancelMeetingSeries", id);
                audit::record(txn, action, before, after).await?;
                Ok((meetings, event))
            })
            .await?;
        Ok(meetings.into_iter().map(Meeting).collect())
    }

    /// Admins, contacts and mentors: publish the report of a meeting as a news post linked to it.
    async fn publish_meeting_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting the report is about.")] meeting_id: ID,
        #[graphql(desc = "The report.")] input: NewsInputObject,
    ) -> async_graphql::Result<NewsPost> {
        let viewer = require_viewer(ctx)?;
        let meeting = parse_id("meetingId", &meeting_id)?;
        let input = input.parse()?;
        let state = ctx.data::<AppState>()?;
        meeting::Entity::find_by_id(meeting)
            .one(&state.db)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| AppError::bad_input("meetingId", "no such meeting"))?;
        // The report records every item on the meeting's agenda handled.
        let post = state
            .changes
            .run(async |txn| {
                let (post, event) =
                    crate::news::service::publish(txn, viewer, input, Some(meeting)).await?;
                crate::agenda::service::mark_handled(txn, meeting, post.id).await?;
                Ok((post, event))
            })
            .await?;
        Ok(NewsPost(post))
    }
}
