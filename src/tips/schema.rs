//! GraphQL types and resolvers of the tips bank.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::{organization, tip, topic};
use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

use super::service::{self, TipInput};
use crate::auth::require_viewer;
use crate::directory::loaders::{OrganizationById, UserById};
use crate::directory::schema::{Organization, Person};
use crate::error::{AppError, AppResult};
use crate::graphql::pagination::Page;
use crate::graphql::{load_one, parse_id};
use crate::inquiries::service::{MAX_BODY, MAX_TITLE};
use crate::state::AppState;
use crate::topics::loaders::TopicsByTip;
use crate::topics::schema::Topic;
use crate::values::NonEmptyText;

/// A good practice from a community, with its organization and topics when a page read them
/// for all its tips at once.
pub struct Tip(pub tip::Model, Option<Arc<PageOfTips>>);

/// A loader's error as the service's.
fn loaded(err: Arc<sea_orm::DbErr>) -> AppError {
    AppError::from(Arc::unwrap_or_clone(err))
}

/// What a page of tips read for all of them together, each only when the selection asks.
#[derive(Default)]
struct PageOfTips {
    organizations: Option<HashMap<Uuid, organization::Model>>,
    topics: Option<HashMap<Uuid, Vec<topic::Model>>>,
}

impl Tip {
    pub fn new(model: tip::Model) -> Self {
        Self(model, None)
    }

    /// Tips as a page's selection (`nodes`, or a connection's `edges { node }`) reads them: the
    /// organizations and the topics it asks for are read here for the whole page, one call of
    /// each loader, so the page costs the same number of statements alone and under load
    /// (a batch loader's window splits under load).
    async fn page<'a>(
        nodes: &[async_graphql::Lookahead<'a>],
        db: &DatabaseConnection,
        rows: Vec<tip::Model>,
    ) -> AppResult<Vec<(Uuid, Self)>> {
        let wants = |field: &str| nodes.iter().any(|node| node.field(field).exists());
        let mut page = PageOfTips::default();
        if !rows.is_empty() && wants("organization") {
            let ids: Vec<Uuid> = rows.iter().map(|t| t.organization_id).collect();
            page.organizations = Some(
                OrganizationById(db.clone())
                    .load(&ids)
                    .await
                    .map_err(loaded)?,
            );
        }
        if !rows.is_empty() && wants("topics") {
            let ids: Vec<Uuid> = rows.iter().map(|t| t.id).collect();
            page.topics = Some(
                TopicsByTip::new(db.clone())
                    .load(&ids)
                    .await
                    .map_err(loaded)?,
            );
        }
        let page = Arc::new(page);
        Ok(rows
            .into_iter()
            .map(|t| (t.id, Self(t, Some(page.clone()))))
            .collect())
    }

    fn read_with_page(&self) -> Option<&PageOfTips> {
        self.1.as_deref()
    }
}

/// A good practice shared in the network's tips bank; public.
#[Object]
impl Tip {
    /// The tip's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// A short title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Markdown.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// The originating community (or service unit).
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        if let Some(read) = self.read_with_page().and_then(|p| p.organizations.as_ref()) {
            return Ok(read.get(&self.0.organization_id).cloned().map(Organization));
        }
        Ok(load_one::<OrganizationById>(ctx, self.0.organization_id)
            .await?
            .map(Organization))
    }
    /// Who shared it; null when their account is gone.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_one::<UserById>(ctx, self.0.author_id)
            .await?
            .map(Person::author))
    }
    /// Topics the tip is about.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Topic>> {
        if let Some(read) = self.read_with_page().and_then(|p| p.topics.as_ref()) {
            return Ok(read
                .get(&self.0.id)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(Topic)
                .collect());
        }
        Ok(load_one::<TopicsByTip>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Topic)
            .collect())
    }
    /// Set when the tip began as a community's inquiry answer.
    async fn promoted_from_answer(&self) -> Option<ID> {
        self.0.source_target_id.map(|id| ID(id.to_string()))
    }
    /// When it was shared.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Title, Markdown body and topics of a tip.
