//! Subscribing, unsubscribing and notification settings.

use chrono::Utc;
use entity::topic_subscription::{self, Frequency};
use entity::{topic, user};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::token::{Scope, Unsubscribe};
use crate::error::{AppError, AppResult};
use crate::values::TimeZone;

/// Subscribes (or changes the frequency of) one topic.
#[tracing::instrument(skip_all, fields(%user))]
pub async fn subscribe(
    db: &impl ConnectionTrait,
    user: Uuid,
    topic_id: Uuid,
    frequency: Frequency,
) -> AppResult<topic_subscription::Model> {
    topic::Entity::find_by_id(topic_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("topicId", "no such topic"))?;
    let now = Utc::now();
    topic_subscription::Entity::insert(topic_subscription::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        topic_id: Set(topic_id),
        frequency: Set(frequency),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            topic_subscription::Column::UserId,
            topic_subscription::Column::TopicId,
        ])
        .update_columns([
            topic_subscription::Column::Frequency,
            topic_subscription::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    topic_subscription::Entity::find()
        .filter(topic_subscription::Column::UserId.eq(user))
        .filter(topic_subscription::Column::TopicId.eq(topic_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("subscription"))
}

/// Ends a subscription; `false` if there was none.
#[tracing::instrument(skip_all, fields(%user))]
pub async fn unsubscribe(db: &impl ConnectionTrait, user: Uuid, topic_id: Uuid) -> AppResult<bool> {
    let deleted = topic_subscription::Entity::delete_many()
        .filter(topic_subscription::Column::UserId.eq(user))
        .filter(topic_subscription::Column::TopicId.eq(topic_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// Applies a verified one-click unsubscribe. Idempotent: doing it twice changes nothing more.
#[tracing::instrument(skip_all)]
pub async fn apply_unsubscribe(db: &impl ConnectionTrait, request: Unsubscribe) -> AppResult<u64> {
    let mut query = topic_subscription::Entity::delete_many()
        .filter(topic_subscription::Column::UserId.eq(request.user_id));
    query = match request.scope {
        Scope::Topic(topic) => query.filter(topic_subscription::Column::TopicId.eq(topic)),
        Scope::AllDigests => query.filter(
            topic_subscription::Column::Frequency.is_in([Frequency::Daily, Frequency::Weekly]),
        ),
    };
    Ok(query.exec(db).await?.rows_affected)
}

/// The user's subscriptions with their topics, by topic slug.
#[tracing::instrument(skip_all, fields(%user))]
pub async fn list(
    db: &impl ConnectionTrait,
    user: Uuid,
) -> AppResult<Vec<(topic_subscription::Model, topic::Model)>> {
    Ok(topic_subscription::Entity::find()
        .filter(topic_subscription::Column::UserId.eq(user))
        .find_also_related(topic::Entity)
        .order_by_asc(topic::Column::Slug)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(s, t)| t.map(|t| (s, t)))
        .collect())
}

/// Validated notification settings; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct Settings {
    pub digest_hour: Option<i32>,
    pub digest_weekday: Option<i32>,
    pub time_zone: Option<TimeZone>,
    pub locale: Option<entity::user::Locale>,
}

#[tracing::instrument(skip_all, fields(%user))]
pub async fn update_settings(
    db: &impl ConnectionTrait,
    user: Uuid,
    settings: Settings,
) -> AppResult<user::Model> {
    if settings.digest_hour.is_some_and(|h| !(0..=23).contains(&h)) {
        return Err(AppError::bad_input(
            "digestHour",
            "must be between 0 and 23",
        ));
    }
    if settings
        .digest_weekday
        .is_some_and(|d| !(0..=6).contains(&d))
    {
        return Err(AppError::bad_input(
            "digestWeekday",
            "must be between 0 (Monday) and 6 (Sunday)",
        ));
    }
    let mut model = user::ActiveModel {
        id: Set(user),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(hour) = settings.digest_hour {
        model.digest_hour = Set(hour);
    }
    if let Some(day) = settings.digest_weekday {
        model.digest_weekday = Set(day);
    }
    if let Some(tz) = settings.time_zone {
        model.time_zone = Set(tz.name().to_owned());
    }
    if let Some(locale) = settings.locale {
        model.locale = Set(locale);
    }
    Ok(model.update(db).await?)
}
