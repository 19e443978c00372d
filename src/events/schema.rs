//! GraphQL view of events and the `events` subscription.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Subscription};
use chrono::{DateTime, Utc};
use entity::event;
use futures_util::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::service::ids;
use super::visibility::can_read;
use crate::auth::viewer;
use crate::state::AppState;

/// Something that happened in the network.
pub struct Event(pub Arc<event::Model>);

#[Object]
impl Event {
    /// Unique id of the event.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Position in the event log; increases with every event.
    async fn sequence(&self) -> i64 {
        self.0.seq
    }
    /// Dotted kind, e.g. `organization.created`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// The user who caused it, if any.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|id| ID(id.to_string()))
    }
    /// The thing it is about (organization, user, topic, …).
    async fn subject_id(&self) -> ID {
        ID(self.0.subject_id.to_string())
    }
    /// Organizations it concerns.
    async fn organization_ids(&self) -> Vec<ID> {
        ids(&self.0.organization_ids)
            .into_iter()
            .map(|id| ID(id.to_string()))
            .collect()
    }
    /// Topics it concerns.
    async fn topic_ids(&self) -> Vec<ID> {
        ids(&self.0.topic_ids)
            .into_iter()
            .map(|id| ID(id.to_string()))
            .collect()
    }
    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Narrows the `events` subscription; empty lists mean "any".
#[derive(InputObject, Default, Debug)]
pub struct EventFilter {
    /// Only these kinds.
    #[graphql(default)]
    pub kinds: Vec<String>,
    /// Only events about one of these topics.
    #[graphql(default)]
    pub topics: Vec<ID>,
    /// Only events about one of these organizations.
    #[graphql(default)]
    pub organizations: Vec<ID>,
}

impl EventFilter {
    fn matches(&self, event: &event::Model) -> bool {
        let any_id = |wanted: &[ID], have: &serde_json::Value| {
            wanted.is_empty() || {
                let have = ids(have);
                wanted
                    .iter()
                    .any(|w| have.iter().any(|h| h.to_string() == w.as_str()))
            }
        };
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == &event.kind))
            && any_id(&self.topics, &event.topic_ids)
            && any_id(&self.organizations, &event.organization_ids)
    }
}

#[derive(Default)]
pub struct EventSubscription;

#[Subscription]
impl EventSubscription {
    /// Events committed from now on that the caller may read, in commit order.
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
    ) -> async_graphql::Result<impl Stream<Item = Event>> {
        let state = ctx.data::<AppState>()?;
        let filter = filter.unwrap_or_default();
        let viewer = viewer(ctx).cloned();
        let stream = BroadcastStream::new(state.events.subscribe()).filter_map(move |item| {
            let out = match item {
                Ok(event) if can_read(viewer.as_ref(), &event) && filter.matches(&event) => {
                    Some(Event(event))
                }
                Ok(_) => None,
                Err(BroadcastStreamRecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a subscriber fell behind and skipped events");
                    None
                }
            };
            async move { out }
        });
        Ok(stream)
    }
}
