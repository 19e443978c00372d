//! GraphQL types and resolvers of the news column.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::news_post;

use super::service::{self, NewsInput};
use crate::agenda::schema::{AgendaItem, handled_in};
use crate::auth::{require_viewer, viewer};
use crate::directory::loaders::UserById;
use crate::directory::schema::Person;
use crate::error::AppResult;
use crate::graphql::pagination::Page;
use crate::graphql::{load_one, parse_id};
use crate::inquiries::service::{MAX_BODY, MAX_TITLE};
use crate::partners::schema::{PartnerNetwork, partner_of};
use crate::state::AppState;
use crate::topics::loaders::TopicsByNews;
use crate::topics::schema::Topic;
use crate::values::NonEmptyText;

/// A post in the news column (a meeting report when linked to a meeting).
pub struct NewsPost(pub news_post::Model);

/// A post in the network's news column (a meeting report or other news); public.
#[Object]
impl NewsPost {
    /// The post's id.
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
    /// Who wrote it; null when their account is gone.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_one::<UserById>(ctx, self.0.author_id)
            .await?
            .map(Person::author))
    }
    /// Topics the post is about.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Topic>> {
        Ok(load_one::<TopicsByNews>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Topic)
            .collect())
    }
    /// The meeting this post reports on, if it is a meeting report.
    async fn meeting_id(&self) -> Option<ID> {
        self.0.meeting_id.map(|id| ID(id.to_string()))
    }
    /// The partner network the news comes from, if any.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PartnerNetwork>> {
        partner_of(ctx, self.0.partner_id).await
    }
    /// For a meeting report: the network's agenda items the meeting handled.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn handled_agenda_items(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<AgendaItem>> {
        if self.0.meeting_id.is_none() {
            return Ok(Vec::new());
        }
        handled_in(ctx, self.0.id).await
    }
    /// Null while withdrawn.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Title, Markdown body and topics of a post.
#[derive(InputObject)]
#[graphql(name = "NewsInput")]
pub struct NewsInputObject {
    /// A short title.
    pub title: String,
    /// The text (Markdown).
    pub body: String,
    /// Topics the post is about; their subscribers hear of it.
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
    /// The partner network the news comes from, if any.
    pub partner_id: Option<ID>,
}

impl NewsInputObject {
    pub fn parse(self) -> AppResult<NewsInput> {
        Ok(NewsInput {
            title: NonEmptyText::line("title", &self.title, MAX_TITLE)?,
            body: NonEmptyText::input("body", &self.body, MAX_BODY)?,
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

#[derive(Default)]
pub struct NewsQuery;

#[Object]
impl NewsQuery {
    /// The news column, newest first; readable without login.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn news(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The cursor after which to continue.")] after: Option<String>,
        #[graphql(desc = "Only posts about this topic.")] topic_id: Option<ID>,
    ) -> async_graphql::Result<Connection<String, NewsPost>> {
        let page = Page::new(first, after)?;
        let topic = topic_id
            .as_ref()
            .map(|id| parse_id("topicId", id))
            .transpose()?;
        let state = ctx.data::<AppState>()?;
        let rows = service::list(&state.db, topic, &page).await?;
        Ok(crate::graphql::pagination::connection(
            &page,
            rows.into_iter().map(|p| (p.id, NewsPost(p))).collect(),
        ))
    }

    /// One post, or null when it does not exist or is withdrawn.
    async fn news_post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post's id.")] id: ID,
    ) -> async_graphql::Result<Option<NewsPost>> {
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        Ok(service::find_readable(&state.db, viewer(ctx), id)
            .await?
            .map(NewsPost))
    }
}

#[derive(Default)]
pub struct NewsMutation;

#[Object]
impl NewsMutation {
    /// Admins, contacts and mentors: publish a post.
    async fn publish_news(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post.")] input: NewsInputObject,
    ) -> async_graphql::Result<NewsPost> {
        let viewer = require_viewer(ctx)?;
        let input = input.parse()?;
        let state = ctx.data::<AppState>()?;
        let post = state
            .changes
            .run(async |txn| service::publish(txn, viewer, input, None).await)
            .await?;
        Ok(NewsPost(post))
    }

    /// The author or an admin: edit a post.
    async fn update_news(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post to change.")] id: ID,
        #[graphql(desc = "Its new title, text and topics.")] input: NewsInputObject,
    ) -> async_graphql::Result<NewsPost> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let input = input.parse()?;
        let state = ctx.data::<AppState>()?;
        let post = state
            .changes
            .run(async |txn| service::update(txn, viewer, id, input).await)
            .await?;
        Ok(NewsPost(post))
    }

    /// The author or an admin: withdraw a post from the column and the feed.
    async fn unpublish_news(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post to take down.")] id: ID,
    ) -> async_graphql::Result<NewsPost> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        let post = state
            .changes
            .run(async |txn| service::unpublish(txn, viewer, id).await)
            .await?;
        Ok(NewsPost(post))
    }
}
