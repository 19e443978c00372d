//! Schema assembly: the merged roots, always-on limits, per-request data and error codes.

mod document_limits;
mod error_codes;
mod ids;
pub mod pagination;
mod subscription_budget;

use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, MergedObject, MergedSubscription, Schema, SchemaBuilder};
use sea_orm::DbErr;
use uuid::Uuid;

pub use document_limits::{DocumentLimits, MAX_NESTING, PasswordChecks, text_nesting};
pub use error_codes::ErrorCodes;
pub use ids::parse_id;
pub use subscription_budget::{SubscriptionBudget, SubscriptionLimits};

use crate::auth::schema::{AuthMutation, AuthQuery};
use crate::config::GraphqlLimits;
use crate::directory::loaders::{
    MembersByOrganization, MembershipsByUser, OrganizationById, UserById,
};
use crate::directory::schema::{DirectoryMutation, DirectoryQuery};
use crate::error::AppError;
use crate::events::schema::EventSubscription;
use crate::inquiries::loaders::{MessagesByTarget, RevisionsByTarget, TargetsByInquiry};
use crate::inquiries::schema::{InquiryMutation, InquiryQuery, InquirySubscription};
use crate::inquiries::snapshots::InquirySnapshots;
use crate::meetings::loaders::ReportByMeeting;
use crate::meetings::schema::{MeetingMutation, MeetingQuery};
use crate::metrics::Metrics;
use crate::news::schema::{NewsMutation, NewsQuery};
use crate::notify::schema::{DeliveryMutation, DeliveryQuery};
use crate::plans::schema::{PlanMutation, PlanQuery};
use crate::questions::schema::{QuestionMutation, QuestionQuery};
use crate::state::AppState;
use crate::subscriptions::schema::{SubscriptionMutation, SubscriptionQuery};
use crate::tips::schema::{TipMutation, TipQuery};
use crate::topics::loaders::{
    TopicsByInquiry, TopicsByMeeting, TopicsByNews, TopicsByQuestion, TopicsByTip,
};
use crate::topics::schema::{TopicMutation, TopicQuery};

/// Every query, merged from the features.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    AuthQuery,
    DirectoryQuery,
    TopicQuery,
    InquiryQuery,
    QuestionQuery,
    DeliveryQuery,
    SubscriptionQuery,
    NewsQuery,
    TipQuery,
    PlanQuery,
    MeetingQuery,
);

/// Every mutation, merged from the features.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    AuthMutation,
    DirectoryMutation,
    TopicMutation,
    InquiryMutation,
    QuestionMutation,
    DeliveryMutation,
    SubscriptionMutation,
    NewsMutation,
    TipMutation,
    PlanMutation,
    MeetingMutation,
);

/// Every subscription, merged from the features.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(EventSubscription, InquirySubscription);

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Limits that hold whatever the configuration says.
const MAX_RECURSIVE_DEPTH: usize = 32;
const MAX_DIRECTIVES: usize = 20;

fn builder(
    limits: &GraphqlLimits,
    metrics: Arc<Metrics>,
) -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    let builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_complexity(limits.max_complexity)
    .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
    .limit_directives(MAX_DIRECTIVES)
    .extension(DocumentLimits {
        max_depth: limits.max_depth,
        query_timeout: limits.query_timeout,
    })
    .extension(SubscriptionLimits)
    .extension(ErrorCodes(metrics));
    if limits.introspection {
        builder
    } else {
        builder.disable_introspection().disable_suggestions()
    }
}

/// The executable schema with the application state attached.
pub fn build_schema(state: AppState) -> AppSchema {
    builder(&state.config.graphql, state.metrics.clone())
        .data(state)
        .data(Arc::new(InquirySnapshots::default()))
        .finish()
}

/// The schema in SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    let limits = GraphqlLimits {
        max_depth: usize::MAX,
        max_complexity: usize::MAX,
        max_body_bytes: usize::MAX,
        introspection: true,
        query_timeout: std::time::Duration::MAX,
    };
    builder(&limits, Arc::default()).finish().sdl()
}

/// What an unpaged list (a post's topics, a community's members, an inquiry's slots) counts
/// as in a query's complexity: each of its items costs what one item's selection costs, and
/// the list is taken to be this long.
pub const UNPAGED_LIST_COST: usize = 10;

/// Complexity of a paged list: the page the arguments allow (`first`, default and cap as in
/// [`pagination::Page`]) times the cost of one item, so that nested lists multiply and one
/// request cannot ask for tens of thousands of objects.
pub fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let size = first.map_or(pagination::DEFAULT_PAGE_SIZE, |n| {
        u64::try_from(n)
            .unwrap_or(1)
            .clamp(1, pagination::MAX_PAGE_SIZE)
    });
    usize::try_from(size)
        .unwrap_or(usize::MAX)
        .saturating_mul(child_complexity.max(1))
}

/// Complexity of an unpaged list (see [`UNPAGED_LIST_COST`]).
pub fn list_cost(child_complexity: usize) -> usize {
    UNPAGED_LIST_COST.saturating_mul(child_complexity.max(1))
}

/// Loads one key through the request's batch loader `L`; database failures become
/// `UNAVAILABLE` or `INTERNAL` like any other.
pub async fn load_one<L>(ctx: &Context<'_>, key: Uuid) -> async_graphql::Result<Option<L::Value>>
where
    L: Loader<Uuid, Error = Arc<DbErr>>,
{
    ctx.data::<DataLoader<L>>()?
        .load_one(key)
        .await
        .map_err(|err| AppError::from(Arc::unwrap_or_clone(err)).into())
}

/// Per-request batch loaders; their caches live as long as one request or one subscription.
pub fn request_loaders(state: &AppState) -> async_graphql::Data {
    let mut data = async_graphql::Data::default();
    macro_rules! loaders {
        ($($loader:ident),+ $(,)?) => {
            $(data.insert(DataLoader::new($loader(state.db.clone()), tokio::spawn));)+
        };
    }
    macro_rules! topic_loaders {
        ($($loader:ident),+ $(,)?) => {
            $(data.insert(DataLoader::new($loader::new(state.db.clone()), tokio::spawn));)+
        };
    }
    loaders!(
        MembersByOrganization,
        MembershipsByUser,
        OrganizationById,
        UserById,
        TargetsByInquiry,
        MessagesByTarget,
        RevisionsByTarget,
        ReportByMeeting,
    );
    topic_loaders!(
        TopicsByInquiry,
        TopicsByQuestion,
        TopicsByNews,
        TopicsByTip,
        TopicsByMeeting,
    );
    data
}
