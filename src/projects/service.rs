//! Transactional logic of development projects.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use entity::membership::{self, Role};
use entity::project::{self, ProjectStatus};
use entity::project_member::{self as member, ProjectRole};
use entity::{event, organization, project_topic, project_update, tip, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::directory::service::is_community;
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::tips::service::TipInput;
use crate::topics::service::existing_topics;

/// A validated project.
#[derive(Debug, Clone)]
pub struct ProjectInput {
    pub name: String,
    /// Markdown.
    pub goal: String,
    /// A goal of the community's plan for a year: `(year, goal as the plan words it)`.
    pub plan_goal: Option<(i32, String)>,
    pub status: ProjectStatus,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub internal: bool,
    pub topic_ids: Vec<Uuid>,
    /// Mentors of the community who coordinate it; by default the one who creates it.
    pub coordinator_ids: Vec<Uuid>,
}

impl ProjectInput {
    /// Checks what does not depend on the database.
    pub fn check(&self) -> AppResult<()> {
        if let (Some(starts), Some(ends)) = (self.starts_on, self.ends_on)
            && ends < starts
        {
            return Err(AppError::bad_input(
                "endsOn",
                "must not be before the start",
            ));
        }
        Ok(())
    }
}

/// The goals of a plan: its Markdown list items (`- `, `* `, `1. `), in order.
pub fn plan_goals(goals: &str) -> Vec<String> {
    goals
        .lines()
        .map(str::trim)
        .filter_map(|line| {
            let item = line
                .strip_prefix("- ")
                .or_else(|| line.strip_prefix("* "))
                .or_else(|| {
                    let (number, rest) = line.split_once(". ")?;
                    number.chars().all(|c| c.is_ascii_digit()).then_some(rest)
                })?;
            let item = item.trim();
            (!item.is_empty()).then(|| item.to_owned())
        })
        .collect()
}

/// Whether `viewer` (or a visitor) may read a project: public, or internal to their community.
pub fn can_read(viewer: Option<&Viewer>, p: &project::Model) -> bool {
    !p.internal || viewer.is_some_and(|v| v.is_admin() || v.belongs_to(p.community_id))
}

/// Whether `viewer` manages a project: a mentor of its community, or an admin.
pub fn can_manage(viewer: &Viewer, p: &project::Model) -> bool {
    viewer.is_admin() || viewer.holds(p.community_id, Role::Mentor)
}

fn audience(p: &project::Model) -> Vec<Reader> {
    if p.internal {
        vec![Reader::organization(p.community_id)]
    } else {
        vec![Reader::Public]
    }
}

async fn topics_of(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(project_topic::Entity::find()
        .filter(project_topic::Column::ProjectId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.topic_id)
        .collect())
}

async fn record(
    db: &impl ConnectionTrait,
    p: &project::Model,
    kind: EventKind,
    actor: Uuid,
    object: Option<Uuid>,
) -> AppResult<event::Model> {
    let topic_ids = if kind.followed_by_topic() {
        topics_of(db, p.id).await?
    } else {
        vec![]
    };
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(actor),
            subject_id: p.id,
            object_id: object,
            organization_ids: vec![p.community_id],
            topic_ids,
            audience: audience(p),
        },
    )
    .await
}

/// A project that exists and that `viewer` may read; else `NOT_FOUND`.
async fn readable(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<project::Model> {
    project::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|p| can_read(Some(viewer), p))
        .ok_or(AppError::NotFound("project"))
}

async fn managed(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<project::Model> {
    let p = readable(db, viewer, id).await?;
    if !can_manage(viewer, &p) {
        return Err(AppError::forbidden(
            "Only the community's digimentors manage its projects.",
        ));
    }
    Ok(p)
}

/// Checks the plan goal the project serves: the community's plan for that year has it.
async fn check_plan_goal(
    db: &impl ConnectionTrait,
    community: Uuid,
    plan_goal: &Option<(i32, String)>,
) -> AppResult<()> {
    let Some((year, goal)) = plan_goal else {
        return Ok(());
    };
    let plan = crate::plans::service::find(db, community, *year)
        .await?
        .ok_or_else(|| {
            AppError::bad_input("planYear", "the community has no plan for that year")
        })?;
    if !plan_goals(&plan.goals).iter().any(|g| g == goal) {
        return Err(AppError::bad_input(
            "planGoal",
            "is not one of the goals of that year's plan",
        ));
    }
    Ok(())
}

/// The coordinators named, each a mentor of the community; by default the viewer.
async fn coordinators(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    community: Uuid,
    named: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    let mut ids = named.to_vec();
    if ids.is_empty() && viewer.holds(community, Role::Mentor) {
        ids.push(viewer.id());
    }
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::bad_input(
            "coordinatorIds",
            "name at least one of the community's digimentors",
        ));
    }
    let mentors = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(community))
        .filter(membership::Column::Role.eq(Role::Mentor))
        .filter(membership::Column::UserId.is_in(ids.iter().copied()))
        .count(db)
        .await?;
    if mentors != ids.len() as u64 {
        return Err(AppError::bad_input(
            "coordinatorIds",
            "coordinators are digimentors of the community",
        ));
    }
    Ok(ids)
}

