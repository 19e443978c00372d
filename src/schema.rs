//! Schema assembly: the merged roots of every feature, the always-on limits and the
//! per-request data. Above the features' GraphQL layers, which share `crate::graphql`.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::agenda::schema::{AgendaMutation, AgendaQuery};
use crate::announcements::schema::{AnnouncementMutation, AnnouncementQuery};
use crate::audit::schema::AuditQuery;
use crate::auth::schema::{AuthMutation, AuthQuery};
use crate::config::GraphqlLimits;
use crate::directory::loaders::{
    MembersByOrganization, MembershipsByUser, OrganizationById, UserById,
};
use crate::directory::schema::{DirectoryMutation, DirectoryQuery};
use crate::events::schema::EventSubscription;
use crate::graphql::{DocumentLimits, ErrorCodes, SubscriptionLimits};
use crate::inquiries::loaders::{MessagesByTarget, RevisionsByTarget, TargetsByInquiry};
use crate::inquiries::schema::{InquiryMutation, InquiryQuery, InquirySubscription};
use crate::inquiries::snapshots::InquirySnapshots;
use crate::meetings::loaders::ReportByMeeting;
use crate::meetings::schema::{MeetingMutation, MeetingQuery};
use crate::metrics::Metrics;
use crate::news::schema::{NewsMutation, NewsQuery};
use crate::notify::schema::{DeliveryMutation, DeliveryQuery};
use crate::partners::loaders::PartnerById;
use crate::partners::schema::{PartnerMutation, PartnerQuery};
use crate::plans::schema::{PlanMutation, PlanQuery};
use crate::projects::schema::{ProjectMutation, ProjectQuery};
use crate::questions::schema::{QuestionMutation, QuestionQuery};
use crate::state::AppState;
use crate::subscriptions::schema::{SubscriptionMutation, SubscriptionQuery};
use crate::tips::schema::{TipMutation, TipQuery};
use crate::topics::loaders::{
    TopicsByAgendaItem, TopicsByAnnouncement, TopicsByInquiry, TopicsByMeeting, TopicsByNews,
    TopicsByProject, TopicsByQuestion, TopicsByTip, TopicsByTraining,
};
use crate::topics::schema::{TopicMutation, TopicQuery};
use crate::trainings::schema::{TrainingMutation, TrainingQuery};

/// Every query, merged from the features.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    AuthQuery,
    AuditQuery,
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
    PartnerQuery,
    AgendaQuery,
    AnnouncementQuery,
    TrainingQuery,
    ProjectQuery,
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
    PartnerMutation,
    AgendaMutation,
    AnnouncementMutation,
    TrainingMutation,
    ProjectMutation,
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
        PartnerById,
    );
    topic_loaders!(
        TopicsByInquiry,
        TopicsByQuestion,
        TopicsByNews,
        TopicsByTip,
        TopicsByMeeting,
        TopicsByTraining,
        TopicsByProject,
        TopicsByAnnouncement,
        TopicsByAgendaItem,
    );
    data
}
