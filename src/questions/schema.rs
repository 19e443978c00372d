//! GraphQL types and thin resolvers of questions.

use crate::changes::{Done, IntoDone};
use crate::db::idempotency;
use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::question;

use super::access;
use super::service::{self, NewQuestion, QuestionFilter};
use crate::auth::require_viewer;
use crate::directory::loaders::{OrganizationById, UserById};
use crate::directory::schema::{Organization, Person};
use crate::error::{AppError, AppResult};
use crate::graphql::pagination::Page;
use crate::graphql::{load_one, parse_id};
use crate::inquiries::service::{MAX_BODY, MAX_TITLE};
use crate::state::AppState;
use crate::topics::loaders::TopicsByQuestion;
use crate::topics::schema::Topic;
use crate::values::NonEmptyText;

/// Lifecycle of a question.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::question::QuestionStatus")]
pub enum QuestionStatus {
    /// Waiting for the community's mentors.
    Submitted,
    /// With a service unit.
    Forwarded,
    /// Answered by a mentor or the service unit.
    Answered,
    /// Closed without an answer (for example a duplicate).
    Closed,
}

/// What a staff member brings up.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::question::QuestionKind")]
pub enum QuestionKind {
    /// A question that wants an answer.
    Question,
    /// A wish: something the staff member would like a service unit to do or change.
    Wish,
    /// A view: how things look from the staff member's work, for a service unit to know.
    View,
}

/// What the service unit decided about a wish or a view.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::question::Decision")]
pub enum Decision {
    /// Taken into account.
    Noted,
    /// Planned to be done.
    Planned,
    /// Done.
    Done,
    /// Not possible (the reason says why).
    NotPossible,
}

/// How long the question took, in seconds, at each step so far.
#[derive(SimpleObject)]
pub struct ResponseTimes {
    /// From submission to forwarding.
    pub to_forward_seconds: Option<i64>,
    /// From submission to the answer.
    pub to_answer_seconds: Option<i64>,
    /// From forwarding to the service unit's answer.
    pub forward_to_answer_seconds: Option<i64>,
}

/// A staff member's question to their community's mentors.
pub struct Question(pub question::Model);

fn seconds(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> Option<i64> {
    to.map(|to| (to - from).num_seconds())
}

async fn person(
    ctx: &Context<'_>,
    id: Option<uuid::Uuid>,
) -> async_graphql::Result<Option<Person>> {
    match id {
        Some(id) => Ok(load_one::<UserById>(ctx, id)
            .await?
            .map(Person::participant)),
        None => Ok(None),
    }
}

async fn organization(
    ctx: &Context<'_>,
    id: Option<uuid::Uuid>,
) -> async_graphql::Result<Option<Organization>> {
    match id {
        Some(id) => Ok(load_one::<OrganizationById>(ctx, id)
            .await?
            .map(Organization)),
        None => Ok(None),
    }
}

/// A staff member's question, sent up through the community's mentors to the right service unit.
#[Object]
impl Question {
    /// The question's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The asker's community.
    async fn community(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        organization(ctx, Some(self.0.community_id)).await
    }
    /// Who asked; null for a service unit when the mentor hid the asker.
    async fn asker(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        let viewer = require_viewer(ctx)?;
        if access::shows_asker(viewer, &self.0) {
            person(ctx, Some(self.0.asker_id)).await
        } else {
            Ok(None)
        }
    }
    /// The forwarding mentor hid the asker from the service unit.
    async fn asker_hidden(&self) -> bool {
        self.0.hide_asker
    }
    /// The asker wished, when asking, that the service unit not see their name (shown to the
    /// asker and the community's mentors, who decide when forwarding).
    async fn asker_wishes_hidden(&self, ctx: &Context<'_>) -> bool {
        crate::auth::viewer(ctx).is_some_and(|v| {
            self.0.asker_id == v.id()
                || v.is_admin()
                || v.holds(self.0.community_id, entity::membership::Role::Mentor)
        }) && self.0.hide_wish
    }
    /// A short title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Markdown.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Topics the question is about.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Topic>> {
        Ok(load_one::<TopicsByQuestion>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Topic)
            .collect())
    }
    /// A question, a wish or a view.
    async fn kind(&self) -> QuestionKind {
        self.0.kind.into()
    }
    /// The service unit's latest decision on a wish or a view.
    async fn decision(&self) -> Option<Decision> {
        self.0.decision.map(Into::into)
    }
    /// Why, as the service unit wrote it.
    async fn decision_reason(&self) -> Option<&str> {
        self.0.decision_reason.as_deref()
    }
    /// Who at the service unit recorded the decision.
    async fn decided_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        person(ctx, self.0.decided_by).await
    }
    /// When the decision was recorded (or last changed).
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
    /// Where the question is now.
    async fn status(&self) -> QuestionStatus {
        self.0.status.into()
    }
    /// The service unit it was forwarded to.
    async fn service_unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        organization(ctx, self.0.service_unit_id).await
    }
    /// The mentor's note to the service unit.
    async fn forward_note(&self) -> Option<&str> {
        self.0.forward_note.as_deref()
    }
    /// The mentor who forwarded it.
    async fn forwarded_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        person(ctx, self.0.forwarded_by).await
    }
    /// Markdown.
    async fn answer(&self) -> Option<&str> {
        self.0.answer.as_deref()
    }
    /// Who answered it.
    async fn answered_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        person(ctx, self.0.answered_by).await
    }
    /// Why it was closed, if it was.
    async fn close_reason(&self) -> Option<&str> {
        self.0.close_reason.as_deref()
    }
    /// The question this one duplicates, when closed as a duplicate.
    async fn duplicate_of(&self) -> Option<ID> {
        self.0.duplicate_of.map(|id| ID(id.to_string()))
    }
    /// When it was asked.
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was forwarded.
    async fn forwarded_at(&self) -> Option<DateTime<Utc>> {
        self.0.forwarded_at
    }
    /// When it was answered.
    async fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.0.answered_at
    }
    /// When it was closed.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// Submitted → forwarded → answered, in seconds.
    async fn response_times(&self) -> ResponseTimes {
        ResponseTimes {
            to_forward_seconds: seconds(self.0.created_at, self.0.forwarded_at),
            to_answer_seconds: seconds(self.0.created_at, self.0.answered_at),
            forward_to_answer_seconds: self
                .0
                .forwarded_at
                .and_then(|f| seconds(f, self.0.answered_at)),
        }
    }
}

