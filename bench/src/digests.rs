//! Scenario 7: one digest run for every subscriber, as the scheduler makes it, in a process of its
//! own so that its memory and CPU are its own.

use std::process::Stdio;
use std::time::Instant;

use chrono::{DateTime, Utc};
use entity::delivery;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::process;

/// What the digest run did and cost.
#[derive(Debug, Serialize, Deserialize)]
pub struct DigestRun {
    pub subscriptions: u64,
    /// Distinct people and frequencies among the subscriptions: the digests due.
    pub windows: u64,
    pub digests_queued: u64,
    pub empty_windows: u64,
    pub seconds: f64,
    pub digests_per_second: f64,
    pub cpu_seconds: f64,
    pub peak_rss_mib: f64,
    /// The baseline: the same digest emails written to the outbox alone (copies of the queued
    /// rows, 500 per transaction and 200 per statement), without planning or rendering.
    pub baseline_seconds: f64,
}

/// (The child process.) Runs the digests due at `at` and prints one JSON line.
pub async fn run_child(database_url: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
    let db = digimentor::db::connect(database_url, &Default::default()).await?;
    let ctx = digimentor::notify::MailContext {
        public_url: url::Url::parse("https://digimentor.example.edu")?,
        signer: digimentor::subscriptions::token::Signer::load(&db)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        organizer: "digimentor@digimentor.example.edu".to_owned(),
    };
    let subscriptions = entity::topic_subscription::Entity::find()
        .count(&db)
        .await?;
    // One digest per person and frequency, whatever number of topics it covers.
    let windows = entity::topic_subscription::Entity::find()
        .select_only()
        .column(entity::topic_subscription::Column::UserId)
        .column(entity::topic_subscription::Column::Frequency)
        .distinct()
        .into_tuple::<(uuid::Uuid, entity::topic_subscription::Frequency)>()
        .all(&db)
        .await?
        .len() as u64;
    let changes = digimentor::changes::Changes::new(db.clone(), ctx);
    let cpu_before = process::cpu_seconds_of("self");
    let started = Instant::now();
    let report = digimentor::scheduler::run_digests(&changes, at)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_mib = process::peak_rss_mib_of("self");
    let cpu_seconds = process::cpu_seconds_of("self") - cpu_before;
    let baseline_seconds = if report.queued > 0 {
        write_alone(&db).await?
    } else {
        0.0
    };
    let run = DigestRun {
        subscriptions,
        windows,
        digests_queued: report.queued,
        empty_windows: report.empty,
        seconds,
        digests_per_second: report.queued as f64 / seconds,
        cpu_seconds,
        peak_rss_mib,
        baseline_seconds,
    };
    println!("{}", serde_json::to_string(&run)?);
    Ok(())
}

/// Seconds to write copies of the queued digests in transactions of 500 and statements of 200;
/// the copies are removed again.
async fn write_alone(db: &sea_orm::DatabaseConnection) -> anyhow::Result<f64> {
    use sea_orm::{ActiveValue::Set, IntoActiveModel, TransactionTrait};
    let queued = delivery::Entity::find()
        .filter(delivery::Column::DedupeKey.starts_with("digest:"))
        .all(db)
        .await?;
    let started = Instant::now();
    for batch in queued.chunks(500) {
        let txn = db.begin().await?;
        for chunk in batch.chunks(200) {
            let copies = chunk.iter().map(|row| {
                let id = uuid::Uuid::now_v7();
                let mut copy = row.clone().into_active_model();
                copy.id = Set(id);
                copy.dedupe_key = Set(format!("baseline:{id}"));
                copy.message_id = Set(format!("<{id}@bench.test>"));
                copy
            });
            delivery::Entity::insert_many(copies)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    delivery::Entity::delete_many()
        .filter(delivery::Column::DedupeKey.starts_with("baseline:"))
        .exec(db)
        .await?;
    Ok(seconds)
}

/// Runs the child twice. The first run must settle one window per person and frequency (each
/// user has daily and weekly subscriptions, both due at `at`), queueing a digest for each that
/// holds something;
/// the second must find nothing due.
pub async fn run(database_url: &str, at: DateTime<Utc>) -> anyhow::Result<DigestRun> {
    let first = spawn(database_url, at).await?;
    let db = digimentor::db::connect(database_url, &Default::default()).await?;
    let in_outbox = delivery::Entity::find()
        .filter(delivery::Column::DedupeKey.starts_with("digest:"))
        .count(&db)
        .await?;
    db.close().await?;
    anyhow::ensure!(
        first.digests_queued > 0
            && first.digests_queued + first.empty_windows == first.windows
            && in_outbox == first.digests_queued,
        "{} subscriptions in {} windows: {} digests reported, {} empty windows, {in_outbox} digests in the outbox",
        first.subscriptions,
        first.windows,
        first.digests_queued,
        first.empty_windows,
    );
    let second = spawn(database_url, at).await?;
    anyhow::ensure!(
        second.digests_queued == 0,
        "a second run queued {} digests again",
        second.digests_queued
    );
    Ok(first)
}

async fn spawn(database_url: &str, at: DateTime<Utc>) -> anyhow::Result<DigestRun> {
    let output = tokio::process::Command::new(std::env::current_exe()?)
        .args(["digests", database_url, "--at", &at.to_rfc3339()])
        .stderr(Stdio::inherit())
        .output()
        .await?;
    anyhow::ensure!(output.status.success(), "the digest run failed");
    let stdout = String::from_utf8(output.stdout)?;
    let line = stdout
        .lines()
        .last()
        .ok_or_else(|| anyhow::anyhow!("the digest run printed nothing"))?;
    Ok(serde_json::from_str(line)?)
}
