//! Shared application state handed to every request.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::auth::oidc::Oidc;
use crate::auth::throttle::LoginThrottle;
use crate::changes::Changes;
use crate::config::Config;
use crate::events::EventBus;
use crate::metrics::Metrics;
use crate::notify::MailContext;
use crate::subscriptions::token::Signer;

/// What requests need: [`Changes`] for writing, the connection for reading, the settings, the
/// login throttle and the counters.
#[derive(Clone)]
pub struct AppState {
    /// For reads; every write goes through [`AppState::changes`].
    pub db: DatabaseConnection,
    pub changes: Changes,
    pub config: Arc<Config>,
    /// Failed-login limits; the counts are shared through the database.
    pub login_throttle: LoginThrottle,
    /// Counts SQL statements; read by tests that guard against N+1 queries, and by metrics.
    pub statements: StatementCounter,
    /// Names this process among the instances sharing the database (logs, `pg_stat_activity`).
    pub instance: Arc<str>,
    pub metrics: Arc<Metrics>,
    /// The identity provider of single sign-on, when configured.
    pub oidc: Option<Arc<Oidc>>,
}

/// A shared count of executed SQL statements: the `digimentor_sql_statements_total` counter
/// itself, so tests and `/metrics` read the same number.
#[derive(Clone, Default, Debug)]
pub struct StatementCounter(Counter);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.get()
    }

    /// Installs the counter on a connection (before it is cloned into the state).
    pub fn install(&self, db: &mut DatabaseConnection) {
        let count = self.0.clone();
        db.set_metric_callback(move |_| {
            count.inc();
        });
    }
}

impl AppState {
    pub fn new(mut db: DatabaseConnection, config: Config, signer: Signer) -> Self {
        let metrics = Arc::new(Metrics::default());
        let statements = StatementCounter(metrics.sql_statements.clone());
        statements.install(&mut db);
        let mail = MailContext {
            public_url: config.public_url.clone(),
            signer,
            organizer: config.mail_from.email.to_string(),
        };
        let instance = Uuid::new_v4().simple().to_string()[..12].into();
        let oidc = config
            .sign_in
            .oidc
            .clone()
            .map(|settings| Arc::new(Oidc::new(settings)));
        Self {
            oidc,
            changes: Changes::new(db.clone(), mail),
            instance,
            metrics,
            db,
            statements,
            config: Arc::new(config),
            login_throttle: LoginThrottle::default(),
        }
    }

    /// Committed events, for live subscribers.
    pub fn events(&self) -> &EventBus {
        self.changes.bus()
    }

    /// Links and unsubscribe signing for planned emails.
    pub fn mail(&self) -> &MailContext {
        self.changes.mail()
    }
}
