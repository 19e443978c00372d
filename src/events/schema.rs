//! GraphQL view of events and the `events` subscription.

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{
    Context, ContextSelectionSet, ID, InputObject, Object, OutputType, Positioned, ServerResult,
    Subscription, Value,
};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use uuid::Uuid;

use super::{PublishedEvent, SelectionKey};
use crate::auth::{Viewer, viewer};
use crate::error::AppResult;
use crate::graphql::parse_id;
use crate::state::AppState;

/// Something that happened in the network.
///
/// Every field is the event's own data, the same for every reader: what a subscriber sees of
/// an event depends only on its selection, never on who it is (who may see the event at all is
/// decided before, by its audience). [`SharedEvent`] relies on this.
pub struct Event(pub Arc<PublishedEvent>);

/// An event as the `events` subscription yields it: resolved once per distinct selection and
/// shared by every subscriber with that selection (the GraphQL type is `Event`). Resolving and
/// building the value for each of 10,000 subscribers cost more than the event itself.
pub struct SharedEvent {
    event: Arc<PublishedEvent>,
    /// What decides the resolved value besides the event (see [`selection_key`]).
    selection: SelectionKey,
}

impl OutputType for SharedEvent {
    fn type_name() -> Cow<'static, str> {
        <Event as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Event as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        if let Some(value) = self.event.resolved_as(&self.selection) {
            return Ok(value);
        }
        let value = OutputType::resolve(&Event(self.event.clone()), ctx, field).await?;
        if let Ok(state) = ctx.data::<AppState>() {
            state.metrics.event_resolutions.inc();
        }
        self.event.remember(&self.selection, &value);
        Ok(value)
    }
}

/// The SHA-256 of everything of a subscription's document that shapes the value of one event:
/// the field's selection (aliases, directives, inline fragments), the named fragments it can
/// spread and the variables its directives can read. Equal keys give equal values for the same
/// event. (A digest, not the text: a subscription holds it for its life. `item` and `query_env`
/// are async-graphql's parsed request; the test of shared events pins what they must hold.)
fn selection_key(ctx: &Context<'_>) -> SelectionKey {
    use sha2::{Digest, Sha256};
    let env = ctx.query_env;
    let mut fragments: Vec<_> = env.fragments.iter().collect();
    fragments.sort_by(|a, b| a.0.cmp(b.0));
    let shape = format!(
        "{:?}\u{1f}{:?}\u{1f}{:?}",
        ctx.item.node.selection_set.node, fragments, env.variables
    );
    Sha256::digest(shape.as_bytes()).into()
}

/// Something that happened: one entry of the event log.
#[Object]
impl Event {
    /// Unique id of the event.
    async fn id(&self) -> ID {
        ID(self.0.model.id.to_string())
    }
    /// Position in the event log; increases with every event.
    async fn sequence(&self) -> i64 {
        self.0.model.seq
    }
    /// Dotted kind, e.g. `organization.created`.
    async fn kind(&self) -> &str {
        &self.0.model.kind
    }
    /// The user who caused it, if any.
    async fn actor_id(&self) -> Option<ID> {
        self.0.model.actor_id.map(|id| ID(id.to_string()))
    }
    /// The thing it is about (organization, user, topic, …).
    async fn subject_id(&self) -> ID {
        ID(self.0.model.subject_id.to_string())
    }
    /// Organizations it concerns.
    async fn organization_ids(&self) -> Vec<ID> {
        self.0
            .organization_ids
            .iter()
            .map(|id| ID(id.to_string()))
            .collect()
    }
    /// Topics it concerns.
    async fn topic_ids(&self) -> Vec<ID> {
        self.0
            .topic_ids
            .iter()
            .map(|id| ID(id.to_string()))
            .collect()
    }
    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.model.created_at
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
    /// Checks the ids once, so that matching each event is cheap.
    fn compile(self) -> AppResult<CompiledFilter> {
        let parse_all = |field: &str, ids: &[ID]| -> AppResult<Vec<Uuid>> {
            ids.iter().map(|id| parse_id(field, id)).collect()
        };
        Ok(CompiledFilter {
            topics: parse_all("topics", &self.topics)?,
            organizations: parse_all("organizations", &self.organizations)?,
            kinds: self.kinds,
        })
    }
}

struct CompiledFilter {
    kinds: Vec<String>,
    topics: Vec<Uuid>,
    organizations: Vec<Uuid>,
}

impl CompiledFilter {
    fn matches(&self, event: &PublishedEvent) -> bool {
        let any = |wanted: &[Uuid], have: &[Uuid]| {
            wanted.is_empty() || wanted.iter().any(|w| have.contains(w))
        };
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == &event.model.kind))
            && any(&self.topics, &event.topic_ids)
            && any(&self.organizations, &event.organization_ids)
    }
}

/// Events that reach this instance from now on and that `viewer` may read, in commit order.
///
/// The stream is the bus's from the moment it joins: nothing published after that is missed.
/// (It once also skipped everything up to where the log ended when it joined, read after
/// joining, to leave out an event committed just before the subscription but relayed just
/// after; an event committed between the join and that read was then lost — a live page did not
/// update, and the PostgreSQL live tests failed now and then. Receiving one event committed a
/// moment before subscribing is harmless; losing one is not.)
pub async fn readable_events(
    state: &AppState,
    viewer: Option<Viewer>,
) -> AppResult<impl Stream<Item = Arc<PublishedEvent>> + use<>> {
    let receiver = state.events().subscribe();
    Ok(BroadcastStream::new(receiver).filter_map(move |item| {
        let out = match item {
            Ok(event) if event.readable_by(viewer.as_ref()) => Some(event),
            Ok(_) => None,
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                tracing::warn!(missed, "a subscriber fell behind and skipped events");
                None
            }
        };
        std::future::ready(out)
    }))
}

#[derive(Default)]
pub struct EventSubscription;

#[Subscription]
impl EventSubscription {
    /// Events committed from now on that the caller may read, in commit order (one committed
    /// a moment before subscribing may arrive too).
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which events; without it, every event you may read.")] filter: Option<
            EventFilter,
        >,
    ) -> async_graphql::Result<impl Stream<Item = SharedEvent>> {
        let state = ctx.data::<AppState>()?;
        let filter = filter.unwrap_or_default().compile()?;
        let selection = selection_key(ctx);
        Ok(readable_events(state, viewer(ctx).cloned())
            .await?
            .filter(move |event| std::future::ready(filter.matches(event)))
            .map(move |event| SharedEvent { event, selection }))
    }
}
