//! Transactional logic of community plans.

use chrono::{Datelike, Utc};
use entity::membership::Role;
use entity::{community_plan, community_plan_revision, event, organization};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::directory::service::is_community;
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};

/// Plans may be written for last year up to five years ahead.
pub fn year_in_range(year: i32) -> bool {
    let now = Utc::now().year();
    (now - 1..=now + 5).contains(&year)
}

/// A mentor sets (or revises) their community's plan for a year; the previous text is kept.
#[tracing::instrument(skip_all, fields(%community))]
pub async fn set_plan(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    community: Uuid,
    year: i32,
    goals: String,
    activities: String,
) -> AppResult<(community_plan::Model, event::Model)> {
    let org = organization::Entity::find_by_id(community)
        .one(db)
        .await?
        .filter(|o| is_community(o.kind))
        .ok_or_else(|| AppError::bad_input("communityId", "no such community"))?;
    if !viewer.holds(org.id, Role::Mentor) {
        return Err(AppError::forbidden(
            "Only the community's mentors write its plan.",
        ));
    }
    if !year_in_range(year) {
        return Err(AppError::bad_input(
            "year",
            "must be between last year and five years ahead",
        ));
    }
    let now = Utc::now();
    let current = find(db, org.id, year).await?;
    let plan = match current {
        Some(current) => {
            community_plan_revision::ActiveModel {
                id: Set(Uuid::now_v7()),
                plan_id: Set(current.id),
                version: Set(current.version),
                goals: Set(current.goals.clone()),
                activities: Set(current.activities.clone()),
                author_id: Set(current.author_id),
                written_at: Set(current.updated_at),
            }
            .insert(db)
            .await?;
            community_plan::ActiveModel {
                id: Set(current.id),
                goals: Set(goals),
                activities: Set(activities),
                version: Set(current.version + 1),
                author_id: Set(viewer.id()),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(db)
            .await?
        }
        None => community_plan::ActiveModel {
            id: Set(Uuid::now_v7()),
            community_id: Set(org.id),
            year: Set(year),
            goals: Set(goals),
            activities: Set(activities),
            version: Set(1),
            author_id: Set(viewer.id()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .map_err(AppError::unique_violation(
            "year",
            "Another mentor created this plan at the same moment; try again.",
        ))?,
    };
    let event = append_event(
        db,
        NewEvent {
            kind: EventKind::CommunityPlanSet,
            actor_id: Some(viewer.id()),
            subject_id: plan.id,
            object_id: None,
            organization_ids: vec![org.id],
            topic_ids: vec![],
            audience: vec![Reader::Public],
        },
    )
    .await?;
    Ok((plan, event))
}

#[tracing::instrument(skip_all, fields(%community))]
pub async fn find(
    db: &impl ConnectionTrait,
    community: Uuid,
    year: i32,
) -> AppResult<Option<community_plan::Model>> {
    Ok(community_plan::Entity::find()
        .filter(community_plan::Column::CommunityId.eq(community))
        .filter(community_plan::Column::Year.eq(year))
        .one(db)
        .await?)
}

/// Earlier versions of a plan, oldest first.
#[tracing::instrument(skip_all)]
pub async fn history(
    db: &impl ConnectionTrait,
    plan: Uuid,
) -> AppResult<Vec<community_plan_revision::Model>> {
    Ok(community_plan_revision::Entity::find()
        .filter(community_plan_revision::Column::PlanId.eq(plan))
        .order_by_asc(community_plan_revision::Column::Version)
        .all(db)
        .await?)
}
