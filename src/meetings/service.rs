//! Transactional logic of meetings.

use chrono::{DateTime, Months, Utc};
use entity::{event, meeting, meeting_topic};
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
use crate::partners::service::existing as existing_partner;
use crate::topics::service::existing_topics;
use crate::values::web_link;

/// Most meetings one call may schedule as a monthly series.
pub const MAX_SERIES: u32 = 12;

/// A validated meeting.
#[derive(Debug, Clone)]
pub struct MeetingInput {
    /// What the meeting is called.
    pub title: String,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends; after the start.
    pub ends_at: DateTime<Utc>,
    /// Where it is held; a place or an online link is needed.
    pub place: Option<String>,
    /// An https link to join online.
    pub online_url: Option<String>,
    /// The agenda (Markdown).
    pub agenda: String,
    /// Topics on the agenda; their subscribers hear of it.
    pub topic_ids: Vec<Uuid>,
    /// A partner network the meeting is held jointly with.
    pub partner_id: Option<Uuid>,
}

impl MeetingInput {
    /// Checks what does not depend on the database.
    pub fn check(&self) -> AppResult<()> {
        if self.ends_at <= self.starts_at {
            return Err(AppError::bad_input("endsAt", "must be after the start"));
        }
        if self.place.is_none() && self.online_url.is_none() {
            return Err(AppError::bad_input(
                "place",
                "give a place, an online link, or both",
            ));
        }
        if let Some(url) = &self.online_url
            && online_url(url)? != *url
        {
            return Err(AppError::bad_input("onlineUrl", "must be an http(s) link"));
        }
        Ok(())
    }
}

/// An online meeting link as stored (see [`web_link`]).
pub fn online_url(raw: &str) -> AppResult<String> {
    web_link(raw).map_err(AppError::invalid("onlineUrl"))
}

fn require_admin(viewer: &Viewer) -> AppResult<()> {
    if viewer.is_admin() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only administrators schedule network meetings.",
        ))
    }
}

