//! Transactional logic of the network's agenda.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::agenda_item::{self, AgendaStatus};
use entity::membership::Role;
use entity::{agenda_item_topic, agenda_support, event, meeting};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::events::audience::Reader;
use crate::events::kinds::EventKind;
use crate::events::service::{NewEvent, append_event};
use crate::topics::service::existing_topics;

/// Most items one meeting's agenda holds.
pub const MAX_ITEMS: usize = 30;

/// Mentors (of any community) and admins propose and support items.
fn require_mentor(viewer: &Viewer) -> AppResult<()> {
    if viewer.is_admin() || !viewer.organizations_with(Role::Mentor).is_empty() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Digimentors propose and support items for the network's agenda.",
        ))
    }
}

async fn record(
    db: &impl ConnectionTrait,
    kind: EventKind,
    actor: Uuid,
    subject: Uuid,
    object: Option<Uuid>,
    audience: Vec<Reader>,
    topic_ids: Vec<Uuid>,
) -> AppResult<event::Model> {
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(actor),
            subject_id: subject,
            object_id: object,
            organization_ids: vec![],
            topic_ids,
            audience,
        },
    )
    .await
}

async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<agenda_item::Model> {
    agenda_item::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("agenda item"))
}

/// A mentor proposes an item; the chair (every admin) is told.
#[tracing::instrument(skip_all)]
pub async fn propose(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    title: String,
    body: String,
    topic_ids: Vec<Uuid>,
) -> AppResult<(agenda_item::Model, event::Model)> {
    require_mentor(viewer)?;
    let topics = existing_topics(db, &topic_ids).await?;
    let now = Utc::now();
    let item = agenda_item::ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(title),
        body: Set(body),
        proposed_by: Set(viewer.id()),
        status: Set(AgendaStatus::Proposed),
        meeting_id: Set(None),
        position: Set(None),
        report_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    if !topics.is_empty() {
        agenda_item_topic::Entity::insert_many(topics.iter().map(|t| {
            agenda_item_topic::ActiveModel {
                item_id: Set(item.id),
                topic_id: Set(*t),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    let event = record(
        db,
        EventKind::AgendaItemProposed,
        viewer.id(),
        item.id,
        None,
        vec![Reader::Mentors],
        topics,
    )
    .await?;
    Ok((item, event))
}

/// A mentor supports an item, or withdraws their support: an event when it changed, none when
/// it already was so. Their own item is `CONFLICT`, as is one handled already.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn support(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    supported: bool,
) -> AppResult<(agenda_item::Model, Option<event::Model>)> {
    require_mentor(viewer)?;
    let item = find(db, id).await?;
    if item.proposed_by == viewer.id() {
        return Err(AppError::conflict(None, "You proposed it yourself."));
    }
    if item.status == AgendaStatus::Handled {
        return Err(AppError::conflict(None, "The item has been handled."));
    }
    let existing = agenda_support::Entity::find_by_id((id, viewer.id()))
        .one(db)
        .await?;
    let changed = match (supported, existing) {
        (true, None) => {
            agenda_support::ActiveModel {
                item_id: Set(id),
                user_id: Set(viewer.id()),
                created_at: Set(Utc::now()),
            }
            .insert(db)
            .await?;
            true
        }
        (false, Some(_)) => {
            agenda_support::Entity::delete_by_id((id, viewer.id()))
                .exec(db)
                .await?;
            true
        }
        _ => false,
    };
    if !changed {
        return Ok((item, None));
    }
    let kind = if supported {
        EventKind::AgendaItemSupported
    } else {
        EventKind::AgendaItemUnsupported
    };
    let event = record(
        db,
        kind,
        viewer.id(),
        id,
        None,
        vec![Reader::Mentors],
        vec![],
    )
    .await?;
    Ok((item, Some(event)))
}

/// The chair sets the agenda items of a meeting that has not ended and is not cancelled, in
/// order: each listed item is placed there (from the proposals, or moved within it); an item
/// that was on it and is left out goes back to the proposals. The proposer and supporters of
/// each newly placed item are told.
#[tracing::instrument(skip_all, fields(%meeting_id))]
pub async fn set_agenda(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    meeting_id: Uuid,
    items: &[Uuid],
) -> AppResult<(Vec<agenda_item::Model>, Vec<event::Model>)> {
    if !viewer.is_admin() {
        return Err(AppError::forbidden(
            "The chair (an administrator) sets the network's agenda.",
        ));
    }
    if items.len() > MAX_ITEMS {
        return Err(AppError::bad_input(
            "itemIds",
            format!("at most {MAX_ITEMS} items"),
        ));
    }
    let unique: HashSet<Uuid> = items.iter().copied().collect();
    if unique.len() != items.len() {
        return Err(AppError::bad_input("itemIds", "names an item twice"));
    }
    let meeting = meeting::Entity::find_by_id(meeting_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("meetingId", "no such meeting"))?;
    if meeting.cancelled_at.is_some() || meeting.ends_at < Utc::now() {
        return Err(AppError::conflict(
            None,
            "The meeting is cancelled or over; choose a coming meeting.",
        ));
    }
    let found: HashMap<Uuid, agenda_item::Model> = agenda_item::Entity::find()
        .filter(agenda_item::Column::Id.is_in(items.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    for id in items {
        let item = found
            .get(id)
            .ok_or_else(|| AppError::bad_input("itemIds", "names an item that does not exist"))?;
        let here = item.meeting_id == Some(meeting_id);
        let free = item.status == AgendaStatus::Proposed;
        if !(free || (here && item.status == AgendaStatus::OnAgenda)) {
            return Err(AppError::conflict(
                Some("itemIds"),
                format!(
                    "“{}” is on another meeting's agenda or handled.",
                    item.title
                ),
            ));
        }
    }
    let now = Utc::now();
    // What was on this agenda and is left out goes back to the proposals.
    agenda_item::Entity::update_many()
        .col_expr(
            agenda_item::Column::Status,
            Expr::value(AgendaStatus::Proposed),
        )
        .col_expr(agenda_item::Column::MeetingId, Expr::value(None::<Uuid>))
        .col_expr(agenda_item::Column::Position, Expr::value(None::<i32>))
        .col_expr(agenda_item::Column::UpdatedAt, Expr::value(now))
        .filter(agenda_item::Column::MeetingId.eq(meeting_id))
        .filter(agenda_item::Column::Status.eq(AgendaStatus::OnAgenda))
        .filter(agenda_item::Column::Id.is_not_in(items.iter().copied()))
        .exec(db)
        .await?;
    let mut placed = Vec::with_capacity(items.len());
    let mut events = Vec::new();
    for (position, id) in items.iter().enumerate() {
        let newly = found
            .get(id)
            .is_some_and(|i| i.status == AgendaStatus::Proposed);
        let item = agenda_item::ActiveModel {
            id: Set(*id),
            status: Set(AgendaStatus::OnAgenda),
            meeting_id: Set(Some(meeting_id)),
            position: Set(Some(i32::try_from(position).unwrap_or(i32::MAX))),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(db)
        .await?;
        if newly {
            events.push(
                record(
                    db,
                    EventKind::AgendaItemPlaced,
                    viewer.id(),
                    item.id,
                    Some(meeting_id),
                    vec![Reader::Public],
                    vec![],
                )
                .await?,
            );
        }
        placed.push(item);
    }
    // The agenda changed even when nothing new was placed (an item left out, a new order).
    events.push(
        record(
            db,
            EventKind::AgendaSet,
            viewer.id(),
            meeting_id,
            None,
            vec![Reader::Public],
            vec![],
        )
        .await?,
    );
    Ok((placed, events))
}

/// The items on a meeting's agenda, in order, handled ones too.
#[tracing::instrument(skip_all)]
pub async fn of_meeting(
    db: &impl ConnectionTrait,
    meeting_id: Uuid,
) -> AppResult<Vec<agenda_item::Model>> {
    Ok(agenda_item::Entity::find()
        .filter(agenda_item::Column::MeetingId.eq(meeting_id))
        .order_by_asc(agenda_item::Column::Position)
        .all(db)
        .await?)
}

/// The items a report recorded handled, in their agenda's order.
#[tracing::instrument(skip_all)]
pub async fn handled_in(
    db: &impl ConnectionTrait,
    report_id: Uuid,
) -> AppResult<Vec<agenda_item::Model>> {
    Ok(agenda_item::Entity::find()
        .filter(agenda_item::Column::ReportId.eq(report_id))
        .order_by_asc(agenda_item::Column::Position)
        .all(db)
        .await?)
}

/// A meeting's report records every item on its agenda handled (in the report's transaction).
#[tracing::instrument(skip_all)]
pub async fn mark_handled(
    db: &impl ConnectionTrait,
    meeting_id: Uuid,
    report_id: Uuid,
) -> AppResult<u64> {
    Ok(agenda_item::Entity::update_many()
        .col_expr(
            agenda_item::Column::Status,
            Expr::value(AgendaStatus::Handled),
        )
        .col_expr(agenda_item::Column::ReportId, Expr::value(report_id))
        .col_expr(agenda_item::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(agenda_item::Column::MeetingId.eq(meeting_id))
        .filter(agenda_item::Column::Status.eq(AgendaStatus::OnAgenda))
        .exec(db)
        .await?
        .rows_affected)
}

/// The items of one status (every one when none), with how many support each and whether the
/// viewer does: proposals most supported first, then oldest; placed ones by meeting and place.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    status: Option<AgendaStatus>,
    limit: u64,
) -> AppResult<Vec<(agenda_item::Model, u64, bool)>> {
    let mut query = agenda_item::Entity::find();
    if let Some(status) = status {
        query = query.filter(agenda_item::Column::Status.eq(status));
    }
    let items = query
        .order_by_desc(agenda_item::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?;
    let supports = agenda_support::Entity::find()
        .filter(agenda_support::Column::ItemId.is_in(items.iter().map(|i| i.id)))
        .all(db)
        .await?;
    let mut counted: Vec<(agenda_item::Model, u64, bool)> = items
        .into_iter()
        .map(|item| {
            let of: Vec<&agenda_support::Model> =
                supports.iter().filter(|s| s.item_id == item.id).collect();
            let mine = of.iter().any(|s| s.user_id == viewer.id());
            (item, of.len() as u64, mine)
        })
        .collect();
    counted.sort_by(|(a, a_support, _), (b, b_support, _)| {
        let proposal = |i: &agenda_item::Model| i.status == AgendaStatus::Proposed;
        proposal(b).cmp(&proposal(a)).then_with(|| {
            if proposal(a) {
                b_support
                    .cmp(a_support)
                    .then(a.created_at.cmp(&b.created_at))
            } else {
                (a.meeting_id, a.position).cmp(&(b.meeting_id, b.position))
            }
        })
    });
    Ok(counted)
}

/// Who supports an item.
#[tracing::instrument(skip_all)]
pub async fn supporters(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(agenda_support::Entity::find()
        .filter(agenda_support::Column::ItemId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.user_id)
        .collect())
}
