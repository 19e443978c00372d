//! Daily and weekly digests. Each subscriber's digest covers the window from where the last one
//! ended to the latest digest boundary in their own time zone: every item lands in exactly one
//! digest, and after downtime one digest covers the whole gap. The delivery's key
//! `digest:<user>:<frequency>:<boundary>` makes a second run, on any instance, a no-op.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entity::digest_state;
use entity::inquiry::{self, InquiryStatus};
use entity::inquiry_target::{self, TargetStatus};
use entity::membership::Role;
use entity::topic_subscription::{self, Frequency};
use entity::{event, organization, topic, user};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
};
use uuid::Uuid;

use super::items::{Item, items_for};
use super::payloads::{DigestGroup, DigestMail, ItemLine, ListHeaders, WaitingTarget, to_payload};
use super::rules::{NewDelivery, local_time, localized_name, topic_name};
use super::{MailContext, Template, outbox};
use crate::auth::service::grants_by_user;
use crate::auth::{Grant, Viewer};
use crate::error::AppResult;
use crate::events::{PublishedEvent, kinds};
use crate::subscriptions::token::Scope;
use crate::subscriptions::windows::{last_boundary, previous_boundary};

/// Digests committed per transaction.
const DIGESTS_PER_TRANSACTION: usize = 500;
/// Digests planned and written per INSERT statement (well under the bind-parameter limits of
/// both engines); what a run holds in memory at once.
const INSERT_CHUNK: usize = 100;

/// One subscriber's digest that is due.
struct Due {
    user: user::Model,
    frequency: Frequency,
    topics: Vec<Uuid>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DigestReport {
    /// Digests queued.
    pub queued: u64,
    /// Due windows that held nothing (no email; the window still closes).
    pub empty: u64,
}

/// A slot still waiting for its community's answer, with its inquiry and community.
type WaitingSlot = (inquiry::Model, inquiry_target::Model, organization::Model);

/// The digests due at one moment, with everything they are built from, read once. Written in
/// batches ([`DueDigests::write_batch`]), each in its own unit of work: a batch's emails and
/// window ends commit together, so a crash leaves every digest either queued with its window
/// closed, or neither.
pub struct DueDigests {
    due: Vec<Due>,
    /// The window's events about each topic, newest first.
    by_topic: HashMap<Uuid, Vec<Arc<PublishedEvent>>>,
    items: HashMap<Uuid, Item>,
    topics: HashMap<Uuid, topic::Model>,
    grants: HashMap<Uuid, Vec<Grant>>,
    waiting: Vec<WaitingSlot>,
}

/// Reads every digest due at `now`.
#[tracing::instrument(skip(db, ctx))]
pub async fn due_at(
    db: &DatabaseConnection,
    ctx: &MailContext,
    now: DateTime<Utc>,
) -> AppResult<DueDigests> {
    let due = due_digests(db, now).await?;
    if due.is_empty() {
        return Ok(DueDigests {
            due,
            by_topic: HashMap::new(),
            items: HashMap::new(),
            topics: HashMap::new(),
            grants: HashMap::new(),
            waiting: Vec::new(),
        });
    }
    let earliest = due.iter().map(|d| d.start).min().unwrap_or(now);
    let latest = due.iter().map(|d| d.end).max().unwrap_or(now);
    let events = event::Entity::find()
        .filter(event::Column::Kind.is_in(kinds::followed_by_topic()))
        .filter(event::Column::CreatedAt.gte(earliest))
        .filter(event::Column::CreatedAt.lt(latest))
        .order_by_desc(event::Column::Seq)
        .all(db)
        .await?;
    let items: HashMap<Uuid, Item> = items_for(db, ctx, &events)
        .await?
        .into_iter()
        .map(|i| (i.event_id, i))
        .collect();
    // Each digest reads its topics' events only, not every event of the window per topic.
    let mut by_topic: HashMap<Uuid, Vec<Arc<PublishedEvent>>> = HashMap::new();
    for event in events {
        let event = Arc::new(PublishedEvent::new(event));
        for topic in &event.topic_ids {
            by_topic.entry(*topic).or_default().push(event.clone());
        }
    }
    let topics: HashMap<Uuid, topic::Model> = topic::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let user_ids: Vec<Uuid> = due.iter().map(|d| d.user.id).collect();
    let grants = grants_by_user(db, &user_ids).await?;
    let waiting = waiting_slots(db).await?;
    Ok(DueDigests {
        due,
        by_topic,
        items,
        topics,
        grants,
        waiting,
    })
}

impl DueDigests {
    /// How many batches [`DueDigests::write_batch`] takes.
    pub fn batches(&self) -> usize {
        self.due.len().div_ceil(DIGESTS_PER_TRANSACTION)
    }

