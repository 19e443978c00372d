//! GraphQL types and thin resolvers of inquiries.

use std::collections::HashMap;
use std::sync::Arc;

use crate::changes::{Done, IntoDone};
use crate::db::idempotency;
use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use entity::{
    inquiry, inquiry_answer_revision, inquiry_message, inquiry_target, organization, user,
};
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::access;
use super::loaders::{MessagesByTarget, RevisionsByTarget, TargetsByInquiry, slots_of_page};
use super::service::{self, Addressees, InquiryFilter, LoadedInquiry, NewInquiry, SlotResponse};
use super::snapshots::InquirySnapshots;
use crate::auth::{Viewer, require_viewer, viewer};
use crate::directory::loaders::{OrganizationById, UserById};
use crate::directory::schema::{Organization, Person};
use crate::error::{AppError, AppResult};
use crate::events::schema::readable_events;
use crate::graphql::pagination::Page;
use crate::graphql::{load_one, parse_id};
use crate::state::AppState;
use crate::topics::loaders::TopicsByInquiry;
use crate::topics::schema::Topic;
use crate::values::NonEmptyText;

/// Lifecycle of an inquiry.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::inquiry::InquiryStatus")]
pub enum InquiryStatus {
    /// Visible only to the inquiring organization.
    Draft,
    /// Published: communities answer.
    Open,
    /// Ended: answers can no longer change.
    Closed,
}

/// State of one community's target.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::inquiry_target::TargetStatus")]
pub enum TargetStatus {
    /// The community has not responded yet.
    Pending,
    /// The community answered.
    Answered,
    /// The community declined, with a reason.
    Declined,
}

/// An inquiry from management or a service unit to communities, with its slots when they were
/// read already (a live update shares one read among its subscribers; a page reads the slots of
/// all its inquiries at once, with their communities and answerers).
pub struct Inquiry(
    pub inquiry::Model,
    Option<Arc<LoadedInquiry>>,
    Option<Arc<SlotPeople>>,
);

/// Each slot's community and answerer, by slot id, as a page read them.
type SlotPeople = HashMap<Uuid, (organization::Model, Option<user::Model>)>;

impl Inquiry {
    pub fn new(model: inquiry::Model) -> Self {
        Self(model, None, None)
    }

    /// Inquiries as a query's selection reads them. When it reaches their slots (or coverage),
    /// the slots, their communities and their answerers are read here in one statement for all
    /// of them, so a page or an inquiry's page costs the same number of statements alone and
    /// under load. `nodes` are where the selection of one inquiry is: the field itself, or a
    /// connection's `edges { node }` and `nodes`.
    async fn with_slots<'a>(
        nodes: &[async_graphql::Lookahead<'a>],
        db: &impl sea_orm::ConnectionTrait,
        rows: Vec<inquiry::Model>,
    ) -> AppResult<Vec<(Uuid, Self)>> {
        let wants_slots = nodes
            .iter()
            .any(|node| node.field("targets").exists() || node.field("coverage").exists());
        if !wants_slots || rows.is_empty() {
            return Ok(rows.into_iter().map(|i| (i.id, Self::new(i))).collect());
        }
        let ids: Vec<Uuid> = rows.iter().map(|i| i.id).collect();
        let mut slots: HashMap<Uuid, Vec<inquiry_target::Model>> = HashMap::new();
        let mut people = SlotPeople::new();
        for joined in slots_of_page(db, &ids).await? {
            people.insert(joined.slot.id, (joined.community, joined.answerer));
            slots
                .entry(joined.slot.inquiry_id)
                .or_default()
                .push(joined.slot);
        }
        let people = Arc::new(people);
        Ok(rows
            .into_iter()
            .map(|inquiry| {
                let loaded = LoadedInquiry {
                    targets: slots.remove(&inquiry.id).unwrap_or_default(),
                    inquiry: inquiry.clone(),
                };
                let item = Self(inquiry, Some(Arc::new(loaded)), Some(people.clone()));
                (item.0.id, item)
            })
            .collect())
    }
}

