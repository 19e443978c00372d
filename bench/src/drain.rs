//! Scenario 6: the outbox drained by the service's worker into a local SMTP sink, and the claim
//! rate of the queue itself with a sender that does nothing.

use std::time::{Duration, Instant};

use entity::delivery::{self, DeliveryStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use crate::process::Server;
use crate::smtp_sink::SmtpSink;

#[derive(Debug, Serialize)]
pub struct Drain {
    pub deliveries: u64,
    pub seconds: f64,
    pub emails_per_second: f64,
    pub server_cpu_cores: f64,
    pub server_peak_rss_mib: f64,
    /// Claims per second of one worker loop with a no-op sender (claim a batch, mark each sent).
    pub claims_per_second: f64,
    /// The baseline: lettre alone sending the same email to the same sink over as many
    /// connections as the worker uses, with no queue and no database.
    pub baseline_emails: u64,
    pub baseline_emails_per_second: f64,
}

pub async fn run(url: &str, target: usize) -> anyhow::Result<Drain> {
    let db = digimentor::db::connect(url, &Default::default()).await?;
    // Scenario 4 queued real emails (questions to mentors); copies of one fill the outbox up.
    let template = delivery::Entity::find()
        .one(&db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no delivery to copy: scenario 4 queues them"))?;
    let pending = delivery::Entity::find().count(&db).await? as usize;
    if pending > target {
        // Scenario 4 queued more than asked for: drain exactly `target`.
        let keep: Vec<Uuid> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .limit(target as u64)
            .into_tuple()
            .all(&db)
            .await?;
        delivery::Entity::delete_many()
            .filter(delivery::Column::Id.is_not_in(keep))
            .exec(&db)
            .await?;
    }
    let copies: Vec<delivery::ActiveModel> = (pending..target)
        .map(|i| {
            let id = Uuid::now_v7();
            let mut row = template.clone().into_active_model();
            row.id = Set(id);
            row.dedupe_key = Set(format!("bench:{i}"));
            row.message_id = Set(format!("<{id}@bench.test>"));
            row
        })
        .collect();
    for chunk in copies.chunks(500) {
        delivery::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&db)
            .await?;
    }
    let total = delivery::Entity::find().count(&db).await?;

    let sink = SmtpSink::start().await?;
    let server = Server::spawn(&["serve", url, "--smtp", &sink.url]).await?;
    let cpu_before = server.cpu_seconds();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(3600);
    while sink.received() < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let server_cpu_cores = (server.cpu_seconds() - cpu_before) / seconds;
    let server_peak_rss_mib = server.peak_rss_mib();
    // The last sends' outcomes are being recorded as the sink counts them.
    let sent_rows = || {
        delivery::Entity::find()
            .filter(delivery::Column::Status.eq(DeliveryStatus::Sent))
            .count(&db)
    };
    let mut sent = sent_rows().await?;
    let settle = Instant::now() + Duration::from_secs(10);
    while sent < sink.received() && Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(50)).await;
        sent = sent_rows().await?;
    }
    server.stop().await;
    // The server's scheduler may queue more (a digest boundary passed during the run): every
    // email marked sent arrived once, and at least the queued ones were sent.
    anyhow::ensure!(
        sink.received() >= total,
        "the sink received {} of {total} emails",
        sink.received()
    );
    anyhow::ensure!(
        sent == sink.received(),
        "{sent} deliveries are marked sent but the sink received {}",
        sink.received()
    );

    let baseline_emails = total.min(5_000);
    let baseline_emails_per_second =
        bare_sending_rate(&sink, &template, baseline_emails as usize).await?;

    // The queue alone: everything pending again, claimed and marked by one loop.
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(DeliveryStatus::Pending),
        )
        .col_expr(
            delivery::Column::ClaimedUntil,
            Expr::value(None::<chrono::DateTime<chrono::Utc>>),
        )
        .exec(&db)
        .await?;
    let started = Instant::now();
    let mut claimed = 0u64;
    loop {
        let now = chrono::Utc::now();
        let batch = digimentor::notify::outbox::claim(&db, 100, Duration::from_secs(300), now)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        if batch.is_empty() {
            break;
        }
        // A no-op sender finishes the whole batch at once: the worker records it in one
        // statement.
        let ids: Vec<Uuid> = batch.iter().map(|row| row.id).collect();
        digimentor::notify::outbox::mark_sent_many(&db, &ids, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        claimed += ids.len() as u64;
    }
    let claims_per_second = claimed as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(claimed == sent, "claimed {claimed} of {sent}");
    db.close().await?;
    Ok(Drain {
        deliveries: total,
        seconds,
        emails_per_second: total as f64 / seconds,
        server_cpu_cores,
        server_peak_rss_mib,
        claims_per_second,
        baseline_emails,
        baseline_emails_per_second,
    })
}

/// Emails per second a bare SMTP client sends to `sink`: `delivery` rendered once as the
/// worker renders it (and formatted for each send), sent `messages` times over the worker's number of connections at once,
/// each a lettre SMTP conversation over a socket with `TCP_NODELAY`, with no queue and no
/// database.
async fn bare_sending_rate(
    sink: &SmtpSink,
    delivery: &delivery::Model,
    messages: usize,
) -> anyhow::Result<f64> {
    use lettre::transport::smtp::client::AsyncSmtpConnection;
    use lettre::transport::smtp::extension::ClientId;

    let connections = digimentor::notify::worker::WorkerSettings::default().concurrency;
    let renderer = digimentor::notify::render::Renderer::new(
        url::Url::parse("https://digimentor.example.edu")?,
        "Digimentor <digimentor@example.edu>".parse()?,
    )?;
    let message = renderer
        .message(delivery, &Default::default())
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let envelope = message.envelope().clone();
    let address = sink.address;
    let before = sink.received();
    let started = Instant::now();
    let senders: Vec<_> = (0..connections)
        .map(|c| {
            let (envelope, message) = (envelope.clone(), message.clone());
            let count = messages / connections + usize::from(c < messages % connections);
            tokio::spawn(async move {
                let tcp = tokio::net::TcpStream::connect(address).await?;
                tcp.set_nodelay(true)?;
                let mut connection = AsyncSmtpConnection::connect_with_transport(
                    Box::new(tcp),
                    &ClientId::default(),
                )
                .await?;
                for _ in 0..count {
                    // Formatted for each send, as lettre's transport and the worker do.
                    connection.send(&envelope, &message.formatted()).await?;
                }
                connection.quit().await?;
                anyhow::Ok(())
            })
        })
        .collect();
    for sender in senders {
        sender.await??;
    }
    let rate = messages as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(
        sink.received() - before == messages as u64,
        "the sink received {} of {messages} baseline emails",
        sink.received() - before
    );
    Ok(rate)
}
