//! GraphQL types and resolvers of the network's agenda.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::agenda_item;

use super::service;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::audit::service as audit;
use crate::auth::require_viewer;
use crate::changes::{Done, IntoDone};
use crate::directory::loaders::UserById;
use crate::directory::schema::Person;
use crate::error::AppResult;
use crate::graphql::{load_one, parse_id};
use crate::inquiries::service::{MAX_BODY, MAX_TITLE};
use crate::state::AppState;
use crate::topics::schema::Topic;
use crate::values::NonEmptyText;

/// Where an item of the network's agenda stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::agenda_item::AgendaStatus")]
pub enum AgendaStatus {
    /// Proposed; digimentors may support it.
    Proposed,
    /// On a meeting's agenda.
    OnAgenda,
    /// Handled at its meeting; the report names it.
    Handled,
}

/// An item proposed for the network meeting's agenda.
pub struct AgendaItem {
    pub item: agenda_item::Model,
    /// How many support it, and whether the reader does: known for a list, read once when
    /// asked otherwise.
    support: tokio::sync::OnceCell<(u64, bool)>,
}

impl AgendaItem {
    pub fn new(item: agenda_item::Model) -> Self {
        Self {
            item,
            support: tokio::sync::OnceCell::new(),
        }
    }

    fn with_support(item: agenda_item::Model, count: u64, mine: bool) -> Self {
        Self {
            item,
            support: tokio::sync::OnceCell::new_with(Some((count, mine))),
        }
    }

    /// How many support it and whether the reader does, reading its supporters at most once.
    async fn support(&self, ctx: &Context<'_>) -> async_graphql::Result<(u64, bool)> {
        let support = self
            .support
            .get_or_try_init(|| async {
                let state = ctx.data::<AppState>()?;
                let supporters = service::supporters(&state.db, self.item.id).await?;
                let mine = crate::auth::viewer(ctx).is_some_and(|v| supporters.contains(&v.id()));
                Ok::<_, async_graphql::Error>((supporters.len() as u64, mine))
            })
            .await?;
        Ok(*support)
    }
}

/// An item proposed for the network meeting's agenda: proposals are read by signed-in people,
/// items on a meeting's agenda by anyone (through the meeting).
#[Object]
impl AgendaItem {
    /// The item's id.
    async fn id(&self) -> ID {
        ID(self.item.id.to_string())
    }
    /// What it is about, in a line.
    async fn title(&self) -> &str {
        &self.item.title
    }
    /// Why it matters (Markdown; may be empty).
    async fn body(&self) -> &str {
        &self.item.body
    }
    /// Where it stands.
    async fn status(&self) -> AgendaStatus {
        self.item.status.into()
    }
    /// Who proposed it.
    async fn proposed_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_one::<UserById>(ctx, self.item.proposed_by)
            .await?
            .map(Person::author))
    }
    /// How many digimentors support it.
    async fn support_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        Ok(self.support(ctx).await?.0)
    }
    /// Whether the reader supports it.
    async fn supported_by_me(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self.support(ctx).await?.1)
    }
    /// The meeting whose agenda it is on.
    async fn meeting_id(&self) -> Option<ID> {
        self.item.meeting_id.map(|id| ID(id.to_string()))
    }
    /// The report that recorded it handled.
    async fn report_id(&self) -> Option<ID> {
        self.item.report_id.map(|id| ID(id.to_string()))
    }
    /// When it was proposed.
    async fn proposed_at(&self) -> DateTime<Utc> {
        self.item.created_at
    }
    /// Topics it is about; digimentors who follow them hear of the proposal.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Topic>> {
        Ok(
            load_one::<crate::topics::loaders::TopicsByAgendaItem>(ctx, self.item.id)
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(Topic)
                .collect(),
        )
    }
}

/// An item to propose.
#[derive(InputObject)]
pub struct ProposeAgendaItemInput {
    /// What it is about, in a line.
    pub title: String,
    /// Why it matters (Markdown).
    #[graphql(default)]
    pub body: String,
    /// Topics it is about; digimentors who follow them hear of it.
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
}

#[derive(Default)]
pub struct AgendaQuery;

