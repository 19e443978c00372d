//! What one request costs the database: SQL statements (from the instance's `/metrics`) and,
//! on PostgreSQL, round trips (from a counting proxy in front of the database), for one client
//! alone and for many at once. The timed phases run without the proxy.

use futures_util::future::join_all;
use serde::Serialize;

use crate::load::Request;
use crate::proxy::CountingProxy;

/// The cost of one scenario's request at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct Cost {
    pub scenario: String,
    pub clients: usize,
    pub requests: u64,
    pub statements_per_request: f64,
    /// `None` on SQLite, which has no wire.
    pub round_trips_per_request: Option<f64>,
}

/// An instance whose statements and round trips are counted.
pub struct Counted<'a> {
    pub client: &'a reqwest::Client,
    pub base: &'a str,
    pub proxy: Option<&'a CountingProxy>,
}

impl Counted<'_> {
    async fn statements(&self) -> anyhow::Result<u64> {
        let text = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await?
            .text()
            .await?;
        text.lines()
            .find_map(|l| l.strip_prefix("digimentor_sql_statements_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|v| v as u64)
            .ok_or_else(|| anyhow::anyhow!("no digimentor_sql_statements_total"))
    }

    fn round_trips(&self) -> u64 {
        self.proxy.map_or(0, CountingProxy::round_trips)
    }

    /// Both counters now, as a scrape sees them.
    async fn now(&self) -> anyhow::Result<(u64, u64)> {
        let round_trips = self.round_trips();
        Ok((self.statements().await?, round_trips))
    }

    /// Runs `clients × per_client` requests (each client one after another, the clients at
    /// once), after the same number unmeasured to warm the pool and statement caches, and
    /// divides what the counters moved (less a scrape's own cost) by the requests.
    pub async fn cost(
        &self,
        scenario: &str,
        request: &Request,
        clients: usize,
        per_client: u64,
    ) -> anyhow::Result<Cost> {
        let run = || {
            join_all((0..clients).map(|c| {
                let request = request.clone();
                async move {
                    let mut ok = true;
                    for i in 0..per_client {
                        ok &= request(c as u64 * per_client + i).await;
                    }
                    ok
                }
            }))
        };
        anyhow::ensure!(
            run().await.into_iter().all(|ok| ok),
            "{scenario}: a request failed"
        );
        // What a scrape itself costs (the metrics endpoint reads the outbox's depth).
        let first = self.now().await?;
        let second = self.now().await?;
        let scrape = (second.0 - first.0, second.1.saturating_sub(first.1));
        let before = self.now().await?;
        let ok = run().await.into_iter().all(|ok| ok);
        anyhow::ensure!(ok, "{scenario}: a request failed");
        let after = self.now().await?;
        let requests = clients as u64 * per_client;
        let statements = (after.0 - before.0).saturating_sub(scrape.0);
        let round_trips = (after.1 - before.1).saturating_sub(scrape.1);
        Ok(Cost {
            scenario: scenario.to_owned(),
            clients,
            requests,
            statements_per_request: statements as f64 / requests as f64,
            round_trips_per_request: self.proxy.map(|_| round_trips as f64 / requests as f64),
        })
    }
}
