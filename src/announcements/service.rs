//! Transactional logic of announcements.

use chrono::Utc;
use entity::membership::Role;
use entity::{announcement, announcement_target, announcement_topic, event};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::db::pagination::Page;
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::inquiries::service::{Addressees, addressed_communities, sending_organization};
use crate::topics::service::existing_topics;

/// A validated new announcement.
pub struct NewAnnouncement {
    pub organization_id: Uuid,
    pub title: String,
    pub body: String,
    pub addressees: Addressees,
    /// Also email it straight to the staff of the addressed communities.
    pub email_staff: bool,
    /// Topics it is about: their followers among its readers hear of it.
    pub topic_ids: Vec<Uuid>,
}

/// Who reads an announcement and its events: the sending organization, the leads, and
/// everyone in an addressed community (it is for their staff).
fn readers(a: &announcement::Model, communities: &[Uuid]) -> Vec<Reader> {
    let mut readers = vec![Reader::organization(a.organization_id), Reader::Leads];
    readers.extend(communities.iter().map(|c| Reader::organization(*c)));
    readers
}

/// Whether `viewer` may read an announcement addressed to `communities`.
pub fn can_read(viewer: &Viewer, a: &announcement::Model, communities: &[Uuid]) -> bool {
    viewer.is_admin()
        || viewer.grants.iter().any(|g| {
            g.organization_id == a.organization_id
                || g.role == Role::Lead
                || communities.contains(&g.organization_id)
        })
}

async fn communities_of(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(announcement_target::Entity::find()
        .filter(announcement_target::Column::AnnouncementId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.community_id)
        .collect())
}

async fn record(
    db: &impl ConnectionTrait,
    a: &announcement::Model,
    communities: &[Uuid],
    kind: EventKind,
    actor: Uuid,
    object: Option<Uuid>,
    topic_ids: Vec<Uuid>,
) -> AppResult<event::Model> {
    let mut organization_ids = vec![a.organization_id];
    organization_ids.extend(communities.iter().copied());
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(actor),
            subject_id: a.id,
            object_id: object,
            organization_ids,
            topic_ids,
            audience: readers(a, communities),
        },
    )
    .await
}

/// A contact of a service unit, or a lead for management, sends an announcement: the mentors
/// of every addressed community are asked to relay it (and, with `email_staff`, its staff get
/// it by email at once).
#[tracing::instrument(skip_all)]
pub async fn publish(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    new: NewAnnouncement,
) -> AppResult<(announcement::Model, event::Model)> {
    let org = sending_organization(db, viewer, new.organization_id, "send announcements").await?;
    let communities = addressed_communities(db, &new.addressees).await?;
    let a = announcement::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.id),
        author_id: Set(viewer.id()),
        title: Set(new.title.clone()),
        body: Set(new.body),
        email_staff: Set(new.email_staff),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    announcement_target::Entity::insert_many(communities.iter().map(|c| {
        announcement_target::ActiveModel {
            announcement_id: Set(a.id),
            community_id: Set(*c),
            relayed_by: Set(None),
            relayed_at: Set(None),
            how: Set(None),
        }
    }))
    .exec_without_returning(db)
    .await?;
    let topics = existing_topics(db, &new.topic_ids).await?;
    if !topics.is_empty() {
        announcement_topic::Entity::insert_many(topics.iter().map(|t| {
            announcement_topic::ActiveModel {
                announcement_id: Set(a.id),
                topic_id: Set(*t),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    let event = record(
        db,
        &a,
        &communities,
        EventKind::AnnouncementPublished,
        viewer.id(),
        None,
        topics,
    )
    .await?;
    Ok((a, event))
}

/// A mentor of an addressed community marks the announcement relayed to their staff, and how.
/// Marked already is `CONFLICT`; the sender is told.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn mark_relayed(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    community: Uuid,
    how: String,
) -> AppResult<(announcement_target::Model, event::Model)> {
    let a = announcement::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("announcement"))?;
    let communities = communities_of(db, id).await?;
    if !can_read(viewer, &a, &communities) {
        return Err(AppError::NotFound("announcement"));
    }
    let target = announcement_target::Entity::find_by_id((id, community))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::bad_input("communityId", "the announcement is not addressed to it")
        })?;
    if !viewer.holds(community, Role::Mentor) {
        return Err(AppError::forbidden(
            "Only the community's mentors mark an announcement relayed for it.",
        ));
    }
    if target.relayed_at.is_some() {
        return Err(AppError::conflict(
            None,
            "It has been marked relayed for this community already.",
        ));
    }
    let target = announcement_target::ActiveModel {
        announcement_id: Set(id),
        community_id: Set(community),
        relayed_by: Set(Some(viewer.id())),
        relayed_at: Set(Some(Utc::now())),
        how: Set(Some(how)),
    }
    .update(db)
    .await?;
    let event = record(
        db,
        &a,
        &communities,
        EventKind::AnnouncementRelayed,
        viewer.id(),
        Some(community),
        vec![],
    )
    .await?;
    Ok((target, event))
}

/// One announcement the viewer may read, with its addressed communities' slots.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn find_readable(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<(announcement::Model, Vec<announcement_target::Model>)>> {
    let Some(a) = announcement::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let targets = targets_of(db, &[id]).await?;
    let communities: Vec<Uuid> = targets.iter().map(|t| t.community_id).collect();
    Ok(can_read(viewer, &a, &communities).then_some((a, targets)))
}

/// The slots of some announcements.
pub async fn targets_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<Vec<announcement_target::Model>> {
    Ok(announcement_target::Entity::find()
        .filter(announcement_target::Column::AnnouncementId.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// One page of the announcements the viewer may read, newest first, each with its slots.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    page: &Page,
) -> AppResult<Vec<(announcement::Model, Vec<announcement_target::Model>)>> {
    let mut query = announcement::Entity::find();
    let lead = viewer.grants.iter().any(|g| g.role == Role::Lead);
    if !(viewer.is_admin() || lead) {
        let mine: Vec<Uuid> = viewer.grants.iter().map(|g| g.organization_id).collect();
        query = query.filter(
            Condition::any()
                .add(announcement::Column::OrganizationId.is_in(mine.iter().copied()))
                .add(
                    announcement::Column::Id.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(announcement_target::Column::AnnouncementId)
                            .from(announcement_target::Entity)
                            .and_where(
                                announcement_target::Column::CommunityId
                                    .is_in(mine.iter().copied()),
                            )
                            .to_owned(),
                    ),
                ),
        );
    }
    if let Some(after) = page.after {
        query = query.filter(announcement::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(announcement::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
    let mut targets: std::collections::HashMap<Uuid, Vec<announcement_target::Model>> =
        std::collections::HashMap::new();
    for target in targets_of(db, &ids).await? {
        targets
            .entry(target.announcement_id)
            .or_default()
            .push(target);
    }
    Ok(rows
        .into_iter()
        .map(|a| {
            let own = targets.remove(&a.id).unwrap_or_default();
            (a, own)
        })
        .collect())
}