#[Object]
impl AgendaQuery {
    /// Items of the network's agenda, for signed-in people: proposals most supported first,
    /// then the items on meetings' agendas and those handled. At most 100.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn agenda_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only items in this state.")] status: Option<AgendaStatus>,
    ) -> async_graphql::Result<Vec<AgendaItem>> {
        let viewer = require_viewer(ctx)?;
        let state = ctx.data::<AppState>()?;
        Ok(
            service::list(&state.db, viewer, status.map(Into::into), 100)
                .await?
                .into_iter()
                .map(|(item, count, mine)| AgendaItem::with_support(item, count, mine))
                .collect(),
        )
    }
}

#[derive(Default)]
pub struct AgendaMutation;

#[Object]
impl AgendaMutation {
    /// Digimentors and admins: propose an item for the network meeting's agenda; the chair
    /// (every admin) is told by email.
    async fn propose_agenda_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item.")] input: ProposeAgendaItemInput,
    ) -> async_graphql::Result<AgendaItem> {
        let viewer = require_viewer(ctx)?;
        let title = NonEmptyText::line("title", &input.title, MAX_TITLE)?;
        let body = match input.body.trim() {
            "" => String::new(),
            body => NonEmptyText::input("body", body, MAX_BODY)?,
        };
        let topics = input
            .topic_ids
            .iter()
            .map(|id| parse_id("topicIds", id))
            .collect::<crate::error::AppResult<Vec<_>>>()?;
        let state = ctx.data::<AppState>()?;
        let item = state
            .changes
            .run(async |txn| service::propose(txn, viewer, title, body, topics).await)
            .await?;
        Ok(AgendaItem::new(item))
    }

    /// Digimentors and admins: support another's proposal (`supported: false` withdraws the
    /// support). Doing what is done already changes nothing.
    async fn support_agenda_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item.")] id: ID,
        #[graphql(default = true, desc = "Support it, or withdraw the support.")] supported: bool,
    ) -> async_graphql::Result<AgendaItem> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        let item = state
            .changes
            .run(async |txn| {
                let (item, event) = service::support(txn, viewer, id, supported).await?;
                Ok(match event {
                    Some(event) => (item, event).into_done(),
                    None => Done::quiet(item),
                })
            })
            .await?;
        Ok(AgendaItem::new(item))
    }

    /// The chair (admin): set the items on a coming meeting's agenda, in order (at most 30).
    /// Items left out go back to the proposals; each newly placed item's proposer and
    /// supporters are told by email.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn set_meeting_agenda(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting.")] meeting_id: ID,
        #[graphql(desc = "Its items, in order.")] item_ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<AgendaItem>> {
        let viewer = require_viewer(ctx)?;
        let meeting = parse_id("meetingId", &meeting_id)?;
        let items = item_ids
            .iter()
            .map(|id| parse_id("itemIds", id))
            .collect::<AppResult<Vec<_>>>()?;
        let state = ctx.data::<AppState>()?;
        let placed = state
            .changes
            .run(async |txn| {
                let agenda = || {
                    agenda_item::Entity::find()
                        .filter(agenda_item::Column::MeetingId.eq(meeting))
                        .order_by_asc(agenda_item::Column::Position)
                };
                let before = audit::snapshot_rows(txn, agenda()).await?;
                let placed = service::set_agenda(txn, viewer, meeting, &items).await?;
                let after = audit::snapshot_rows(txn, agenda()).await?;
                let action = audit::Action::by(viewer.id(), "setMeetingAgenda", meeting);
                audit::record(txn, action, Some(before), Some(after)).await?;
                Ok(placed)
            })
            .await?;
        Ok(placed.into_iter().map(AgendaItem::new).collect())
    }
}

/// The items on a meeting's agenda (for `Meeting.agendaItems`).
pub async fn of_meeting(
    ctx: &Context<'_>,
    meeting: uuid::Uuid,
) -> async_graphql::Result<Vec<AgendaItem>> {
    let state = ctx.data::<AppState>()?;
    Ok(service::of_meeting(&state.db, meeting)
        .await?
        .into_iter()
        .map(AgendaItem::new)
        .collect())
}

/// The items a report recorded handled (for `NewsPost.handledAgendaItems`).
pub async fn handled_in(
    ctx: &Context<'_>,
    report: uuid::Uuid,
) -> async_graphql::Result<Vec<AgendaItem>> {
    let state = ctx.data::<AppState>()?;
    Ok(service::handled_in(&state.db, report)
        .await?
        .into_iter()
        .map(AgendaItem::new)
        .collect())
}