#[derive(InputObject)]
#[graphql(name = "TipInput")]
pub struct TipInputObject {
    /// A short title.
    pub title: String,
    /// The tip (Markdown).
    pub body: String,
    /// Topics the tip is about; their subscribers hear of it.
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
}

impl TipInputObject {
    fn parse(self) -> AppResult<TipInput> {
        Ok(TipInput {
            title: NonEmptyText::line("title", &self.title, MAX_TITLE)?,
            body: NonEmptyText::input("body", &self.body, MAX_BODY)?,
            topic_ids: self
                .topic_ids
                .iter()
                .map(|id| parse_id("topicIds", id))
                .collect::<AppResult<_>>()?,
        })
    }
}

#[derive(Default)]
pub struct TipQuery;

#[Object]
impl TipQuery {
    /// The tips bank, readable without login: with `search`, ranked by relevance (title hits
    /// first; `after` is not used); otherwise newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn tips(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words to look for in titles and texts.")] search: Option<String>,
        #[graphql(desc = "Only tips about this topic.")] topic: Option<ID>,
        #[graphql(desc = "How many to return (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The cursor after which to continue.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Tip>> {
        if search.as_deref().is_some_and(|s| s.len() > 500) {
            return Err(AppError::bad_input("search", "is longer than 500 characters").into());
        }
        let page = Page::new(first, after)?;
        let topic = topic.as_ref().map(|id| parse_id("topic", id)).transpose()?;
        let state = ctx.data::<AppState>()?;
        let rows = service::list(&state.db, search.as_deref(), topic, &page).await?;
        let look_ahead = ctx.look_ahead();
        let nodes = [
            look_ahead.field("edges").field("node"),
            look_ahead.field("nodes"),
        ];
        Ok(crate::graphql::pagination::connection(
            &page,
            Tip::page(&nodes, &state.db, rows).await?,
        ))
    }

    /// One tip, or null.
    async fn tip(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tip's id.")] id: ID,
    ) -> async_graphql::Result<Option<Tip>> {
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        Ok(tip::Entity::find_by_id(id)
            .one(&state.db)
            .await
            .map_err(AppError::from)?
            .map(Tip::new))
    }
}

#[derive(Default)]
pub struct TipMutation;

#[Object]
impl TipMutation {
    /// Mentors (for their community) and contacts (for their unit): add a tip.
    async fn create_tip(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your community or unit, whose tip it is.")] organization_id: ID,
        #[graphql(desc = "The tip.")] input: TipInputObject,
    ) -> async_graphql::Result<Tip> {
        let viewer = require_viewer(ctx)?;
        let organization = parse_id("organizationId", &organization_id)?;
        let input = input.parse()?;
        let state = ctx.data::<AppState>()?;
        let tip = state
            .changes
            .run(async |txn| service::create(txn, viewer, organization, input).await)
            .await?;
        Ok(Tip::new(tip))
    }

    /// The author or an admin: edit a tip.
    async fn update_tip(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tip to change.")] id: ID,
        #[graphql(desc = "Its new title, text and topics.")] input: TipInputObject,
    ) -> async_graphql::Result<Tip> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let input = input.parse()?;
        let state = ctx.data::<AppState>()?;
        let tip = state
            .changes
            .run(async |txn| service::update(txn, viewer, id, input).await)
            .await?;
        Ok(Tip::new(tip))
    }

    /// Turn a community's answer (`InquiryTarget.id`) into a tip attributed to it, once.
    async fn promote_answer_to_tip(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The answered target whose answer becomes a tip.")] target_id: ID,
    ) -> async_graphql::Result<Tip> {
        let viewer = require_viewer(ctx)?;
        let target = parse_id("targetId", &target_id)?;
        let state = ctx.data::<AppState>()?;
        let tip = state
            .changes
            .run(async |txn| service::promote_answer(txn, viewer, target).await)
            .await?;
        Ok(Tip::new(tip))
    }
}