/// How many addressed communities have responded: "7 of 12 communities answered".
#[derive(SimpleObject)]
pub struct Coverage {
    /// Addressed communities.
    pub targets: i32,
    /// Communities that answered.
    pub answered: i32,
    /// Communities that declined, with a reason.
    pub declined: i32,
    /// Communities that have not responded yet.
    pub pending: i32,
    /// Pending targets whose deadline has passed.
    pub overdue: i32,
    /// E.g. "7 of 12 communities answered".
    pub summary: String,
}

impl Coverage {
    fn of(inquiry: &inquiry::Model, targets: &[inquiry_target::Model], now: DateTime<Utc>) -> Self {
        let count = |status| targets.iter().filter(|t| t.status == status).count() as i32;
        let pending = count(inquiry_target::TargetStatus::Pending);
        let answered = count(inquiry_target::TargetStatus::Answered);
        let overdue = if inquiry.deadline.is_some_and(|d| d < now) {
            pending
        } else {
            0
        };
        Self {
            targets: targets.len() as i32,
            answered,
            declined: count(inquiry_target::TargetStatus::Declined),
            pending,
            overdue,
            summary: format!("{answered} of {} communities answered", targets.len()),
        }
    }
}

async fn targets_of(
    ctx: &Context<'_>,
    inquiry: &Inquiry,
) -> async_graphql::Result<Vec<inquiry_target::Model>> {
    if let Some(loaded) = &inquiry.1 {
        return Ok(loaded.targets.clone());
    }
    Ok(load_one::<TargetsByInquiry>(ctx, inquiry.0.id)
        .await?
        .unwrap_or_default())
}

/// An inquiry from management or a service unit to the communities, answered by each community's mentors.
#[Object]
impl Inquiry {
    /// The inquiry's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The inquiring organization.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        load_one::<OrganizationById>(ctx, self.0.organization_id)
            .await?
            .map(Organization)
            .ok_or_else(|| AppError::NotFound("organization").into())
    }
    /// Who wrote it; null when their account is gone.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_one::<UserById>(ctx, self.0.author_id)
            .await?
            .map(Person::participant))
    }
    /// A short title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Markdown.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When answers are due, if there is a deadline.
    async fn deadline(&self) -> Option<DateTime<Utc>> {
        self.0.deadline
    }
    /// Draft, open or closed.
    async fn status(&self) -> InquiryStatus {
        self.0.status.into()
    }
    /// Addressed to every community.
    async fn all_communities(&self) -> bool {
        self.0.all_communities
    }
    /// Communities may read each other's answers while the inquiry is open.
    async fn answers_shared(&self) -> bool {
        self.0.answers_shared
    }
    /// Topics the inquiry is about.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Topic>> {
        Ok(load_one::<TopicsByInquiry>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Topic)
            .collect())
    }
    /// The targets the caller may read: all of them for the inquirer, leads and admins; a
    /// community's own target for its people, and the others once closed or shared.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn targets(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<InquiryTarget>> {
        let viewer = require_viewer(ctx)?;
        Ok(targets_of(ctx, self)
            .await?
            .into_iter()
            .filter(|t| access::can_read_slot(viewer, &self.0, t))
            .map(|t| InquiryTarget {
                joined: self
                    .2
                    .as_ref()
                    .and_then(|people| people.get(&t.id).cloned()),
                slot: t,
                inquiry: self.0.clone(),
            })
            .collect())
    }
    /// Who has responded, counted over every addressed community.
    async fn coverage(&self, ctx: &Context<'_>) -> async_graphql::Result<Coverage> {
        Ok(Coverage::of(
            &self.0,
            &targets_of(ctx, self).await?,
            Utc::now(),
        ))
    }
    /// When it was sent to the communities.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// When it was closed.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// When the draft was saved.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One addressed community's slot: its answer and its follow-up thread.
