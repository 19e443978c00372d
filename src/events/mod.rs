//! The append-only event log and its live fan-out to GraphQL subscribers.
//!
//! Every change appends an [`event`](entity::event) in its own transaction
//! ([`service::append_event`]) together with its [`audience`], and commits through
//! [`ordering::commit`] so that the log's order is commit order. Committed events reach the
//! in-process [`EventBus`], from which subscriptions take what each subscriber may read: on
//! SQLite straight after the commit, on PostgreSQL through the [`relay`], which listens for
//! every instance's commits and reads them from the log.

pub mod audience;
pub mod kinds;
pub mod ordering;
pub mod relay;
pub mod schema;
pub mod service;

use std::sync::{Arc, Mutex, PoisonError};

use entity::event;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::values::viewer::Viewer;
use audience::Reader;

/// How many events a slow subscriber may fall behind before it is told it lagged.
const BUS_CAPACITY: usize = 4096;

/// A committed event with its audience and ids decoded once for all subscribers.
#[derive(Debug)]
pub struct PublishedEvent {
    pub model: event::Model,
    pub audience: Vec<Reader>,
    pub organization_ids: Vec<Uuid>,
    pub topic_ids: Vec<Uuid>,
    /// The event as subscriptions selected it, once per distinct selection
    /// ([`schema::SharedEvent`]).
    resolved: Mutex<Vec<(SelectionKey, async_graphql::Value)>>,
}

/// Identifies what a subscription selects of an event ([`schema::SharedEvent`]).
pub type SelectionKey = [u8; 32];

/// Distinct selections of one event kept resolved; beyond these, a selection is resolved for
/// each subscriber (a bound on what many differently shaped subscriptions can make an event
/// hold).
const RESOLVED_SELECTIONS: usize = 8;

impl PublishedEvent {
    pub fn new(model: event::Model) -> Self {
        Self {
            audience: serde_json::from_value(model.audience.clone()).unwrap_or_default(),
            organization_ids: service::ids(&model.organization_ids),
            topic_ids: service::ids(&model.topic_ids),
            model,
            resolved: Mutex::default(),
        }
    }

    /// This event as `selection` resolved it before, if it did.
    fn resolved_as(&self, selection: &SelectionKey) -> Option<async_graphql::Value> {
        let resolved = self.resolved.lock().unwrap_or_else(PoisonError::into_inner);
        resolved
            .iter()
            .find(|(s, _)| s == selection)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value` as what `selection` resolves this event to.
    fn remember(&self, selection: &SelectionKey, value: &async_graphql::Value) {
        let mut resolved = self.resolved.lock().unwrap_or_else(PoisonError::into_inner);
        if resolved.len() < RESOLVED_SELECTIONS && !resolved.iter().any(|(s, _)| s == selection) {
            resolved.push((*selection, value.clone()));
        }
    }

    /// Whether `viewer` (or a visitor) may read this event.
    pub fn readable_by(&self, viewer: Option<&Viewer>) -> bool {
        audience::admits(&self.audience, viewer)
    }
}

/// In-process broadcast of committed events.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<PublishedEvent>>,
}

impl Default for EventBus {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(BUS_CAPACITY);
        Self { sender }
    }
}

impl EventBus {
    /// Announces a committed event. Having no subscriber is not an error.
    pub fn publish(&self, event: event::Model) {
        let _ = self.sender.send(Arc::new(PublishedEvent::new(event)));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<PublishedEvent>> {
        self.sender.subscribe()
    }

    /// How many receivers listen now: every live subscription holds one (tests wait on it to
    /// know a subscription has started).
    pub fn receivers(&self) -> usize {
        self.sender.receiver_count()
    }
}