/// Replaces the topics of meetings.
async fn set_topics(
    db: &impl ConnectionTrait,
    meetings: &[Uuid],
    topics: &[Uuid],
) -> AppResult<()> {
    meeting_topic::Entity::delete_many()
        .filter(meeting_topic::Column::MeetingId.is_in(meetings.iter().copied()))
        .exec(db)
        .await?;
    let links: Vec<meeting_topic::ActiveModel> = meetings
        .iter()
        .flat_map(|m| {
            topics.iter().map(move |t| meeting_topic::ActiveModel {
                meeting_id: Set(*m),
                topic_id: Set(*t),
            })
        })
        .collect();
    if !links.is_empty() {
        meeting_topic::Entity::insert_many(links)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Records a meeting event. Its subject is the (first) meeting it is about; its object, when
/// set, is the series the event covers (see [`of_event`]).
async fn record(
    db: &impl ConnectionTrait,
    first: &meeting::Model,
    series: Option<Uuid>,
    kind: EventKind,
    actor: Uuid,
    topic_ids: Vec<Uuid>,
) -> AppResult<event::Model> {
    append_event(
        db,
        NewEvent {
            kind,
            actor_id: Some(actor),
            subject_id: first.id,
            object_id: series,
            organization_ids: vec![],
            topic_ids,
            audience: vec![Reader::Public],
        },
    )
    .await
}

/// Schedules one meeting, or `count` monthly ones at the same local time.
#[tracing::instrument(skip_all)]
pub async fn schedule(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    input: MeetingInput,
    count: u32,
) -> AppResult<(Vec<meeting::Model>, event::Model)> {
    require_admin(viewer)?;
    input.check()?;
    if !(1..=MAX_SERIES).contains(&count) {
        return Err(AppError::bad_input(
            "repeatMonthly",
            format!("must be between 1 and {MAX_SERIES}"),
        ));
    }
    let partner = existing_partner(db, "partnerId", input.partner_id).await?;
    let series = (count > 1).then(Uuid::now_v7);
    let tz = chrono_tz::Europe::Helsinki;
    let (start_local, end_local) = (
        input.starts_at.with_timezone(&tz).naive_local(),
        input.ends_at.with_timezone(&tz).naive_local(),
    );
    let now = Utc::now();
    let mut meetings = Vec::new();
    for k in 0..count {
        let shift = |at: chrono::NaiveDateTime| {
            at.checked_add_months(Months::new(k))
                .and_then(|t| t.and_local_timezone(tz).earliest())
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| AppError::bad_input("startsAt", "cannot repeat this date monthly"))
        };
        let meeting = meeting::ActiveModel {
            id: Set(Uuid::now_v7()),
            title: Set(input.title.clone()),
            starts_at: Set(shift(start_local)?),
            ends_at: Set(shift(end_local)?),
            place: Set(input.place.clone()),
            online_url: Set(input.online_url.clone()),
            agenda: Set(input.agenda.clone()),
            sequence: Set(0),
            series_id: Set(series),
            previous: Set(None),
            cancelled_at: Set(None),
            cancel_reason: Set(None),
            partner_id: Set(partner),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await?;
        meetings.push(meeting);
    }
    let topics = existing_topics(db, &input.topic_ids).await?;
    let ids: Vec<Uuid> = meetings.iter().map(|m| m.id).collect();
    set_topics(db, &ids, &topics).await?;
    let event = record(
        db,
        &meetings[0],
        series,
        EventKind::MeetingScheduled,
        viewer.id(),
        topics,
    )
    .await?;
    Ok((meetings, event))
}

/// What a meeting was before a change: what the update email compares.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MeetingSnapshot {
    pub title: String,
    pub starts_at: chrono::DateTime<Utc>,
    pub ends_at: chrono::DateTime<Utc>,
    pub place: Option<String>,
    pub online_url: Option<String>,
}

impl MeetingSnapshot {
    pub fn of(meeting: &meeting::Model) -> Self {
        Self {
            title: meeting.title.clone(),
            starts_at: meeting.starts_at,
            ends_at: meeting.ends_at,
            place: meeting.place.clone(),
            online_url: meeting.online_url.clone(),
        }
    }

    /// The snapshot a meeting keeps of itself before its last change.
    pub fn previous(meeting: &meeting::Model) -> Option<Self> {
        serde_json::from_value(meeting.previous.clone()?).ok()
    }
}

/// Changes a meeting; its SEQUENCE rises so calendars replace the old version.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    input: MeetingInput,
) -> AppResult<(meeting::Model, event::Model)> {
    require_admin(viewer)?;
    input.check()?;
    let current = meeting::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("meeting"))?;
    if current.cancelled_at.is_some() {
        return Err(AppError::conflict(
            None,
            "The meeting is cancelled; schedule a new one instead.",
        ));
    }
    let topics = existing_topics(db, &input.topic_ids).await?;
    let partner = existing_partner(db, "partnerId", input.partner_id).await?;
    set_topics(db, &[id], &topics).await?;
    let meeting = meeting::ActiveModel {
        id: Set(id),
        title: Set(input.title),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        place: Set(input.place),
        online_url: Set(input.online_url),
        agenda: Set(input.agenda),
        partner_id: Set(partner),
        sequence: Set(current.sequence + 1),
        previous: Set(serde_json::to_value(MeetingSnapshot::of(&current)).ok()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    let event = record(
        db,
        &meeting,
        None,
        EventKind::MeetingUpdated,
        viewer.id(),
        topics,
    )
    .await?;
    Ok((meeting, event))
}

/// Cancels a meeting: it stays listed, marked cancelled with the reason; its SEQUENCE rises,
/// and the event sends the invited a `METHOD:CANCEL` and tells its topics' subscribers. A
/// meeting cancelled already is `CONFLICT`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn cancel(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    reason: Option<String>,
) -> AppResult<(meeting::Model, event::Model)> {
    require_admin(viewer)?;
    let current = meeting::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("meeting"))?;
    if current.cancelled_at.is_some() {
        return Err(AppError::conflict(
            None,
            "The meeting is cancelled already.",
        ));
    }
    let now = Utc::now();
    let meeting = meeting::ActiveModel {
        id: Set(id),
        sequence: Set(current.sequence + 1),
        cancelled_at: Set(Some(now)),
        cancel_reason: Set(reason),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    let topics = topics_of(db, &[id]).await?;
    // One meeting of a series is cancelled on its own: the event covers it alone.
    let event = record(
        db,
        &meeting,
        None,
        EventKind::MeetingCancelled,
        viewer.id(),
        topics,
    )
    .await?;
    Ok((meeting, event))
}