pub struct InquiryTarget {
    slot: inquiry_target::Model,
    inquiry: inquiry::Model,
    /// The community and the answerer, when the page read them with the slot.
    joined: Option<(organization::Model, Option<user::Model>)>,
}

/// One addressed community's part of an inquiry: its answer or decline.
#[Object]
impl InquiryTarget {
    /// The target's id.
    async fn id(&self) -> ID {
        ID(self.slot.id.to_string())
    }
    /// The addressed community.
    async fn community(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        if let Some((community, _)) = &self.joined {
            return Ok(Organization(community.clone()));
        }
        load_one::<OrganizationById>(ctx, self.slot.community_id)
            .await?
            .map(Organization)
            .ok_or_else(|| AppError::NotFound("organization").into())
    }
    /// Pending, answered or declined.
    async fn status(&self) -> TargetStatus {
        self.slot.status.into()
    }
    /// The community's answer (Markdown), when answered.
    async fn answer(&self) -> Option<&str> {
        self.slot.answer.as_deref()
    }
    /// Why the community declined, if it did.
    async fn decline_reason(&self) -> Option<&str> {
        self.slot.decline_reason.as_deref()
    }
    /// Send this as `expectedVersion` when changing the answer.
    async fn version(&self) -> i32 {
        self.slot.version
    }
    /// The mentor who wrote the current answer or decline.
    async fn answered_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        if let Some((_, answerer)) = &self.joined {
            return Ok(answerer.clone().map(Person::participant));
        }
        match self.slot.answered_by {
            Some(id) => Ok(load_one::<UserById>(ctx, id)
                .await?
                .map(Person::participant)),
            None => Ok(None),
        }
    }
    /// When it was answered or declined.
    async fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.slot.answered_at
    }
    /// Earlier versions of the answer, oldest first.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn previous_versions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<AnswerRevision>> {
        Ok(load_one::<RevisionsByTarget>(ctx, self.slot.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(AnswerRevision)
            .collect())
    }
    /// The follow-up thread between the inquirer and the community's mentors; empty for those
    /// outside it.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn messages(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<InquiryMessage>> {
        let viewer = require_viewer(ctx)?;
        if !access::can_read_thread(viewer, &self.inquiry, &self.slot) {
            return Ok(Vec::new());
        }
        Ok(load_one::<MessagesByTarget>(ctx, self.slot.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(InquiryMessage)
            .collect())
    }
}

/// A superseded version of a slot's answer.
pub struct AnswerRevision(inquiry_answer_revision::Model);

/// An earlier state of a community's answer, kept when it changed.
#[Object]
impl AnswerRevision {
    /// The target's version this state had.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Whether it was answered or declined.
    async fn status(&self) -> TargetStatus {
        self.0.status.into()
    }
    /// The answer as it was, if answered.
    async fn answer(&self) -> Option<&str> {
        self.0.answer.as_deref()
    }
    /// The reason given, if declined.
    async fn decline_reason(&self) -> Option<&str> {
        self.0.decline_reason.as_deref()
    }
    /// Who wrote this state.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        match self.0.author_id {
            Some(id) => Ok(load_one::<UserById>(ctx, id)
                .await?
                .map(Person::participant)),
            None => Ok(None),
        }
    }
    /// When this version was written.
    async fn written_at(&self) -> DateTime<Utc> {
        self.0.written_at
    }
}

/// A message in a slot's follow-up thread.
pub struct InquiryMessage(pub inquiry_message::Model);

/// A message in the follow-up thread of one community's target.
#[Object]
impl InquiryMessage {
    /// The message's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_one::<UserById>(ctx, self.0.author_id)
            .await?
            .map(Person::participant))
    }
    /// The side the author wrote for: the inquiring organization or the community.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load_one::<OrganizationById>(ctx, self.0.organization_id)
            .await?
            .map(Organization))
    }
    /// Markdown.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Narrows the inquiry list.
