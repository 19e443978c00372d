//! GraphQL types and resolvers of topics.

use async_graphql::{Context, ID, InputObject, Object};
use entity::topic;

use super::service;
use crate::audit::service as audit;
use crate::auth::require_admin;
use crate::directory::schema::{Locale, TranslatedName, display_locale};
use crate::error::AppError;
use crate::state::AppState;
use crate::values::{Slug, TranslatedNames};

/// A digitalisation theme, e.g. Moodle or AI in teaching.
pub struct Topic(pub topic::Model);

/// A subject that inquiries, questions, news, tips and meetings are about, and that people follow.
#[Object]
impl Topic {
    /// The topic's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// A short unique name for links, e.g. `moodle`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// The name in Finnish, Swedish and English.
    async fn names(&self) -> TranslatedName {
        TranslatedName::new(&self.0.name_fi, &self.0.name_sv, &self.0.name_en)
    }
    /// The name in `locale`, or in the caller's locale.
    async fn name(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The language; defaults to Finnish.")] locale: Option<Locale>,
    ) -> String {
        TranslatedName::new(&self.0.name_fi, &self.0.name_sv, &self.0.name_en)
            .pick(display_locale(ctx, locale))
            .to_owned()
    }
}

#[derive(Default)]
pub struct TopicQuery;

#[Object]
impl TopicQuery {
    /// Every topic of the network.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Topic>> {
        let state = ctx.data::<AppState>()?;
        Ok(service::list_topics(&state.db)
            .await?
            .into_iter()
            .map(Topic)
            .collect())
    }
}

/// A new topic.
#[derive(InputObject)]
pub struct CreateTopicInput {
    /// A short unique name for links, e.g. `moodle`.
    pub slug: String,
    /// The name in Finnish.
    pub name_fi: String,
    /// The name in Swedish.
    pub name_sv: String,
    /// The name in English.
    pub name_en: String,
}

/// A topic's names in the three languages.
#[derive(InputObject)]
pub struct TopicNamesInput {
    /// The name in Finnish.
    pub name_fi: String,
    /// The name in Swedish.
    pub name_sv: String,
    /// The name in English.
    pub name_en: String,
}

#[derive(Default)]
pub struct TopicMutation;

#[Object]
impl TopicMutation {
    /// Admin: create a topic.
    async fn create_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new topic.")] input: CreateTopicInput,
    ) -> async_graphql::Result<Topic> {
        let actor = require_admin(ctx)?;
        let slug = Slug::parse(input.slug.trim()).map_err(AppError::invalid("slug"))?;
        let names = TranslatedNames::parse(&input.name_fi, &input.name_sv, &input.name_en)?;
        let state = ctx.data::<AppState>()?;
        let topic = state
            .changes
            .run(async |txn| {
                audit::created::<topic::Entity, _>(
                    txn,
                    Some(actor.id()),
                    "createTopic",
                    async || service::create_topic(txn, Some(actor.id()), slug, names).await,
                    |(topic, _)| topic.id,
                )
                .await
            })
            .await?;
        Ok(Topic(topic))
    }

    /// Admin: rename a topic (its slug stays, so links keep working).
    async fn update_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic.")] id: ID,
        #[graphql(desc = "The new names.")] input: TopicNamesInput,
    ) -> async_graphql::Result<Topic> {
        let actor = require_admin(ctx)?;
        let id = crate::graphql::parse_id("id", &id)?;
        let names = TranslatedNames::parse(&input.name_fi, &input.name_sv, &input.name_en)?;
        let state = ctx.data::<AppState>()?;
        let topic = state
            .changes
            .run(async |txn| {
                audit::around::<topic::Entity, _>(
                    txn,
                    audit::Action::by(actor.id(), "updateTopic", id),
                    async || service::rename_topic(txn, Some(actor.id()), id, names).await,
                )
                .await
            })
            .await?;
        Ok(Topic(topic))
    }

    /// Admin: merge topic `from` into `into`: everything tagged with `from` is tagged with
    /// `into`, its followers follow `into` (keeping their setting for `into` if they followed
    /// both), and `from` is deleted. Returns `into`.
    async fn merge_topics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic that goes away.")] from: ID,
        #[graphql(desc = "The topic that stays.")] into: ID,
    ) -> async_graphql::Result<Topic> {
        let actor = require_admin(ctx)?;
        let from = crate::graphql::parse_id("from", &from)?;
        let into = crate::graphql::parse_id("into", &into)?;
        let state = ctx.data::<AppState>()?;
        let topic = state
            .changes
            .run(async |txn| {
                // Before: the topic that goes away; after: the one that stays.
                let before = audit::snapshot::<topic::Entity>(txn, from).await?;
                let merged = service::merge_topics(txn, Some(actor.id()), from, into).await?;
                let after = audit::snapshot::<topic::Entity>(txn, into).await?;
                let action = audit::Action::by(actor.id(), "mergeTopics", from);
                audit::record(txn, action, before, after).await?;
                Ok(merged)
            })
            .await?;
        Ok(Topic(topic))
    }
}
