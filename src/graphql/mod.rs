//! Schema assembly: the merged roots, always-on limits, per-request data and error codes.

mod error_codes;
mod ids;

use async_graphql::dataloader::DataLoader;
use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

pub use error_codes::ErrorCodes;
pub use ids::parse_id;

use crate::auth::schema::{AuthMutation, AuthQuery};
use crate::config::GraphqlLimits;
use crate::directory::loaders::{
    MembersByOrganization, MembershipsByUser, OrganizationById, UserById,
};
use crate::directory::schema::{DirectoryMutation, DirectoryQuery};
use crate::events::schema::EventSubscription;
use crate::state::AppState;
use crate::topics::schema::{TopicMutation, TopicQuery};

/// Every query, merged from the features.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(AuthQuery, DirectoryQuery, TopicQuery);

/// Every mutation, merged from the features.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(AuthMutation, DirectoryMutation, TopicMutation);

/// Every subscription, merged from the features.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(EventSubscription);

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Limits that hold whatever the configuration says.
const MAX_RECURSIVE_DEPTH: usize = 32;
const MAX_DIRECTIVES: usize = 20;

fn builder(limits: &GraphqlLimits) -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    let builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
    .limit_directives(MAX_DIRECTIVES)
    .extension(ErrorCodes);
    if limits.introspection {
        builder
    } else {
        builder.disable_introspection().disable_suggestions()
    }
}

/// The executable schema with the application state attached.
pub fn build_schema(state: AppState) -> AppSchema {
    builder(&state.config.graphql).data(state).finish()
}

/// The schema in SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    let limits = GraphqlLimits {
        max_depth: usize::MAX,
        max_complexity: usize::MAX,
        max_body_bytes: usize::MAX,
        introspection: true,
    };
    builder(&limits).finish().sdl()
}

/// Per-request batch loaders; their caches live as long as one request or one subscription.
pub fn request_loaders(state: &AppState) -> async_graphql::Data {
    let mut data = async_graphql::Data::default();
    data.insert(DataLoader::new(
        MembersByOrganization(state.db.clone()),
        tokio::spawn,
    ));
    data.insert(DataLoader::new(
        MembershipsByUser(state.db.clone()),
        tokio::spawn,
    ));
    data.insert(DataLoader::new(
        OrganizationById(state.db.clone()),
        tokio::spawn,
    ));
    data.insert(DataLoader::new(UserById(state.db.clone()), tokio::spawn));
    data
}
