//! GraphQL types and resolvers of development projects.

use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::project::{self, ProjectStatus as StoredStatus};
use entity::project_member::{self as member, ProjectRole as StoredRole};
use entity::project_update;
use uuid::Uuid;

use super::service::{self, Filter, ProjectInput};
use crate::auth::{require_viewer, viewer as viewer_of};
use crate::directory::loaders::{OrganizationById, UserById};
use crate::directory::schema::{Organization, Person};
use crate::error::{AppError, AppResult};
use crate::graphql::{load_one, parse_id};
use crate::inquiries::service::{MAX_BODY, MAX_TITLE};
use crate::state::AppState;
use crate::tips::schema::Tip;
use crate::topics::loaders::TopicsByProject;
use crate::topics::schema::Topic;
use crate::values::NonEmptyText;

/// Where a project stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ProjectStatus {
    /// Being prepared.
    Planned,
    /// Under way.
    Active,
    /// Done.
    Finished,
}

impl From<StoredStatus> for ProjectStatus {
    fn from(s: StoredStatus) -> Self {
        match s {
            StoredStatus::Planned => Self::Planned,
            StoredStatus::Active => Self::Active,
            StoredStatus::Finished => Self::Finished,
        }
    }
}

impl From<ProjectStatus> for StoredStatus {
    fn from(s: ProjectStatus) -> Self {
        match s {
            ProjectStatus::Planned => Self::Planned,
            ProjectStatus::Active => Self::Active,
            ProjectStatus::Finished => Self::Finished,
        }
    }
}

/// A person's part in a project.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ProjectRole {
    /// A digimentor who coordinates it.
    Coordinator,
    /// Takes part.
    Member,
}

impl From<StoredRole> for ProjectRole {
    fn from(r: StoredRole) -> Self {
        match r {
            StoredRole::Coordinator => Self::Coordinator,
            StoredRole::Member => Self::Member,
        }
    }
}

/// The goal of a community's yearly plan a project serves.
#[derive(SimpleObject)]
pub struct PlanGoal {
    /// The plan's year.
    pub year: i32,
    /// The goal, as the plan words it.
    pub goal: String,
}

/// One person in a project.
pub struct ProjectPerson(member::Model);

/// One person in a project.
#[Object]
impl ProjectPerson {
    /// Coordinator or member.
    async fn role(&self) -> ProjectRole {
        self.0.role.into()
    }
    /// When they joined.
    async fn joined_at(&self) -> DateTime<Utc> {
        self.0.joined_at
    }
    /// Who.
    async fn person(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_one::<UserById>(ctx, self.0.user_id)
            .await?
            .map(Person::author))
    }
}

/// A progress update of a project.
pub struct ProjectUpdate(project_update::Model);

/// A progress update of a project.
#[Object]
impl ProjectUpdate {
    /// The update's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Markdown.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When it was posted.
    async fn posted_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who posted it.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        Ok(load_one::<UserById>(ctx, self.0.author_id)
            .await?
            .map(Person::author))
    }
    /// The tip its outcome became, once promoted to the tips bank.
    async fn tip_id(&self) -> Option<ID> {
        self.0.tip_id.map(|id| ID(id.to_string()))
    }
}

/// A development project or group of a community. Public ones are read by everyone, internal
/// ones by the community's people and admins.
pub struct Project {
    pub project: project::Model,
    pub people: Vec<member::Model>,
}

impl Project {
    fn role_of(&self, user: Uuid) -> Option<StoredRole> {
        self.people
            .iter()
            .find(|m| m.user_id == user)
            .map(|m| m.role)
    }
}

