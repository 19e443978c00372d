//! Prometheus metrics, served as text at `/metrics`.
//!
//! Counters and histograms are updated where things happen (HTTP middleware, the GraphQL error
//! extension, the WebSocket handler, the delivery worker, the event listener). Outbox depth and
//! the age of the oldest pending delivery are read from the database at scrape time, so every
//! instance reports the shared queue as it is.

pub mod http;

use std::sync::atomic::AtomicU64;

use crate::error::AppResult;
use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route pattern (`/unsubscribe/{token}`), never the raw path, so scanners cannot
    /// create new series.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// `retry` (temporary, will be tried again) or `dead` (given up).
    pub outcome: &'static str,
}

/// Every metric this process exports.
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub graphql_errors: Family<CodeLabels, Counter>,
    pub websocket_connections: Gauge,
    pub delivery_attempts: Counter,
    pub delivery_failures: Family<FailureLabels, Counter>,
    pub listener_reconnects: Counter,
    /// Events resolved for `events` subscribers ([`crate::events::schema::SharedEvent`]).
    pub event_resolutions: Counter,
    outbox_depth: Family<StatusLabels, Gauge>,
    oldest_pending_age: Gauge<f64, AtomicU64>,
    database_up: Gauge,
    /// Incremented for every statement by [`crate::state::StatementCounter`].
    pub sql_statements: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("digimentor");
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            http_requests.clone(),
        );
        let http_duration =
            Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (WebSocket upgrades count until the upgrade)",
            http_duration.clone(),
        );
        let graphql_errors = Family::<CodeLabels, Counter>::default();
        registry.register(
            "graphql_errors",
            "GraphQL errors returned to clients, by extensions.code",
            graphql_errors.clone(),
        );
        let websocket_connections = Gauge::default();
        registry.register(
            "websocket_connections",
            "Open GraphQL WebSocket connections on this instance",
            websocket_connections.clone(),
        );
        let delivery_attempts = Counter::default();
        registry.register(
            "delivery_attempts",
            "Emails this instance tried to send",
            delivery_attempts.clone(),
        );
        let delivery_failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "delivery_failures",
            "Failed sends by this instance: retry (temporary) or dead (given up)",
            delivery_failures.clone(),
        );
        let listener_reconnects = Counter::default();
        registry.register(
            "event_listener_reconnects",
            "Times the event listener lost its PostgreSQL connection and connected again",
            listener_reconnects.clone(),
        );
        let event_resolutions = Counter::default();
        registry.register(
            "subscription_event_resolutions",
            "Events resolved for live subscribers: once per event and distinct selection, shared by the subscribers with it",
            event_resolutions.clone(),
        );
        let outbox_depth = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "outbox_deliveries",
            "Deliveries in the shared outbox, by status (read at scrape time)",
            outbox_depth.clone(),
        );
        let oldest_pending_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest pending delivery, 0 when none (read at scrape time)",
            oldest_pending_age.clone(),
        );
        let sql_statements = Counter::default();
        registry.register(
            "sql_statements",
            "SQL statements this instance has run",
            sql_statements.clone(),
        );
        let database_up = Gauge::default();
        registry.register(
            "database_up",
            "1 when the scrape could read the database, else 0",
            database_up.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            graphql_errors,
            websocket_connections,
            delivery_attempts,
            delivery_failures,
            listener_reconnects,
            event_resolutions,
            outbox_depth,
            oldest_pending_age,
            database_up,
            sql_statements,
        }
    }
}

/// 1 ms to about 16 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The shared queue at a glance, for metrics.
#[derive(Debug, Default)]
pub struct OutboxStats {
    /// `(status, count)` for every status that has rows.
    pub by_status: Vec<(String, i64)>,
    /// When the oldest delivery still waiting to be sent was queued.
    pub oldest_pending: Option<DateTime<Utc>>,
}

impl Metrics {
    /// Counts one GraphQL error by its code.
    pub fn graphql_error(&self, code: &str) {
        self.graphql_errors
            .get_or_create(&CodeLabels {
                code: code.to_owned(),
            })
            .inc();
    }

    /// Refreshes the database-backed gauges from the outbox's `stats` (an error means the
    /// database is down) and encodes everything in the text format.
    pub fn render(&self, stats: AppResult<OutboxStats>, now: DateTime<Utc>) -> String {
        match stats {
            Ok(stats) => {
                self.database_up.set(1);
                for status in ["pending", "sent", "dead"] {
                    let count = stats
                        .by_status
                        .iter()
                        .find(|(s, _)| s == status)
                        .map_or(0, |(_, n)| *n);
                    self.outbox_depth
                        .get_or_create(&StatusLabels {
                            status: status.to_owned(),
                        })
                        .set(count);
                }
                let age = stats.oldest_pending.map_or(0.0, |at| {
                    (now - at).num_milliseconds().max(0) as f64 / 1000.0
                });
                self.oldest_pending_age.set(age);
            }
            Err(err) => {
                err.log_if_internal();
                self.database_up.set(0);
            }
        }
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            // Writing to a String cannot fail; keep the scrape well-formed anyway.
            out.clear();
        }
        out
    }
}
