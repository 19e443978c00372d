//! Shared application state handed to every request.

use std::sync::Arc;

use entity::event;
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};

use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::error::AppResult;
use crate::events::EventBus;

/// Everything a request needs: the database, configuration and in-process channels.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub events: EventBus,
    pub login_throttle: Arc<LoginThrottle>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, config: Config) -> Self {
        Self {
            db,
            config: Arc::new(config),
            events: EventBus::default(),
            login_throttle: Arc::new(LoginThrottle::default()),
        }
    }

    /// Starts the transaction that a mutation's writes, event and deliveries share.
    pub async fn begin(&self) -> AppResult<DatabaseTransaction> {
        Ok(self.db.begin().await?)
    }

    /// Commits and only then announces the events to live subscribers, so that nobody ever
    /// sees an event whose change was rolled back.
    pub async fn commit(
        &self,
        txn: DatabaseTransaction,
        events: impl IntoIterator<Item = event::Model>,
    ) -> AppResult<()> {
        txn.commit().await?;
        for event in events {
            self.events.publish(event);
        }
        Ok(())
    }
}
