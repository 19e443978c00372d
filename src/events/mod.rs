//! The append-only event log and its live fan-out to GraphQL subscribers.
//!
//! Every change appends an [`event`](entity::event) in its own transaction
//! ([`service::append_event`]); after commit the event is published on the in-process
//! [`EventBus`], from which subscriptions filter what each subscriber may read
//! ([`visibility::can_read`]).

pub mod kinds;
pub mod schema;
pub mod service;
pub mod visibility;

use std::sync::Arc;

use entity::event;
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it is told it lagged.
const BUS_CAPACITY: usize = 4096;

/// In-process broadcast of committed events.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<event::Model>>,
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
        let _ = self.sender.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<event::Model>> {
        self.sender.subscribe()
    }
}
