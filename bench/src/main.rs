//! `digimentor-bench`: seeds a dataset, starts the service and a bare baseline server as separate
//! processes, drives load at them from this process and prints a Markdown table and JSON.
//!
//! ```sh
//! cargo run --release -p digimentor-bench                      # SQLite
//! cargo run --release -p digimentor-bench -- --database postgres://postgres@127.0.0.1/postgres
//! cargo run --release -p digimentor-bench -- --quick           # small, for a smoke run
//! ```
#![allow(clippy::expect_used)] // a benchmark tool: failing loudly is the right behaviour

mod abuse;
mod baseline;
mod cost;
mod digests;
mod drain;
mod load;
mod process;
mod proxy;
mod report;
mod scenarios;
mod seed;
mod smtp_sink;
mod websockets;

use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "digimentor-bench",
    about = "Load benchmarks with same-run baselines"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `sqlite` (a temporary file) or a PostgreSQL server URL (a fresh database is created and
    /// dropped).
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Seconds per measurement phase.
    #[arg(long, default_value = "5")]
    seconds: u64,
    /// Concurrent clients at saturation.
    #[arg(long, default_value = "32")]
    concurrency: usize,
    /// A small dataset and short phases (a smoke run, not figures to publish).
    #[arg(long)]
    quick: bool,
    /// Emails to drain in scenario 6 (default: 50,000; 300 with --quick).
    #[arg(long)]
    deliveries: Option<usize>,
    /// Where to write the JSON results.
    #[arg(long, default_value = "bench-results.json")]
    json: String,
}

#[derive(Subcommand)]
enum Command {
    /// (internal) The service under test.
    Serve {
        database_url: String,
        /// Run the delivery worker, sending to this SMTP URL.
        #[arg(long)]
        smtp: Option<String>,
    },
    /// (internal) The bare baseline server.
    Baseline { database_url: String },
    /// Seeds a database (migrated here) with the benchmark's data and prints when its digests
    /// fall due, to rerun one scenario by hand (for example `digests` below).
    Seed {
        database_url: String,
        /// The small dataset.
        #[arg(long)]
        quick: bool,
    },
    /// (internal) One digest run, as the scheduler makes it at `at` (RFC 3339).
    Digests {
        database_url: String,
        #[arg(long)]
        at: chrono::DateTime<chrono::Utc>,
    },
}

/// The service's allocator, as in `digimentor`'s own `main`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve { database_url, smtp }) => {
            scenarios::serve_service(&database_url, smtp.as_deref()).await
        }
        Some(Command::Baseline { database_url }) => baseline::serve(&database_url).await,
        Some(Command::Seed {
            database_url,
            quick,
        }) => {
            let scale = if quick {
                seed::Scale::quick()
            } else {
                seed::Scale::full()
            };
            let db = digimentor::db::connect(&database_url, &Default::default()).await?;
            digimentor::db::migrate(&db).await?;
            let dataset = seed::seed(&db, scale).await?;
            println!("digests due at {}", dataset.digests_due().to_rfc3339());
            Ok(())
        }
        Some(Command::Digests { database_url, at }) => digests::run_child(&database_url, at).await,
        None => {
            let (mut scale, seconds) = if cli.quick {
                (seed::Scale::quick(), 1)
            } else {
                (seed::Scale::full(), cli.seconds)
            };
            if let Some(deliveries) = cli.deliveries {
                scale.deliveries = deliveries;
            }
            let results = scenarios::run_all(
                &cli.database,
                scale,
                Duration::from_secs(seconds),
                cli.concurrency,
            )
            .await?;
            println!("{}", report::markdown(&results));
            let json = serde_json::to_string_pretty(&results)?;
            std::fs::write(&cli.json, &json)?;
            println!("JSON written to {}", cli.json);
            let failed = results.failed_requests();
            anyhow::ensure!(failed == 0, "{failed} requests failed");
            Ok(())
        }
    }
}
