//! The `delivery` table: enqueueing in the change's transaction, claiming with a lease,
//! recording outcomes, and the admin's view.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::delivery::{self, DeliveryStatus};
use entity::event;
use sea_orm::sea_query::{
    Asterisk, Expr, ExprTrait, LockBehavior, LockType, OnConflict, Query, UnionType,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::MailContext;
use super::render::Earlier;
use super::rules::{self, NewDelivery};
use crate::db::pagination::Page;
use crate::error::{AppError, AppResult};

/// Inserts the deliveries that `events` call for, in the caller's transaction. Returns how
/// many new rows there are (a repeated dedupe key inserts nothing).
#[tracing::instrument(skip_all)]
pub async fn enqueue(
    db: &impl ConnectionTrait,
    events: &[event::Model],
    ctx: &MailContext,
) -> AppResult<u64> {
    let mut planned = Vec::new();
    for event in events {
        planned.extend(rules::plan(db, ctx, event).await?);
    }
    insert(db, planned, ctx.domain()).await
}

/// Inserts planned deliveries, due at once; duplicates by dedupe key are skipped.
#[tracing::instrument(skip_all)]
pub async fn insert(
    db: &impl ConnectionTrait,
    planned: Vec<NewDelivery>,
    mail_domain: &str,
) -> AppResult<u64> {
    // The first planned delivery of a key wins (rule recipients before topic subscribers). An
    // address suspended for bouncing, or a deactivated person, gets nothing.
    let mut keys = std::collections::HashSet::new();
    let planned: Vec<NewDelivery> = planned
        .into_iter()
        .filter(|d| d.recipient.email_suspended_at.is_none())
        .filter(|d| d.recipient.deactivated_at.is_none())
        .filter(|d| keys.insert(d.dedupe_key.clone()))
        .collect();
    if planned.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let rows = planned.into_iter().map(|d| {
        let id = Uuid::now_v7();
        delivery::ActiveModel {
            id: Set(id),
            dedupe_key: Set(d.dedupe_key),
            recipient_id: Set(d.recipient.id),
            recipient_email: Set(d.recipient.email),
            locale: Set(d.recipient.locale.to_value()),
            kind: Set(d.template.name().to_owned()),
            thread_id: Set(d.thread_id),
            payload: Set(d.payload),
            reply_to: Set(d.reply_to),
            event_id: Set(d.event_id),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            claimed_until: Set(None),
            last_error: Set(None),
            message_id: Set(format!("<{id}@{mail_domain}>")),
            sent_at: Set(None),
            bounced_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
    });
    let inserted = delivery::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(delivery::Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted)
}

/// Claims up to `limit` due deliveries for `lease`, counting the attempt. On PostgreSQL the
/// rows are picked with `FOR UPDATE SKIP LOCKED`, so concurrent workers never take the same
/// row; the row lock ends with this statement, and the lease keeps others away while the email
/// is sent. A claim whose lease ran out (a worker that died) is claimed again.
#[tracing::instrument(skip_all)]
pub async fn claim(
    db: &impl ConnectionTrait,
    limit: u64,
    lease: Duration,
    now: DateTime<Utc>,
) -> AppResult<Vec<delivery::Model>> {
    let until = now + chrono::Duration::from_std(lease).map_err(AppError::internal)?;
    let due = Query::select()
        .column(delivery::Column::Id)
        .from(delivery::Entity)
        .and_where(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .and_where(delivery::Column::NextAttemptAt.lte(now))
        .cond_where(
            Condition::any()
                .add(delivery::Column::ClaimedUntil.is_null())
                .add(delivery::Column::ClaimedUntil.lt(now)),
        )
        .order_by(delivery::Column::NextAttemptAt, sea_orm::Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    Ok(delivery::Entity::update_many()
        .col_expr(delivery::Column::ClaimedUntil, Expr::value(Some(until)))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.in_subquery(due))
        .exec_with_returning(db)
        .await?)
}

/// The emails of `thread` this delivery's recipient got before it, oldest first: the first is
/// the thread's root in their mailbox, the last the one a new email answers. Emails queued
/// earlier count whether already sent or still on their way (sent in the same batch, or being
/// retried), so that two emails sent at once thread the same as two sent an hour apart; an
/// email given up as dead never arrived and does not count.
#[tracing::instrument(skip_all)]
pub async fn earlier_in_thread(
    db: &impl ConnectionTrait,
    thread: Uuid,
    delivery: &delivery::Model,
) -> AppResult<Earlier> {
    let statement = earlier_in_thread_statement(
        db.get_database_backend(),
        thread,
        delivery.recipient_id,
        delivery.id,
    );
    let mut found: Vec<(Uuid, String)> = Vec::with_capacity(2);
    for row in db.query_all_raw(statement).await? {
        found.push((row.try_get("", "id")?, row.try_get("", "message_id")?));
    }
    found.sort();
    let root = found.first().map(|(_, message_id)| message_id.clone());
    let last = found.last().map(|(_, message_id)| message_id.clone());
    Ok(Earlier { root, last })
}

/// [`earlier_in_thread`]'s statement: the first and the latest email of `thread` to
/// `recipient` before `before` (not dead), as `id` and `message_id`.
pub fn earlier_in_thread_statement(
    backend: sea_orm::DbBackend,
    thread: Uuid,
    recipient: Uuid,
    before: Uuid,
) -> sea_orm::Statement {
    // The first and the latest only, in one statement: a long thread (or a load test's
    // thousands of copies) must not bring every earlier row back for each email, and the index
    // on (thread, recipient, id) finds each in a few steps.
    let earlier = |order: sea_orm::Order| {
        Query::select()
            .columns([delivery::Column::Id, delivery::Column::MessageId])
            .from(delivery::Entity)
            .and_where(delivery::Column::ThreadId.eq(thread))
            .and_where(delivery::Column::RecipientId.eq(recipient))
            .and_where(delivery::Column::Status.ne(DeliveryStatus::Dead))
            .and_where(delivery::Column::Id.lt(before))
            .order_by(delivery::Column::Id, order)
            .limit(1)
            .to_owned()
    };
    let both = Query::select()
        .column(Asterisk)
        .from_subquery(earlier(sea_orm::Order::Asc), "root")
        .union(
            UnionType::All,
            Query::select()
                .column(Asterisk)
                .from_subquery(earlier(sea_orm::Order::Desc), "latest")
                .to_owned(),
        )
        .to_owned();
    backend.build(&both)
}

/// Records successful sends, in one statement.
#[tracing::instrument(skip_all, fields(deliveries = ids.len()))]
pub async fn mark_sent_many(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(DeliveryStatus::Sent))
        .col_expr(delivery::Column::SentAt, Expr::value(Some(now)))
        .col_expr(
            delivery::Column::ClaimedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(delivery::Column::LastError, Expr::value(None::<String>))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failure: retried at `retry_at`, or dead when `retry_at` is `None`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: Uuid,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (status, next) = match retry_at {
        Some(at) => (DeliveryStatus::Pending, at),
        None => (DeliveryStatus::Dead, now),
    };
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            delivery::Column::ClaimedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            delivery::Column::LastError,
            Expr::value(Some(error.chars().take(1000).collect::<String>())),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Admin: puts a dead (or pending) delivery back in the queue, due now, with a fresh attempt
/// budget. A sent delivery is not sent again.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn retry(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<delivery::Model> {
    let current = delivery::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    if current.status == DeliveryStatus::Sent {
        return Err(AppError::conflict(
            None,
            "This email has already been sent.",
        ));
    }
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(DeliveryStatus::Pending),
        )
        .col_expr(delivery::Column::Attempts, Expr::value(0))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            delivery::Column::ClaimedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(id))
        .exec(db)
        .await?;
    delivery::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("delivery"))
}