#[derive(InputObject, Default)]
pub struct InquiryFilterInput {
    /// Only inquiries in this state.
    pub status: Option<InquiryStatus>,
    /// Only inquiries carrying this topic.
    pub topic_id: Option<ID>,
    /// Only inquiries from this organization.
    pub organization_id: Option<ID>,
    /// Only open inquiries that one of my communities has not answered yet.
    #[graphql(default)]
    pub waiting_for_my_community: bool,
}

impl InquiryFilterInput {
    fn parse(self) -> AppResult<InquiryFilter> {
        Ok(InquiryFilter {
            status: self.status.map(Into::into),
            topic: self
                .topic_id
                .as_ref()
                .map(|id| parse_id("topicId", id))
                .transpose()?,
            organization: self
                .organization_id
                .as_ref()
                .map(|id| parse_id("organizationId", id))
                .transpose()?,
            waiting_for_my_community: self.waiting_for_my_community,
        })
    }
}

#[derive(Default)]
pub struct InquiryQuery;

#[Object]
impl InquiryQuery {
    /// Inquiries the caller may read, newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn inquiries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The cursor after which to continue.")] after: Option<String>,
        #[graphql(desc = "Which inquiries.")] filter: Option<InquiryFilterInput>,
    ) -> async_graphql::Result<Connection<String, Inquiry>> {
        let viewer = require_viewer(ctx)?;
        let page = Page::new(first, after)?;
        let filter = filter.unwrap_or_default().parse()?;
        let state = ctx.data::<AppState>()?;
        let rows = service::list_inquiries(&state.db, viewer, &filter, &page).await?;
        let look_ahead = ctx.look_ahead();
        let nodes = [
            look_ahead.field("edges").field("node"),
            look_ahead.field("nodes"),
        ];
        Ok(crate::graphql::pagination::connection(
            &page,
            Inquiry::with_slots(&nodes, &state.db, rows).await?,
        ))
    }

    /// One inquiry, or null when it does not exist or is not the caller's to read.
    async fn inquiry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The inquiry's id.")] id: ID,
    ) -> async_graphql::Result<Option<Inquiry>> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        let Some(found) = service::find_readable(&state.db, viewer, id).await? else {
            return Ok(None);
        };
        Ok(
            Inquiry::with_slots(&[ctx.look_ahead()], &state.db, vec![found])
                .await?
                .pop()
                .map(|(_, inquiry)| inquiry),
        )
    }
}

/// A new inquiry, saved as a draft.
#[derive(InputObject)]
pub struct CreateInquiryInput {
    /// The organization the inquiry is posted for: management (leads) or a service unit
    /// (contacts).
    pub organization_id: ID,
    /// A short title.
    pub title: String,
    /// Markdown.
    pub body: String,
    /// Topics the inquiry is about; their subscribers hear of it.
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
    /// Optional; must be in the future.
    pub deadline: Option<DateTime<Utc>>,
    /// The addressed communities; leave empty with `allCommunities: true`.
    #[graphql(default)]
    pub community_ids: Vec<ID>,
    /// Address every faculty and education unit (leave communityIds empty).
    #[graphql(default)]
    pub all_communities: bool,
    /// Let communities read each other's answers before the inquiry closes.
    #[graphql(default)]
    pub share_answers: bool,
}

/// A community's answer.
#[derive(InputObject)]
pub struct AnswerInquiryInput {
    /// The community's target (`InquiryTarget.id`).
    pub target_id: ID,
    /// Markdown.
    pub body: String,
    /// The target's `version` as last read; a different current version means a co-mentor
    /// changed it meanwhile (`CONFLICT`).
    pub expected_version: i32,
}

/// A community declines to answer.
#[derive(InputObject)]
pub struct DeclineInquiryInput {
    /// Your community's target of the inquiry.
    pub target_id: ID,
    /// Why the community does not answer.
    pub reason: String,
    /// The target's version you saw; a co-mentor's newer change is a CONFLICT.
    pub expected_version: i32,
}

/// A follow-up message on a target.
#[derive(InputObject)]
pub struct PostInquiryMessageInput {
    /// The target whose thread the message belongs to.
    pub target_id: ID,
    /// Markdown.
    pub body: String,
}