/// A development project or group of a community.
#[Object]
impl Project {
    /// The project's id.
    async fn id(&self) -> ID {
        ID(self.project.id.to_string())
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.project.name
    }
    /// What it sets out to do (Markdown).
    async fn goal(&self) -> &str {
        &self.project.goal
    }
    /// The community whose project it is.
    async fn community(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(load_one::<OrganizationById>(ctx, self.project.community_id)
            .await?
            .map(Organization))
    }
    /// The goal of the community's yearly plan it serves, if linked.
    async fn plan_goal(&self) -> Option<PlanGoal> {
        match (self.project.plan_year, &self.project.plan_goal) {
            (Some(year), Some(goal)) => Some(PlanGoal {
                year,
                goal: goal.clone(),
            }),
            _ => None,
        }
    }
    /// Planned, active or finished.
    async fn status(&self) -> ProjectStatus {
        self.project.status.into()
    }
    /// When it starts, if set.
    async fn starts_on(&self) -> Option<NaiveDate> {
        self.project.starts_on
    }
    /// When it ends, if set.
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.project.ends_on
    }
    /// Visible only to the community (and admins).
    async fn internal(&self) -> bool {
        self.project.internal
    }
    /// Topics of the project; their followers hear of it and its progress.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn topics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Topic>> {
        Ok(load_one::<TopicsByProject>(ctx, self.project.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Topic)
            .collect())
    }
    /// Its people: coordinators first, then members in the order they joined.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn people(&self) -> Vec<ProjectPerson> {
        self.people.iter().cloned().map(ProjectPerson).collect()
    }
    /// How many take part.
    async fn people_count(&self) -> i32 {
        i32::try_from(self.people.len()).unwrap_or(i32::MAX)
    }
    /// The reader's part in it, if any.
    async fn my_role(&self, ctx: &Context<'_>) -> Option<ProjectRole> {
        viewer_of(ctx)
            .and_then(|v| self.role_of(v.id()))
            .map(Into::into)
    }
    /// Whether the reader manages it (the community's digimentors, admins): changes it, adds
    /// people, promotes outcomes.
    async fn can_manage(&self, ctx: &Context<'_>) -> bool {
        viewer_of(ctx).is_some_and(|v| service::can_manage(v, &self.project))
    }
    /// Whether the reader posts progress updates (its people and managers).
    async fn can_post(&self, ctx: &Context<'_>) -> bool {
        viewer_of(ctx).is_some_and(|v| service::can_post(v, &self.project, &self.people))
    }
    /// Progress updates, newest first.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn updates(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ProjectUpdate>> {
        let state = ctx.data::<AppState>()?;
        Ok(service::updates(&state.db, self.project.id)
            .await?
            .into_iter()
            .map(ProjectUpdate)
            .collect())
    }
}

/// A project to start or change.
#[derive(InputObject)]
#[graphql(name = "ProjectInput")]
pub struct ProjectInputObject {
    /// Its name.
    pub name: String,
    /// What it sets out to do (Markdown).
    pub goal: String,
    /// The year of the community plan whose goal it serves.
    pub plan_year: Option<i32>,
    /// That goal, as the plan words it (one of its list items).
    pub plan_goal: Option<String>,
    /// Planned, active or finished.
    #[graphql(default_with = "ProjectStatus::Planned")]
    pub status: ProjectStatus,
    /// When it starts.
    pub starts_on: Option<NaiveDate>,
    /// When it ends; not before the start.
    pub ends_on: Option<NaiveDate>,
    /// Visible only to the community instead of everyone.
    #[graphql(default)]
    pub internal: bool,
    /// Topics of the project.
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
    /// The community's digimentors who coordinate it; by default you (keeps them on a change).
    #[graphql(default)]
    pub coordinator_ids: Vec<ID>,
}

impl ProjectInputObject {
    fn parse(self) -> AppResult<ProjectInput> {
        let goal = NonEmptyText::input("goal", &self.goal, MAX_BODY)?;
        let plan_goal = match (self.plan_year, self.plan_goal.as_deref().map(str::trim)) {
            (None, None | Some("")) => None,
            (Some(year), Some(goal)) if !goal.is_empty() => Some((year, goal.to_owned())),
            (None, Some(_)) => return Err(AppError::bad_input("planYear", "give the plan's year")),
            (Some(_), _) => return Err(AppError::bad_input("planGoal", "give the plan's goal")),
        };
        let ids = |field: &str, ids: &[ID]| -> AppResult<Vec<Uuid>> {
            ids.iter().map(|id| parse_id(field, id)).collect()
        };
        Ok(ProjectInput {
            name: NonEmptyText::line("name", &self.name, MAX_TITLE)?,
            goal,
            plan_goal,
            status: self.status.into(),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            internal: self.internal,
            topic_ids: ids("topicIds", &self.topic_ids)?,
            coordinator_ids: ids("coordinatorIds", &self.coordinator_ids)?,
        })
    }
}

/// Projects with their people, in one query for all of them.
async fn with_people(
    ctx: &Context<'_>,
    rows: Vec<project::Model>,
) -> async_graphql::Result<Vec<Project>> {
    let state = ctx.data::<AppState>()?;
    let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
    let mut people: HashMap<Uuid, Vec<member::Model>> =
        service::members_by_project(&state.db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|project| Project {
            people: people.remove(&project.id).unwrap_or_default(),
            project,
        })
        .collect())
}