/// Admin list, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<DeliveryStatus>,
    recipient: Option<&str>,
    page: &Page,
) -> AppResult<Vec<delivery::Model>> {
    let mut query = delivery::Entity::find();
    if let Some(status) = status {
        query = query.filter(delivery::Column::Status.eq(status));
    }
    if let Some(recipient) = recipient {
        query = query.filter(delivery::Column::RecipientEmail.eq(recipient.trim().to_lowercase()));
    }
    if let Some(after) = page.after {
        query = query.filter(delivery::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(delivery::Column::Id)
        .limit(page.fetch_limit())
        .all(db)
        .await?)
}

/// Users whose address is suspended after repeated hard bounces, most recent first.
pub async fn suspended(db: &impl ConnectionTrait) -> AppResult<Vec<entity::user::Model>> {
    use entity::user;
    Ok(user::Entity::find()
        .filter(user::Column::EmailSuspendedAt.is_not_null())
        .order_by_desc(user::Column::EmailSuspendedAt)
        .all(db)
        .await?)
}

/// Admin: emails a suspended address again. Returns whether it was suspended.
pub async fn resume(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<bool> {
    use entity::user;
    let resumed = user::Entity::update_many()
        .col_expr(
            user::Column::EmailSuspendedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::EmailSuspendedAt.is_not_null())
        .exec(db)
        .await?;
    Ok(resumed.rows_affected > 0)
}

pub use crate::metrics::OutboxStats;

/// Counts deliveries by status and finds the oldest pending one (two indexed aggregates).
pub async fn stats(db: &impl ConnectionTrait) -> AppResult<OutboxStats> {
    let by_status: Vec<(DeliveryStatus, i64)> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Status)
        .column_as(delivery::Column::Id.count(), "count")
        .group_by(delivery::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let oldest_pending: Option<Option<DateTime<Utc>>> = delivery::Entity::find()
        .select_only()
        .column_as(delivery::Column::CreatedAt.min(), "oldest")
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .into_tuple()
        .one(db)
        .await?;
    Ok(OutboxStats {
        by_status: by_status
            .into_iter()
            .map(|(status, count)| (status.to_value(), count))
            .collect(),
        oldest_pending: oldest_pending.flatten(),
    })
}