/// Narrows the question list.
#[derive(InputObject, Default)]
pub struct QuestionFilterInput {
    /// Only questions in this state.
    pub status: Option<QuestionStatus>,
    /// Only questions, only wishes or only views.
    pub kind: Option<QuestionKind>,
    /// Only questions asked in this community.
    pub community_id: Option<ID>,
    /// Only questions forwarded to this service unit.
    pub service_unit_id: Option<ID>,
}

#[derive(Default)]
pub struct QuestionQuery;

#[Object]
impl QuestionQuery {
    /// Questions the caller may read, newest first: their own, their community's (mentors),
    /// those forwarded to their unit (contacts).
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn questions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The cursor after which to continue.")] after: Option<String>,
        #[graphql(desc = "Which questions.")] filter: Option<QuestionFilterInput>,
    ) -> async_graphql::Result<Connection<String, Question>> {
        let viewer = require_viewer(ctx)?;
        let page = Page::new(first, after)?;
        let input = filter.unwrap_or_default();
        let optional_id =
            |field: &str, id: &Option<ID>| id.as_ref().map(|id| parse_id(field, id)).transpose();
        let filter = QuestionFilter {
            status: input.status.map(Into::into),
            kind: input.kind.map(Into::into),
            community: optional_id("communityId", &input.community_id)?,
            service_unit: optional_id("serviceUnitId", &input.service_unit_id)?,
        };
        let state = ctx.data::<AppState>()?;
        let rows = service::list_questions(&state.db, viewer, &filter, &page).await?;
        Ok(crate::graphql::pagination::connection(
            &page,
            rows.into_iter().map(|q| (q.id, Question(q))).collect(),
        ))
    }

    /// One question, or null when it does not exist or is not the caller's to read.
    async fn question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question's id.")] id: ID,
    ) -> async_graphql::Result<Option<Question>> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        match service::load_readable(&state.db, viewer, id).await {
            Ok(q) => Ok(Some(Question(q))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

/// A question to your community's mentors.
#[derive(InputObject)]
pub struct AskQuestionInput {
    /// Your community.
    pub community_id: ID,
    /// A short title for the question.
    pub title: String,
    /// Markdown.
    pub body: String,
    /// Topics the question is about.
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
    /// Ask your mentors not to show your name to the service unit if they forward it.
    #[graphql(default)]
    pub hide_my_name: bool,
    /// A question (the default), a wish or a view.
    #[graphql(default_with = "QuestionKind::Question")]
    pub kind: QuestionKind,
}

/// A service unit's decision on a wish or a view.
#[derive(InputObject)]
pub struct DecideQuestionInput {
    /// The wish or view.
    pub question_id: ID,
    /// What happens to it.
    pub decision: Decision,
    /// Why; needed when it is not possible. The asker and the mentors see it.
    pub reason: Option<String>,
}

/// Hand a question to a service unit.
#[derive(InputObject)]
pub struct ForwardQuestionInput {
    /// The question to forward.
    pub question_id: ID,
    /// The service unit that should answer.
    pub service_unit_id: ID,
    /// A note for the service unit's contacts.
    pub note: Option<String>,
    /// Hide who asked from the service unit.
    #[graphql(default)]
    pub hide_asker: bool,
}

/// A mentor's or a service unit contact's answer to a question.
#[derive(InputObject)]
pub struct AnswerQuestionInput {
    /// The question to answer.
    pub question_id: ID,
    /// Markdown.
    pub body: String,
}

/// A mentor closes a question without forwarding it.
#[derive(InputObject)]
pub struct CloseQuestionInput {
    /// The question to close.
    pub question_id: ID,
    /// Why it is closed; the asker sees it.
    pub reason: String,
    /// When closing as a duplicate: the question it duplicates (same community).
    pub duplicate_of: Option<ID>,
}

#[derive(Default)]
pub struct QuestionMutation;

#[Object]
impl QuestionMutation {
    /// Staff: ask your community's mentors.
    async fn ask_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question.")] input: AskQuestionInput,
        #[graphql(
            desc = "Optional: the same key sent again (a double press, a retry) returns the question the first request made."
        )]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Question> {
        let viewer = require_viewer(ctx)?;
        if let Some(key) = &idempotency_key {
            idempotency::check(key)?;
        }
        let new = NewQuestion {
            community_id: parse_id("communityId", &input.community_id)?,
            title: NonEmptyText::line("title", &input.title, MAX_TITLE)?,
            body: NonEmptyText::input("body", &input.body, MAX_BODY)?,
            topic_ids: input
                .topic_ids
                .iter()
                .map(|id| parse_id("topicIds", id))
                .collect::<AppResult<_>>()?,
            hide_wish: input.hide_my_name,
            kind: input.kind.into(),
        };
        let state = ctx.data::<AppState>()?;
        let key = idempotency_key.as_deref();
        let q = state
            .changes
            .run(async |txn| {
                if let Some(key) = key
                    && let Some(id) = idempotency::replayed(txn, viewer.id(), key).await?
                {
                    return Ok(Done::quiet(service::load_readable(txn, viewer, id).await?));
                }
                let (q, event) = service::ask_question(txn, viewer, new).await?;
                if let Some(key) = key {
                    idempotency::remember(txn, viewer.id(), key, q.id).await?;
                }
                Ok((q, event).into_done())
            })
            .await?;
        Ok(Question(q))
    }

    /// Mentor: forward a question to a service unit.
    async fn forward_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question and where it goes.")] input: ForwardQuestionInput,
    ) -> async_graphql::Result<Question> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("questionId", &input.question_id)?;
        let unit = parse_id("serviceUnitId", &input.service_unit_id)?;
        let note = match input.note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(note) => Some(NonEmptyText::input("note", note, MAX_BODY)?),
        };
        let state = ctx.data::<AppState>()?;
        let q = state
            .changes
            .run(async |txn| {
                service::forward_question(txn, viewer, id, unit, note, input.hide_asker).await
            })
            .await?;
        Ok(Question(q))
    }

    /// Mentor (before forwarding) or the service unit's contact (after): answer a question.
    async fn answer_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The answer.")] input: AnswerQuestionInput,
    ) -> async_graphql::Result<Question> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("questionId", &input.question_id)?;
        let body = NonEmptyText::input("body", &input.body, MAX_BODY)?;
        let state = ctx.data::<AppState>()?;
        let q = state
            .changes
            .run(async |txn| service::answer_question(txn, viewer, id, body).await)
            .await?;
        Ok(Question(q))
    }

    /// The service unit's contact: record what happens to a wish or a view forwarded to the
    /// unit (noted, planned, done, or not possible with a reason); it can be changed later.
    /// The asker and the community's mentors are told by email.
    async fn decide_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The decision.")] input: DecideQuestionInput,
    ) -> async_graphql::Result<Question> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("questionId", &input.question_id)?;
        let reason = match input.reason.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(reason) => Some(NonEmptyText::input("reason", reason, MAX_BODY)?),
        };
        let decision = input.decision.into();
        let state = ctx.data::<AppState>()?;
        let q = state
            .changes
            .run(async |txn| service::decide_question(txn, viewer, id, decision, reason).await)
            .await?;
        Ok(Question(q))
    }

    /// Mentor: close a question, e.g. as a duplicate.
    async fn close_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question and why it is closed.")] input: CloseQuestionInput,
    ) -> async_graphql::Result<Question> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("questionId", &input.question_id)?;
        let reason = NonEmptyText::input("reason", &input.reason, MAX_BODY)?;
        let duplicate_of = input
            .duplicate_of
            .as_ref()
            .map(|d| parse_id("duplicateOf", d))
            .transpose()?;
        let state = ctx.data::<AppState>()?;
        let q = state
            .changes
            .run(async |txn| service::close_question(txn, viewer, id, reason, duplicate_of).await)
            .await?;
        Ok(Question(q))
    }
}