    /// Queues batch `index`'s digests and closes their windows, in the caller's transaction.
    pub async fn write_batch(
        &self,
        db: &impl ConnectionTrait,
        ctx: &MailContext,
        index: usize,
    ) -> AppResult<DigestReport> {
        let mut report = DigestReport::default();
        let Some(batch) = self.due.chunks(DIGESTS_PER_TRANSACTION).nth(index) else {
            return Ok(report);
        };
        // Planned and written a statement's worth at a time: a digest's payload can be large
        // (every item of the window for each of its topics), and only these are held at once.
        for digests in batch.chunks(INSERT_CHUNK) {
            let mut planned = Vec::with_capacity(digests.len());
            let mut covered = Vec::with_capacity(digests.len());
            for digest in digests {
                let viewer = Viewer {
                    grants: self
                        .grants
                        .get(&digest.user.id)
                        .cloned()
                        .unwrap_or_default(),
                    user: digest.user.clone(),
                    token_id: Uuid::nil(),
                };
                let built = plan(
                    ctx,
                    digest,
                    &viewer,
                    &self.by_topic,
                    &self.items,
                    &self.topics,
                    &self.waiting,
                );
                match built {
                    Some(delivery) => planned.push(delivery),
                    None => report.empty += 1,
                }
                covered.push(digest_state::ActiveModel {
                    user_id: Set(digest.user.id),
                    frequency: Set(digest.frequency),
                    covered_until: Set(digest.end),
                });
            }
            digest_state::Entity::insert_many(covered)
                .on_conflict(
                    OnConflict::columns([
                        digest_state::Column::UserId,
                        digest_state::Column::Frequency,
                    ])
                    .update_column(digest_state::Column::CoveredUntil)
                    .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
            report.queued += outbox::insert(db, planned, ctx.domain()).await?;
        }
        Ok(report)
    }
}

/// Every (subscriber, frequency) whose window has closed since its last digest.
async fn due_digests(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<Vec<Due>> {
    let digested = [Frequency::Daily, Frequency::Weekly];
    let subscriptions: Vec<(Uuid, Frequency, Uuid)> = topic_subscription::Entity::find()
        .select_only()
        .column(topic_subscription::Column::UserId)
        .column(topic_subscription::Column::Frequency)
        .column(topic_subscription::Column::TopicId)
        .filter(topic_subscription::Column::Frequency.is_in(digested))
        .into_tuple()
        .all(db)
        .await?;
    let users: HashMap<Uuid, user::Model> = crate::db::users::without_password()
        .filter(
            user::Column::Id.in_subquery(
                topic_subscription::Entity::find()
                    .select_only()
                    .column(topic_subscription::Column::UserId)
                    .filter(topic_subscription::Column::Frequency.is_in(digested))
                    .into_query(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let states: HashMap<(Uuid, Frequency), DateTime<Utc>> = digest_state::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| ((s.user_id, s.frequency), s.covered_until))
        .collect();
    let mut grouped: BTreeMap<(Uuid, String), (Uuid, Frequency, Vec<Uuid>)> = BTreeMap::new();
    for (user_id, frequency, topic_id) in subscriptions {
        grouped
            .entry((user_id, format!("{frequency:?}")))
            .or_insert_with(|| (user_id, frequency, Vec::new()))
            .2
            .push(topic_id);
    }
    let mut due = Vec::new();
    for (_, (user_id, frequency, topics)) in grouped {
        let Some(user) = users.get(&user_id).cloned() else {
            continue;
        };
        let tz: Tz = user
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Europe::Helsinki);
        let hour = u32::try_from(user.digest_hour).unwrap_or(7);
        let weekday = u32::try_from(user.digest_weekday).unwrap_or(0);
        let end = last_boundary(now, tz, hour, weekday, frequency);
        let start = match states.get(&(user.id, frequency)) {
            Some(covered) => *covered,
            None => previous_boundary(end, tz, hour, weekday, frequency),
        };
        if start < end {
            due.push(Due {
                user,
                frequency,
                topics,
                start,
                end,
            });
        }
    }
    Ok(due)
}

/// Open inquiries' pending slots with their community and deadline, nearest deadline first.
async fn waiting_slots(db: &impl ConnectionTrait) -> AppResult<Vec<WaitingSlot>> {
    let rows = inquiry_target::Entity::find()
        .filter(inquiry_target::Column::Status.eq(TargetStatus::Pending))
        .find_also_related(inquiry::Entity)
        .all(db)
        .await?;
    let open: Vec<(inquiry::Model, inquiry_target::Model)> = rows
        .into_iter()
        .filter_map(|(slot, inquiry)| {
            inquiry
                .filter(|i| i.status == InquiryStatus::Open)
                .map(|i| (i, slot))
        })
        .collect();
    let orgs: HashMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(open.iter().map(|(_, s)| s.community_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut out: Vec<_> = open
        .into_iter()
        .filter_map(|(i, s)| orgs.get(&s.community_id).cloned().map(|o| (i, s, o)))
        .collect();
    out.sort_by_key(|(i, _, _)| (i.deadline.is_none(), i.deadline));
    Ok(out)
}

fn plan(
    ctx: &MailContext,
    digest: &Due,
    viewer: &Viewer,
    by_topic: &HashMap<Uuid, Vec<Arc<PublishedEvent>>>,
    items: &HashMap<Uuid, Item>,
    topics: &HashMap<Uuid, topic::Model>,
    waiting: &[WaitingSlot],
) -> Option<NewDelivery> {
    let user = &viewer.user;
    let locale = user.locale;
    let mut groups = Vec::new();
    let mut count = 0;
    for topic_id in &digest.topics {
        let Some(topic) = topics.get(topic_id) else {
            continue;
        };
        let entries: Vec<ItemLine> = by_topic
            .get(topic_id)
            .into_iter()
            .flatten()
            .filter(|e| e.model.created_at >= digest.start && e.model.created_at < digest.end)
            .filter(|e| e.readable_by(Some(viewer)))
            .filter_map(|e| items.get(&e.model.id))
            .map(|item| item.line(locale, Some(local_time(item.at, &user.time_zone, locale))))
            .collect();
        if !entries.is_empty() {
            count += entries.len();
            groups.push(DigestGroup {
                topic: topic_name(topic, locale).to_owned(),
                items: entries,
            });
        }
    }
    if count == 0 {
        return None;
    }
    let mentor_of: Vec<Uuid> = viewer.organizations_with(Role::Mentor);
    let waiting: Vec<WaitingTarget> = waiting
        .iter()
        .filter(|(_, slot, _)| mentor_of.contains(&slot.community_id))
        .map(|(inquiry, _, community)| WaitingTarget {
            title: inquiry.title.clone(),
            community: localized_name(community, locale).to_owned(),
            deadline: inquiry
                .deadline
                .map(|d| local_time(d, &user.time_zone, locale)),
            overdue: inquiry.deadline.is_some_and(|d| d < digest.end),
            link: ctx.link(&format!("inquiries/{}", inquiry.id)),
        })
        .collect();
    let frequency = match digest.frequency {
        Frequency::Weekly => "weekly",
        _ => "daily",
    };
    Some(NewDelivery {
        dedupe_key: format!("digest:{}:{frequency}:{}", user.id, digest.end.timestamp()),
        payload: to_payload(&DigestMail {
            frequency: frequency.to_owned(),
            count,
            groups,
            waiting,
            window_start: digest.start,
            window_end: digest.end,
            list: ListHeaders {
                list_id: format!("{frequency}-digest.{}", ctx.domain()),
                unsubscribe_url: ctx.unsubscribe_url(user.id, Scope::AllDigests),
            },
        }),
        recipient: user.clone(),
        template: Template::Digest,
        thread_id: None,
        reply_to: None,
        event_id: None,
    })
}