fn parse_ids(field: &str, ids: &[ID]) -> AppResult<Vec<uuid::Uuid>> {
    ids.iter().map(|id| parse_id(field, id)).collect()
}

impl CreateInquiryInput {
    fn parse(self) -> AppResult<NewInquiry> {
        let addressees = match (self.all_communities, self.community_ids.is_empty()) {
            (true, true) => Addressees::All,
            (false, _) => Addressees::Some(parse_ids("communityIds", &self.community_ids)?),
            (true, false) => {
                return Err(AppError::bad_input(
                    "communityIds",
                    "leave empty when addressing all communities",
                ));
            }
        };
        Ok(NewInquiry {
            organization_id: parse_id("organizationId", &self.organization_id)?,
            title: NonEmptyText::line("title", &self.title, service::MAX_TITLE)?,
            body: NonEmptyText::input("body", &self.body, service::MAX_BODY)?,
            topic_ids: parse_ids("topicIds", &self.topic_ids)?,
            deadline: self.deadline,
            addressees,
            answers_shared: self.share_answers,
        })
    }
}

#[derive(Default)]
pub struct InquiryMutation;

#[Object]
impl InquiryMutation {
    /// Lead or contact: save a draft inquiry for your organization.
    async fn create_inquiry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft.")] input: CreateInquiryInput,
        #[graphql(
            desc = "Optional: the same key sent again (a double press, a retry) returns the draft the first request made."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Inquiry> {
        let viewer = require_viewer(ctx)?;
        if let Some(key) = &idempotency_key {
            idempotency::check(key)?;
        }
        let new = input.parse()?;
        let state = ctx.data::<AppState>()?;
        let key = idempotency_key.as_deref();
        let inquiry = state
            .changes
            .run(async |txn| {
                if let Some(key) = key
                    && let Some(id) = idempotency::replayed(txn, viewer.id(), key).await?
                {
                    let loaded = service::load_readable(txn, viewer, id).await?;
                    return Ok(Done::quiet(loaded.inquiry));
                }
                let (inquiry, event) = service::create_inquiry(txn, viewer, new).await?;
                if let Some(key) = key {
                    idempotency::remember(txn, viewer.id(), key, inquiry.id).await?;
                }
                Ok((inquiry, event).into_done())
            })
            .await?;
        Ok(Inquiry::new(inquiry))
    }

