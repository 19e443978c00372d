//! `subscribeTopic`, `unsubscribeTopic`, `mySubscriptions`, `updateNotificationSettings`.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::topic_subscription;

use super::service::{self, Settings};
use crate::auth::require_viewer;
use crate::changes::Done;
use crate::directory::schema::{Locale, User};
use crate::error::AppError;
use crate::graphql::parse_id;
use crate::state::AppState;
use crate::topics::schema::Topic;
use crate::values::TimeZone;

/// How often a topic's news reach you.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::topic_subscription::Frequency")]
pub enum Frequency {
    /// One email per item, at once.
    Immediate,
    /// In the daily digest.
    Daily,
    /// In the weekly digest.
    Weekly,
}

/// A subscription to one topic.
pub struct TopicSubscription(topic_subscription::Model, entity::topic::Model);

/// Your subscription to a topic.
#[Object]
impl TopicSubscription {
    /// The topic you follow.
    async fn topic(&self) -> Topic {
        Topic(self.1.clone())
    }
    /// Immediately, or in a daily or weekly digest.
    async fn frequency(&self) -> Frequency {
        self.0.frequency.into()
    }
    /// Since when.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct SubscriptionQuery;

#[Object]
impl SubscriptionQuery {
    /// The caller's topic subscriptions.
    #[graphql(complexity = "crate::graphql::list_cost(child_complexity)")]
    async fn my_subscriptions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<TopicSubscription>> {
        let viewer = require_viewer(ctx)?;
        let state = ctx.data::<AppState>()?;
        Ok(service::list(&state.db, viewer.id())
            .await?
            .into_iter()
            .map(|(s, t)| TopicSubscription(s, t))
            .collect())
    }
}

/// When and how digests reach you; fields left out keep their value.
#[derive(InputObject, Default)]
pub struct NotificationSettingsInput {
    /// Your name as others see it (one line, at most 200 characters).
    pub display_name: Option<String>,
    /// Local hour of digests, 0–23 (default 7).
    pub digest_hour: Option<i32>,
    /// Weekday of weekly digests, 0 = Monday … 6 = Sunday (default Monday).
    pub digest_weekday: Option<i32>,
    /// IANA time zone (default `Europe/Helsinki`).
    pub time_zone: Option<String>,
    /// The language of your emails and pages.
    pub locale: Option<Locale>,
    /// How often to hear about topics (at most 200); a null frequency stops following the
    /// topic. Topics left out keep their setting.
    pub topics: Option<Vec<TopicFrequencyInput>>,
}

/// How often to hear about one topic.
#[derive(InputObject)]
pub struct TopicFrequencyInput {
    /// The topic.
    pub topic_id: ID,
    /// Immediately, daily or weekly; null to stop following it.
    pub frequency: Option<Frequency>,
}

/// Most topic settings one update may carry.
const MAX_TOPIC_SETTINGS: usize = 200;

#[derive(Default)]
pub struct SubscriptionMutation;

#[Object]
impl SubscriptionMutation {
    /// Follow a topic, or change how often you hear about it.
    async fn subscribe_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic to follow.")] topic_id: ID,
        #[graphql(desc = "Immediately, or in a daily or weekly digest.")] frequency: Frequency,
    ) -> async_graphql::Result<TopicSubscription> {
        let viewer = require_viewer(ctx)?;
        let topic = parse_id("topicId", &topic_id)?;
        let state = ctx.data::<AppState>()?;
        state
            .changes
            .run(async |txn| {
                service::subscribe(txn, viewer.id(), topic, frequency.into())
                    .await
                    .map(Done::quiet)
            })
            .await?;
        let (subscription, topic) = service::list(&state.db, viewer.id())
            .await?
            .into_iter()
            .find(|(s, _)| s.topic_id == topic)
            .ok_or(AppError::NotFound("subscription"))?;
        Ok(TopicSubscription(subscription, topic))
    }

    /// Stop following a topic. Returns whether there was a subscription.
    async fn unsubscribe_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic to stop following.")] topic_id: ID,
    ) -> async_graphql::Result<bool> {
        let viewer = require_viewer(ctx)?;
        let topic = parse_id("topicId", &topic_id)?;
        let state = ctx.data::<AppState>()?;
        Ok(state
            .changes
            .run(async |txn| {
                service::unsubscribe(txn, viewer.id(), topic)
                    .await
                    .map(Done::quiet)
            })
            .await?)
    }

    /// Digest hour and weekday, time zone, language and topic frequencies, all at once.
    async fn update_notification_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The settings to change; others stay.")] input: NotificationSettingsInput,
    ) -> async_graphql::Result<User> {
        let viewer = require_viewer(ctx)?;
        let time_zone = input
            .time_zone
            .as_deref()
            .map(|tz| TimeZone::parse(tz).map_err(AppError::invalid("timeZone")))
            .transpose()?;
        let display_name = input
            .display_name
            .as_deref()
            .map(|n| crate::values::NonEmptyText::line("displayName", n, 200))
            .transpose()?;
        let topics = input.topics.unwrap_or_default();
        if topics.len() > MAX_TOPIC_SETTINGS {
            return Err(AppError::bad_input(
                "topics",
                format!("at most {MAX_TOPIC_SETTINGS} topics at once"),
            )
            .into());
        }
        let topics = topics
            .iter()
            .map(|t| Ok((parse_id("topics", &t.topic_id)?, t.frequency)))
            .collect::<Result<Vec<_>, AppError>>()?;
        let settings = Settings {
            digest_hour: input.digest_hour,
            digest_weekday: input.digest_weekday,
            time_zone,
            locale: input.locale.map(Into::into),
        };
        let state = ctx.data::<AppState>()?;
        let user = state
            .changes
            .run(async |txn| {
                // A new name is a change others see: its event is logged.
                let mut events = Vec::new();
                if let Some(name) = display_name {
                    let (_, event) = crate::directory::service::update_profile(
                        txn,
                        viewer.id(),
                        Some(name),
                        None,
                        None,
                    )
                    .await?;
                    events.push(event);
                }
                let user = service::update_settings(txn, viewer.id(), settings).await?;
                for (topic, frequency) in &topics {
                    match frequency {
                        Some(f) => {
                            service::subscribe(txn, viewer.id(), *topic, (*f).into()).await?;
                        }
                        None => {
                            service::unsubscribe(txn, viewer.id(), *topic).await?;
                        }
                    }
                }
                Ok((user, events))
            })
            .await?;
        Ok(User(user))
    }
}