async fn reloaded(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Project> {
    let state = ctx.data::<AppState>()?;
    let p = service::find_readable(&state.db, viewer_of(ctx), id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    with_people(ctx, vec![p])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound("project").into())
}

#[derive(Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// Development projects across the network that the caller may read (public ones, and
    /// internal ones of their own communities): active first, then planned, then finished.
    #[graphql(complexity = "crate::graphql::page_cost(Some(first), child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this community's.")] community_id: Option<ID>,
        #[graphql(desc = "Only those on this topic.")] topic_id: Option<ID>,
        #[graphql(desc = "Only those in this state.")] status: Option<ProjectStatus>,
        #[graphql(default = 50, desc = "How many to return (1–100).")] first: i32,
    ) -> async_graphql::Result<Vec<Project>> {
        if !(1..=100).contains(&first) {
            return Err(AppError::bad_input("first", "must be between 1 and 100").into());
        }
        let filter = Filter {
            community: community_id
                .map(|id| parse_id("communityId", &id))
                .transpose()?,
            topic: topic_id.map(|id| parse_id("topicId", &id)).transpose()?,
            status: status.map(Into::into),
        };
        let state = ctx.data::<AppState>()?;
        let rows = service::list(&state.db, viewer_of(ctx), &filter, first as u64).await?;
        with_people(ctx, rows).await
    }

    /// One project, or null when there is none or it is internal to another community.
    async fn project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project's id.")] id: ID,
    ) -> async_graphql::Result<Option<Project>> {
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        match service::find_readable(&state.db, viewer_of(ctx), id).await? {
            Some(p) => Ok(with_people(ctx, vec![p]).await?.pop()),
            None => Ok(None),
        }
    }
}

#[derive(Default)]
pub struct ProjectMutation;

#[Object]
impl ProjectMutation {
    /// A digimentor of the community (or an admin): start a development project or group.
    /// Coordinators named are told; topic followers hear of a public one.
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The community whose project it is.")] community_id: ID,
        #[graphql(desc = "The project.")] input: ProjectInputObject,
    ) -> async_graphql::Result<Project> {
        let viewer = require_viewer(ctx)?;
        let community = parse_id("communityId", &community_id)?;
        let input = input.parse()?;
        let state = ctx.data::<AppState>()?;
        let p = state
            .changes
            .run(async |txn| service::create(txn, viewer, community, input).await)
            .await?;
        reloaded(ctx, p.id).await
    }

    /// The community's digimentors: change a project (details, status, dates, visibility,
    /// topics, coordinators).
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project.")] id: ID,
        #[graphql(desc = "Its new details.")] input: ProjectInputObject,
    ) -> async_graphql::Result<Project> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let input = input.parse()?;
        let state = ctx.data::<AppState>()?;
        state
            .changes
            .run(async |txn| service::update(txn, viewer, id, input).await)
            .await?;
        reloaded(ctx, id).await
    }

    /// Join a project (anyone signed in for a public one, the community's people for an
    /// internal one); with `userId`, a digimentor of the community adds that person, who is
    /// told. Being in it already is `CONFLICT`.
    async fn join_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project.")] id: ID,
        #[graphql(desc = "Someone to add (digimentors of the community).")] user_id: Option<ID>,
    ) -> async_graphql::Result<Project> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let person = user_id.map(|u| parse_id("userId", &u)).transpose()?;
        let state = ctx.data::<AppState>()?;
        state
            .changes
            .run(async |txn| service::join(txn, viewer, id, person).await)
            .await?;
        reloaded(ctx, id).await
    }

    /// Leave a project; with `userId`, a digimentor of the community takes that person off it.
    /// The last coordinator cannot leave (`CONFLICT`).
    async fn leave_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project.")] id: ID,
        #[graphql(desc = "Someone to take off it (digimentors of the community).")] user_id: Option<
            ID,
        >,
    ) -> async_graphql::Result<Project> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let person = user_id.map(|u| parse_id("userId", &u)).transpose()?;
        let state = ctx.data::<AppState>()?;
        state
            .changes
            .run(async |txn| service::leave(txn, viewer, id, person).await)
            .await?;
        reloaded(ctx, id).await
    }

    /// Its people and the community's digimentors: post a progress update (Markdown). The
    /// project's other people are emailed; topic followers hear of a public one's progress.
    async fn post_project_update(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project.")] id: ID,
        #[graphql(desc = "What happened (Markdown).")] body: String,
    ) -> async_graphql::Result<Project> {
        let viewer = require_viewer(ctx)?;
        let id = parse_id("id", &id)?;
        let body = NonEmptyText::input("body", &body, MAX_BODY)?;
        let state = ctx.data::<AppState>()?;
        state
            .changes
            .run(async |txn| service::post_update(txn, viewer, id, body).await)
            .await?;
        reloaded(ctx, id).await
    }

    /// A digimentor of the community: promote an update's outcome to the tips bank, as a tip of
    /// the community with the project's topics. Once per update (again is `CONFLICT`).
    async fn promote_project_outcome(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The progress update.")] update_id: ID,
        #[graphql(desc = "The tip's title.")] title: String,
    ) -> async_graphql::Result<Tip> {
        let viewer = require_viewer(ctx)?;
        let update = parse_id("updateId", &update_id)?;
        let title = NonEmptyText::line("title", &title, MAX_TITLE)?;
        let state = ctx.data::<AppState>()?;
        let tip = state
            .changes
            .run(async |txn| service::promote(txn, viewer, update, title).await)
            .await?;
        Ok(Tip::new(tip))
    }
}