async fn set_topics(db: &impl ConnectionTrait, id: Uuid, topics: &[Uuid]) -> AppResult<()> {
    project_topic::Entity::delete_many()
        .filter(project_topic::Column::ProjectId.eq(id))
        .exec(db)
        .await?;
    if !topics.is_empty() {
        project_topic::Entity::insert_many(topics.iter().map(|t| project_topic::ActiveModel {
            project_id: Set(id),
            topic_id: Set(*t),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Makes `coordinators` the project's coordinators; earlier ones not named stay as members.
async fn set_coordinators(
    db: &impl ConnectionTrait,
    id: Uuid,
    coordinators: &[Uuid],
) -> AppResult<()> {
    let now = Utc::now();
    let current = members(db, &[id]).await?;
    for m in &current {
        let wanted = if coordinators.contains(&m.user_id) {
            ProjectRole::Coordinator
        } else {
            ProjectRole::Member
        };
        if m.role != wanted {
            member::ActiveModel {
                project_id: Set(id),
                user_id: Set(m.user_id),
                role: Set(wanted),
                ..Default::default()
            }
            .update(db)
            .await?;
        }
    }
    for c in coordinators {
        if !current.iter().any(|m| m.user_id == *c) {
            member::ActiveModel {
                project_id: Set(id),
                user_id: Set(*c),
                role: Set(ProjectRole::Coordinator),
                joined_at: Set(now),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// A mentor of a community (or an admin) starts a project or a group for it.
#[tracing::instrument(skip_all, fields(%community))]
pub async fn create(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    community: Uuid,
    input: ProjectInput,
) -> AppResult<(project::Model, event::Model)> {
    organization::Entity::find_by_id(community)
        .one(db)
        .await?
        .filter(|o| is_community(o.kind))
        .ok_or_else(|| AppError::bad_input("communityId", "no such community"))?;
    if !(viewer.is_admin() || viewer.holds(community, Role::Mentor)) {
        return Err(AppError::forbidden(
            "Only the community's digimentors start its projects.",
        ));
    }
    input.check()?;
    check_plan_goal(db, community, &input.plan_goal).await?;
    let coordinators = coordinators(db, viewer, community, &input.coordinator_ids).await?;
    let topics = existing_topics(db, &input.topic_ids).await?;
    let now = Utc::now();
    let (plan_year, plan_goal) = input.plan_goal.unzip();
    let p = project::ActiveModel {
        id: Set(Uuid::now_v7()),
        community_id: Set(community),
        name: Set(input.name),
        goal: Set(input.goal),
        plan_year: Set(plan_year),
        plan_goal: Set(plan_goal),
        status: Set(input.status),
        starts_on: Set(input.starts_on),
        ends_on: Set(input.ends_on),
        internal: Set(input.internal),
        created_by: Set(viewer.id()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    set_topics(db, p.id, &topics).await?;
    set_coordinators(db, p.id, &coordinators).await?;
    let event = record(db, &p, EventKind::ProjectCreated, viewer.id(), None).await?;
    Ok((p, event))
}

/// The community's mentors change a project: its details, status, dates, visibility, topics
/// and coordinators.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    input: ProjectInput,
) -> AppResult<(project::Model, event::Model)> {
    let p = managed(db, viewer, id).await?;
    input.check()?;
    check_plan_goal(db, p.community_id, &input.plan_goal).await?;
    let named = if input.coordinator_ids.is_empty() {
        members(db, &[id])
            .await?
            .into_iter()
            .filter(|m| m.role == ProjectRole::Coordinator)
            .map(|m| m.user_id)
            .collect()
    } else {
        input.coordinator_ids.clone()
    };
    let coordinators = coordinators(db, viewer, p.community_id, &named).await?;
    let topics = existing_topics(db, &input.topic_ids).await?;
    let (plan_year, plan_goal) = input.plan_goal.unzip();
    let p = project::ActiveModel {
        id: Set(p.id),
        name: Set(input.name),
        goal: Set(input.goal),
        plan_year: Set(plan_year),
        plan_goal: Set(plan_goal),
        status: Set(input.status),
        starts_on: Set(input.starts_on),
        ends_on: Set(input.ends_on),
        internal: Set(input.internal),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    set_topics(db, p.id, &topics).await?;
    set_coordinators(db, p.id, &coordinators).await?;
    let event = record(db, &p, EventKind::ProjectUpdated, viewer.id(), None).await?;
    Ok((p, event))
}

/// Someone joins a project (anyone signed in for a public one; an internal one, its
/// community's people), or a mentor of the community adds `person`. Being in it already is
/// `CONFLICT`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn join(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    person: Option<Uuid>,
) -> AppResult<(member::Model, event::Model)> {
    let p = readable(db, viewer, id).await?;
    let who = match person {
        Some(other) if other != viewer.id() => {
            if !can_manage(viewer, &p) {
                return Err(AppError::forbidden(
                    "Only the community's digimentors add people to its projects.",
                ));
            }
            let added = user::Entity::find_by_id(other)
                .one(db)
                .await?
                .ok_or_else(|| AppError::bad_input("userId", "no such person"))?;
            if p.internal {
                let belongs = membership::Entity::find()
                    .filter(membership::Column::OrganizationId.eq(p.community_id))
                    .filter(membership::Column::UserId.eq(added.id))
                    .one(db)
                    .await?
                    .is_some();
                if !belongs {
                    return Err(AppError::bad_input(
                        "userId",
                        "an internal project is for the community's own people",
                    ));
                }
            }
            added.id
        }
        _ => viewer.id(),
    };
    let exists = member::Entity::find_by_id((id, who)).one(db).await?;
    if exists.is_some() {
        return Err(AppError::conflict(None, "Already in the project."));
    }
    let m = member::ActiveModel {
        project_id: Set(id),
        user_id: Set(who),
        role: Set(ProjectRole::Member),
        joined_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    let event = record(
        db,
        &p,
        EventKind::ProjectMemberJoined,
        viewer.id(),
        Some(who),
    )
    .await?;
    Ok((m, event))
}

/// Someone leaves a project, or a mentor of the community takes `person` off it. The last
/// coordinator cannot leave (`CONFLICT`): name another first.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn leave(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    person: Option<Uuid>,
) -> AppResult<(project::Model, event::Model)> {
    let p = readable(db, viewer, id).await?;
    let who = person.unwrap_or(viewer.id());
    if who != viewer.id() && !can_manage(viewer, &p) {
        return Err(AppError::forbidden(
            "Only the community's digimentors take people off its projects.",
        ));
    }
    let all = members(db, &[id]).await?;
    let Some(m) = all.iter().find(|m| m.user_id == who) else {
        return Err(AppError::conflict(None, "Not in the project."));
    };
    let coordinators = all
        .iter()
        .filter(|m| m.role == ProjectRole::Coordinator)
        .count();
    if m.role == ProjectRole::Coordinator && coordinators == 1 {
        return Err(AppError::conflict(
            None,
            "The project needs a coordinator: name another one first.",
        ));
    }
    member::Entity::delete_by_id((id, who)).exec(db).await?;
    let event = record(db, &p, EventKind::ProjectMemberLeft, viewer.id(), Some(who)).await?;
    Ok((p, event))
}

/// Whether `viewer` posts progress updates: a member or coordinator, a mentor, an admin.
pub fn can_post(viewer: &Viewer, p: &project::Model, members: &[member::Model]) -> bool {
    can_manage(viewer, p) || members.iter().any(|m| m.user_id == viewer.id())
}

/// A member, coordinator or the community's mentor posts a progress update (Markdown).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn post_update(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    body: String,
) -> AppResult<(project_update::Model, event::Model)> {
    let p = readable(db, viewer, id).await?;
    if !can_post(viewer, &p, &members(db, &[id]).await?) {
        return Err(AppError::forbidden(
            "Only the project's people post its progress.",
        ));
    }
    let u = project_update::ActiveModel {
        id: Set(Uuid::now_v7()),
        project_id: Set(id),
        author_id: Set(viewer.id()),
        body: Set(body),
        tip_id: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    let event = record(
        db,
        &p,
        EventKind::ProjectProgressPosted,
        viewer.id(),
        Some(u.id),
    )
    .await?;
    Ok((u, event))
}

/// A mentor of the community promotes an update's outcome to the tips bank, as a tip of the
/// community with the project's topics (once per update: again is `CONFLICT`).
#[tracing::instrument(skip_all, fields(%update))]
pub async fn promote(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    update: Uuid,
    title: String,
) -> AppResult<(tip::Model, Vec<event::Model>)> {
    let u = project_update::Entity::find_by_id(update)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("project update"))?;
    let p = managed(db, viewer, u.project_id).await?;
    if u.tip_id.is_some() {
        return Err(AppError::conflict(
            None,
            "This outcome is in the tips bank already.",
        ));
    }
    let input = TipInput {
        title,
        body: u.body.clone(),
        topic_ids: topics_of(db, p.id).await?,
    };
    let (tip, tip_event) = crate::tips::service::create(db, viewer, p.community_id, input).await?;
    project_update::ActiveModel {
        id: Set(u.id),
        tip_id: Set(Some(tip.id)),
        ..Default::default()
    }
    .update(db)
    .await?;
    let event = record(
        db,
        &p,
        EventKind::ProjectOutcomePromoted,
        viewer.id(),
        Some(u.id),
    )
    .await?;
    Ok((tip, vec![tip_event, event]))
}

/// The people of some projects, coordinators first, then in the order they joined.
pub async fn members(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<member::Model>> {
    let mut all = member::Entity::find()
        .filter(member::Column::ProjectId.is_in(ids.iter().copied()))
        .order_by_asc(member::Column::JoinedAt)
        .all(db)
        .await?;
    all.sort_by_key(|m| (m.role != ProjectRole::Coordinator, m.joined_at));
    Ok(all)
}

/// The progress updates of a project, newest first.
pub async fn updates(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Vec<project_update::Model>> {
    Ok(project_update::Entity::find()
        .filter(project_update::Column::ProjectId.eq(id))
        .order_by_desc(project_update::Column::Id)
        .all(db)
        .await?)
}

/// One project the viewer may read.
pub async fn find_readable(
    db: &impl ConnectionTrait,
    viewer: Option<&Viewer>,
    id: Uuid,
) -> AppResult<Option<project::Model>> {
    Ok(project::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|p| can_read(viewer, p)))
}

/// Which projects to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub community: Option<Uuid>,
    pub topic: Option<Uuid>,
    pub status: Option<ProjectStatus>,
}

/// Projects across the network the viewer may read, by `filter`: active first, then planned,
/// then finished, newest first within each; at most `limit`.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: Option<&Viewer>,
    filter: &Filter,
    limit: u64,
) -> AppResult<Vec<project::Model>> {
    let mut query = project::Entity::find();
    if !viewer.is_some_and(Viewer::is_admin) {
        let mine: Vec<Uuid> = viewer
            .map(|v| v.grants.iter().map(|g| g.organization_id).collect())
            .unwrap_or_default();
        query = query.filter(
            Condition::any()
                .add(project::Column::Internal.eq(false))
                .add(project::Column::CommunityId.is_in(mine)),
        );
    }
    if let Some(community) = filter.community {
        query = query.filter(project::Column::CommunityId.eq(community));
    }
    if let Some(status) = filter.status {
        query = query.filter(project::Column::Status.eq(status));
    }
    if let Some(topic) = filter.topic {
        query = query.filter(
            project::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(project_topic::Column::ProjectId)
                    .from(project_topic::Entity)
                    .and_where(project_topic::Column::TopicId.eq(topic))
                    .to_owned(),
            ),
        );
    }
    let mut rows = query
        .order_by_desc(project::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let rank = |s: ProjectStatus| match s {
        ProjectStatus::Active => 0,
        ProjectStatus::Planned => 1,
        ProjectStatus::Finished => 2,
    };
    rows.sort_by_key(|p| rank(p.status));
    Ok(rows)
}

/// The people of each project among `ids`.
pub async fn members_by_project(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<member::Model>>> {
    let mut out: HashMap<Uuid, Vec<member::Model>> = HashMap::new();
    for m in members(db, ids).await? {
        out.entry(m.project_id).or_default().push(m);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plans_goals_are_its_list_items() {
        let goals = "Our goals:\n\n- Moodle in every course\n* AI guidelines \n1. Accessible PDFs\n12. Open badges\n-not an item\n- \nText 3. no";
        assert_eq!(
            plan_goals(goals),
            [
                "Moodle in every course",
                "AI guidelines",
                "Accessible PDFs",
                "Open badges"
            ]
        );
    }

    proptest::proptest! {
        /// Whatever a plan holds, its goals are trimmed, non-empty lines of it.
        #[test]
        fn goals_are_trimmed_nonempty_lines(text in "\\PC{0,200}|([-*] [a-zä ]{0,20}\n|[0-9]{1,2}\\. [a-z ]{0,20}\n|\\PC{0,20}\n){0,12}") {
            for goal in plan_goals(&text) {
                proptest::prop_assert!(!goal.is_empty());
                proptest::prop_assert_eq!(goal.trim(), goal.as_str());
                proptest::prop_assert!(!goal.contains('\n'));
                proptest::prop_assert!(text.contains(&goal));
            }
        }
    }
}
