//! `communityPlan` and `setCommunityPlan`.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::{community_plan, community_plan_revision};

use super::service;
use crate::auth::require_viewer;
use crate::directory::loaders::{OrganizationById, UserById};
use crate::directory::schema::{Organization, Person};
use crate::directory::service::find_organization_by_slug;
use crate::graphql::{load_one, parse_id};
use crate::inquiries::service::MAX_BODY;
use crate::state::AppState;
use crate::values::NonEmptyText;

/// A community's goals and forms of activity for one year.
pub struct CommunityPlan(community_plan::Model);

/// A community's plan for a year: its goals and forms of activity.
#[Object]
impl CommunityPlan {
    /// The community whose plan it is.
    async fn community(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load_one::<OrganizationById>(ctx, self.0.community_id)
            .await?
            .map(Organization))
    }
    /// The year the plan is for.
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Markdown.
    async fn goals(&self) -> &str {
        &self.0.goals
    }
    /// The goals one by one: the list items of `goals`, which a development project can be
    /// linked to.
    async fn goal_items(&self) -> Vec<String> {
        crate::projects::service::plan_goals(&self.0.goals)
    }
    /// Markdown.
    async fn activities(&self) -> &str {
        &self.0.activities
    }
    /// Increases with each revision.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The mentor who wrote this version.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_one::<UserById>(ctx, self.0.author_id)
            .await?
            .map(Person::author))
    }
    /// When the current text was written.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Earlier versions, oldest first.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PlanRevision>> {
        let state = ctx.data::<AppState>()?;
        Ok(service::history(&state.db, self.0.id)
            .await?
            .into_iter()
            .map(PlanRevision)
            .collect())
    }
}

/// A superseded version of a plan.
pub struct PlanRevision(community_plan_revision::Model);

/// An earlier text of a community plan.
#[Object]
impl PlanRevision {
    /// The plan's version this text had.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The goals as they were.
    async fn goals(&self) -> &str {
        &self.0.goals
    }
    /// The forms of activity as they were.
    async fn activities(&self) -> &str {
        &self.0.activities
    }
    /// When this text was written.
    async fn written_at(&self) -> DateTime<Utc> {
        self.0.written_at
    }
}

#[derive(Default)]
pub struct PlanQuery;

#[Object]
impl PlanQuery {
    /// A community's plan for a year (community by slug); readable without login.
    async fn community_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The community.")] community: String,
        #[graphql(desc = "The year; defaults to this year.")] year: i32,
    ) -> async_graphql::Result<Option<CommunityPlan>> {
        let state = ctx.data::<AppState>()?;
        let Some(org) = find_organization_by_slug(&state.db, &community).await? else {
            return Ok(None);
        };
        Ok(service::find(&state.db, org.id, year)
            .await?
            .map(CommunityPlan))
    }
}

#[derive(Default)]
pub struct PlanMutation;

#[Object]
impl PlanMutation {
    /// The community's mentors: set the plan for a year (earlier text is kept in `history`).
    async fn set_community_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your community.")] community_id: ID,
        #[graphql(desc = "The year the plan is for.")] year: i32,
        #[graphql(desc = "The year's goals (Markdown).")] goals: String,
        #[graphql(desc = "The forms of activity (Markdown).")] activities: String,
    ) -> async_graphql::Result<CommunityPlan> {
        let viewer = require_viewer(ctx)?;
        let community = parse_id("communityId", &community_id)?;
        let goals = NonEmptyText::input("goals", &goals, MAX_BODY)?;
        let activities = NonEmptyText::input("activities", &activities, MAX_BODY)?;
        let state = ctx.data::<AppState>()?;
        let plan = state
            .changes
            .run(async |txn| {
                service::set_plan(txn, viewer, community, year, goals, activities).await
            })
            .await?;
        Ok(CommunityPlan(plan))
    }
}
