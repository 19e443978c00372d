//! GraphQL types and resolvers of partner networks.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::partner_network;

use super::service::{self, PartnerInput};
use crate::audit::service as audit;
use crate::auth::require_viewer;
use crate::error::AppResult;
use crate::graphql::{load_one, parse_id};
use crate::partners::loaders::PartnerById;
use crate::state::AppState;

/// How far a partner network reaches.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::partner_network::PartnerScope")]
pub enum PartnerScope {
    /// The university or its city.
    Local,
    /// Across the country.
    National,
    /// Across countries.
    International,
}

/// Another network, local or national, that the network works with; public.
pub struct PartnerNetwork(pub partner_network::Model);

/// A contact person of a partner network.
#[derive(SimpleObject)]
pub struct PartnerContactPerson {
    /// Their name.
    pub name: String,
    /// Their email address, if given.
    pub email: Option<String>,
    /// Their role in the partner network, if given.
    pub title: Option<String>,
}

/// Another network, local or national, that the network works with; readable without login.
#[Object]
impl PartnerNetwork {
    /// The partner network's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// A short unique name for links.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// The name the partner network uses of itself.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// How far it reaches.
    async fn scope(&self) -> PartnerScope {
        self.0.scope.into()
    }
    /// What it is and how the network works with it (Markdown; may be empty).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Its own site, if any.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    /// Its contact people, in the order given.
    async fn contacts(&self) -> Vec<PartnerContactPerson> {
        service::contacts(&self.0)
            .into_iter()
            .map(|c| PartnerContactPerson {
                name: c.name,
                email: c.email,
                title: c.title,
            })
            .collect()
    }
}

/// The partner network a meeting or a post names, if it still exists.
pub async fn partner_of(
    ctx: &Context<'_>,
    id: Option<uuid::Uuid>,
) -> async_graphql::Result<Option<PartnerNetwork>> {
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(load_one::<PartnerById>(ctx, id).await?.map(PartnerNetwork))
}

/// A contact person as given.
#[derive(InputObject)]
pub struct PartnerContactInput {
    /// Their name.
    pub name: String,
    /// Their email address.
    pub email: Option<String>,
    /// Their role in the partner network, e.g. "coordinator".
    pub title: Option<String>,
}

/// A partner network to add or change.
#[derive(InputObject)]
#[graphql(name = "PartnerNetworkInput")]
pub struct PartnerNetworkInputObject {
    /// A short unique name for links, e.g. `digivisio`.
    pub slug: String,
    /// The name the partner network uses of itself.
    pub name: String,
    /// How far it reaches.
    pub scope: PartnerScope,
    /// What it is and how the network works with it (Markdown).
    #[graphql(default)]
    pub description: String,
    /// Its own site (an http(s) link).
    pub url: Option<String>,
    /// Its contact people, in order; at most 20.
    #[graphql(default)]
    pub contacts: Vec<PartnerContactInput>,
}

impl PartnerNetworkInputObject {
    fn parse(self) -> AppResult<PartnerInput> {
        let contacts = service::parse_contacts(
            self.contacts
                .iter()
                .map(|c| (c.name.as_str(), c.email.as_deref(), c.title.as_deref())),
        )?;
        PartnerInput::parse(
            &self.slug,
            &self.name,
            self.scope.into(),
            &self.description,
            self.url.as_deref(),
            contacts,
        )
    }
}

#[derive(Default)]
pub struct PartnerQuery;

#[Object]
impl PartnerQuery {
    /// The partner networks, local ones first, then by name; readable without login.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn partner_networks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only those of this scope.")] scope: Option<PartnerScope>,
    ) -> async_graphql::Result<Vec<PartnerNetwork>> {
        let state = ctx.data::<AppState>()?;
        Ok(service::list(&state.db, scope.map(Into::into))
            .await?
            .into_iter()
            .map(PartnerNetwork)
            .collect())
    }

    /// One partner network by its slug, or null; readable without login.
    async fn partner_network(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner network's slug.")] slug: String,
    ) -> async_graphql::Result<Option<PartnerNetwork>> {
        let state = ctx.data::<AppState>()?;
        Ok(service::find_by_slug(&state.db, slug.trim())
            .await?
            .map(PartnerNetwork))
    }
}

#[derive(Default)]
pub struct PartnerMutation;

#[Object]
impl PartnerMutation {
    /// Admin: add a partner network. A slug in use is `CONFLICT`.
    async fn create_partner_network(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner network.")] input: PartnerNetworkInputObject,
    ) -> async_graphql::Result<PartnerNetwork> {
        let viewer = require_viewer(ctx)?;
        let input = input.parse()?;
        let state = ctx.data::<AppState>()?;
        let partner = state
            .changes
            .run(async |txn| {
                audit::created::<partner_network::Entity, _>(
                    txn,
                    Some(viewer.id()),
                    "createPartnerNetwork",
                    async || service::create(txn, viewer, input).await,
                    |(partner, _)| partner.id,
                )
                .await
            })
            .await?;
        Ok(PartnerNetwork(partner))
    }

    /// Admin: replace what is known of a partner network, its contact people too.
    async fn update_partner_network(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner network to change.")] id: ID,
        #[graphql(desc = "Its new details.")] input: PartnerNetworkInputObject,
    ) -> async_graphql::Result<PartnerNetwork> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let input = input.parse()?;
        let state = ctx.data::<AppState>()?;
        let partner = state
            .changes
            .run(async |txn| {
                let action = audit::Action::by(viewer.id(), "updatePartnerNetwork", id);
                audit::around::<partner_network::Entity, _>(txn, action, async || {
                    service::update(txn, viewer, id, input).await
                })
                .await
            })
            .await?;
        Ok(PartnerNetwork(partner))
    }
}