    /// The inquiring organization: change a draft (its text, deadline, topics and addressed
    /// communities; the organization stays). A published inquiry is `CONFLICT`.
    async fn update_inquiry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft to change.")] id: ID,
        #[graphql(desc = "The draft as it should be now.")] input: CreateInquiryInput,
    ) -> async_graphql::Result<Inquiry> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let new = input.parse()?;
        let state = ctx.data::<AppState>()?;
        let inquiry = state
            .changes
            .run(async |txn| service::update_draft(txn, viewer, id, new).await)
            .await?;
        Ok(Inquiry::new(inquiry))
    }

    /// The inquiring organization: publish a draft to its communities.
    async fn publish_inquiry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft to publish.")] id: ID,
    ) -> async_graphql::Result<Inquiry> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        let inquiry = state
            .changes
            .run(async |txn| service::publish_inquiry(txn, viewer, id).await)
            .await?;
        Ok(Inquiry::new(inquiry))
    }

    /// The inquiring organization: close the inquiry; answers can no longer change.
    async fn close_inquiry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The inquiry to close.")] id: ID,
    ) -> async_graphql::Result<Inquiry> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        let inquiry = state
            .changes
            .run(async |txn| service::close_inquiry(txn, viewer, id).await)
            .await?;
        Ok(Inquiry::new(inquiry))
    }

    /// Mentor: answer for your community, or change the answer while the inquiry is open.
    async fn answer_inquiry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your community's answer.")] input: AnswerInquiryInput,
    ) -> async_graphql::Result<InquiryTarget> {
        let body = NonEmptyText::input("body", &input.body, service::MAX_BODY)?;
        respond(
            ctx,
            &input.target_id,
            SlotResponse::Answer(body),
            input.expected_version,
        )
        .await
    }

    /// Mentor: decline for your community, with a reason.
    async fn decline_inquiry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your community's decline.")] input: DeclineInquiryInput,
    ) -> async_graphql::Result<InquiryTarget> {
        let reason = NonEmptyText::input("reason", &input.reason, service::MAX_BODY)?;
        respond(
            ctx,
            &input.target_id,
            SlotResponse::Decline(reason),
            input.expected_version,
        )
        .await
    }

    /// The inquirer or the community's mentors: add a message to a target's follow-up thread.
    async fn post_inquiry_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The message and its target.")] input: PostInquiryMessageInput,
        #[graphql(
            desc = "Optional: the same key sent again (a double press, a retry) returns the message the first request posted."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<InquiryMessage> {
        let viewer = require_viewer(ctx)?;
        if let Some(key) = &idempotency_key {
            idempotency::check(key)?;
        }
        let target = parse_id("targetId", &input.target_id)?;
        let body = NonEmptyText::input("body", &input.body, service::MAX_BODY)?;
        let state = ctx.data::<AppState>()?;
        let key = idempotency_key.as_deref();
        let message = state
            .changes
            .run(async |txn| {
                if let Some(key) = key
                    && let Some(id) = idempotency::replayed(txn, viewer.id(), key).await?
                    && let Some(earlier) =
                        <entity::inquiry_message::Entity as sea_orm::EntityTrait>::find_by_id(id)
                            .one(txn)
                            .await?
                {
                    return Ok(Done::quiet(earlier));
                }
                let (message, event) = service::post_message(txn, viewer, target, body).await?;
                if let Some(key) = key {
                    idempotency::remember(txn, viewer.id(), key, message.id).await?;
                }
                Ok((message, event).into_done())
            })
            .await?;
        Ok(InquiryMessage(message))
    }
}

async fn respond(
    ctx: &Context<'_>,
    target: &ID,
    response: SlotResponse,
    expected_version: i32,
) -> async_graphql::Result<InquiryTarget> {
    let viewer = require_viewer(ctx)?;
    let target = parse_id("targetId", target)?;
    let state = ctx.data::<AppState>()?;
    let (slot, inquiry) = state
        .changes
        .run(async |txn| {
            service::respond_to_inquiry(txn, viewer, target, response, expected_version).await
        })
        .await?;
    Ok(InquiryTarget {
        slot,
        inquiry,
        joined: None,
    })
}

#[derive(Default)]
pub struct InquirySubscription;

#[Subscription]
impl InquirySubscription {
    /// The inquiry, freshly read, each time something about it changes (published, answered,
    /// declined, a message, closed) that the caller may see.
    async fn inquiry_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The inquiry to follow.")] id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Inquiry>> {
        let viewer: Viewer = viewer(ctx).cloned().ok_or(AppError::Unauthenticated)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?.clone();
        let snapshots = ctx.data::<Arc<InquirySnapshots>>()?.clone();
        service::load_readable(&state.db, &viewer, id).await?;
        let events = readable_events(&state, Some(viewer.clone())).await?;
        Ok(events
            .filter(move |event| std::future::ready(event.model.subject_id == id))
            .filter_map(move |event| {
                let (state, viewer, snapshots) = (state.clone(), viewer.clone(), snapshots.clone());
                async move {
                    // One read per event for every subscriber here; each checks its own rights.
                    match snapshots.after(&state.db, event.model.seq, id).await {
                        Ok(Some(loaded)) if loaded.readable_by(&viewer) => {
                            Some(Inquiry(loaded.inquiry.clone(), Some(loaded), None))
                        }
                        Ok(_) => None,
                        Err(err) => {
                            err.log_if_internal();
                            None
                        }
                    }
                }
            }))
    }
}