/// The topics of some meetings, each once.
async fn topics_of(db: &impl ConnectionTrait, meetings: &[Uuid]) -> AppResult<Vec<Uuid>> {
    let mut topics: Vec<Uuid> = meeting_topic::Entity::find()
        .filter(meeting_topic::Column::MeetingId.is_in(meetings.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.topic_id)
        .collect();
    topics.sort_unstable();
    topics.dedup();
    Ok(topics)
}

/// Cancels what is left of the series the meeting `id` belongs to: every meeting of it that has
/// not ended and is not cancelled yet, soonest first. Each one's SEQUENCE rises and all share
/// one `cancelled_at`, which is how the one event that tells the invited finds them again. A
/// meeting outside any series is `BAD_USER_INPUT` (cancel it alone); a series with nothing
/// left to cancel is `CONFLICT`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn cancel_series(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    reason: Option<String>,
) -> AppResult<(Vec<meeting::Model>, event::Model)> {
    require_admin(viewer)?;
    let current = meeting::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("meeting"))?;
    let Some(series) = current.series_id else {
        return Err(AppError::bad_input(
            "id",
            "the meeting is not part of a series; cancel it alone",
        ));
    };
    let now = Utc::now();
    let left = meeting::Entity::find()
        .filter(meeting::Column::SeriesId.eq(series))
        .filter(meeting::Column::CancelledAt.is_null())
        .filter(meeting::Column::EndsAt.gte(now))
        .order_by_asc(meeting::Column::StartsAt)
        .all(db)
        .await?;
    if left.is_empty() {
        return Err(AppError::conflict(
            None,
            "Every meeting of the series has ended or is cancelled already.",
        ));
    }
    let mut meetings = Vec::with_capacity(left.len());
    for current in left {
        let meeting = meeting::ActiveModel {
            id: Set(current.id),
            sequence: Set(current.sequence + 1),
            cancelled_at: Set(Some(now)),
            cancel_reason: Set(reason.clone()),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(db)
        .await?;
        meetings.push(meeting);
    }
    let ids: Vec<Uuid> = meetings.iter().map(|m| m.id).collect();
    let topics = topics_of(db, &ids).await?;
    let event = record(
        db,
        &meetings[0],
        Some(series),
        EventKind::MeetingCancelled,
        viewer.id(),
        topics,
    )
    .await?;
    Ok((meetings, event))
}

/// One meeting by id (meetings are public).
#[tracing::instrument(skip_all)]
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<meeting::Model>> {
    Ok(meeting::Entity::find_by_id(id).one(db).await?)
}

/// Upcoming meetings (soonest first) or past ones (latest first), cancelled ones too or not.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    upcoming: bool,
    include_cancelled: bool,
    limit: u64,
) -> AppResult<Vec<meeting::Model>> {
    let now = Utc::now();
    let mut query = meeting::Entity::find();
    if !include_cancelled {
        query = query.filter(meeting::Column::CancelledAt.is_null());
    }
    let query = if upcoming {
        query
            .filter(meeting::Column::EndsAt.gte(now))
            .order_by_asc(meeting::Column::StartsAt)
    } else {
        query
            .filter(meeting::Column::EndsAt.lt(now))
            .order_by_desc(meeting::Column::StartsAt)
    };
    Ok(query.limit(limit).all(db).await?)
}

/// The meetings an invitation event is about: the series it scheduled, the meetings of a
/// series it cancelled together (those sharing its subject's `cancelled_at`), or the one
/// meeting.
#[tracing::instrument(skip_all)]
pub async fn of_event(
    db: &impl ConnectionTrait,
    event: &event::Model,
) -> AppResult<Vec<meeting::Model>> {
    Ok(match event.object_id {
        Some(series) => {
            let mut query = meeting::Entity::find().filter(meeting::Column::SeriesId.eq(series));
            if event.kind == crate::events::kinds::MEETING_CANCELLED {
                let together = meeting::Entity::find_by_id(event.subject_id)
                    .one(db)
                    .await?
                    .and_then(|m| m.cancelled_at);
                query = query.filter(meeting::Column::CancelledAt.eq(together));
            }
            query
                .order_by_asc(meeting::Column::StartsAt)
                .all(db)
                .await?
        }
        None => meeting::Entity::find_by_id(event.subject_id)
            .one(db)
            .await?
            .into_iter()
            .collect(),
    })
}
