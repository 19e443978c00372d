//! Scenario 5: many idle `graphql-transport-ws` subscriptions (memory per connection), then
//! single events fanned out to all of them (time from sending the mutation to each receipt), on
//! one instance or spread over several sharing one PostgreSQL database.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::load::Percentiles;
use crate::process::Server;

/// Events fanned out, one after the other.
const ROUNDS: usize = 5;
/// Connections being opened at once.
const OPENING: usize = 64;

#[derive(Debug, Serialize)]
pub struct FanOut {
    /// `service`, or `baseline`: a bare axum WebSocket relaying a broadcast channel.
    pub subject: &'static str,
    pub instances: usize,
    pub connections: usize,
    pub connect_seconds: f64,
    /// Resident memory of the server(s), summed, before connecting and with every client idle.
    pub rss_idle_mib: f64,
    pub rss_connected_mib: f64,
    pub kib_per_connection: f64,
    pub rounds: usize,
    /// Receipts over all rounds (connections × rounds: each exactly once).
    pub received: u64,
    /// From sending the mutation to each subscriber's receipt.
    pub receive: Percentiles,
    /// The mutation's own response time (commit included), median over the rounds.
    pub mutation_ms: f64,
    pub server_peak_rss_mib: f64,
}

/// Who writes the events and who listens.
pub struct Actors<'a> {
    pub tokens: &'a [String],
    pub writer_token: &'a str,
    pub writer_organization: uuid::Uuid,
}

pub async fn run(
    subject: &'static str,
    database_url: &str,
    instances: usize,
    connections: usize,
    actors: Actors<'_>,
) -> anyhow::Result<FanOut> {
    let (command, publish_path) = match subject {
        "baseline" => ("baseline", "/publish"),
        _ => ("serve", "/graphql"),
    };
    let mut servers = Vec::with_capacity(instances);
    for _ in 0..instances {
        // All the load comes from this one address: lift the per-address cap (200) that
        // protects a real server from one client's flood (the abuse section checks it).
        servers.push(
            Server::spawn_with_env(
                &[command, database_url],
                &[("WS_MAX_CONNECTIONS_PER_ADDRESS", "1000000")],
            )
            .await?,
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = |servers: &[Server]| servers.iter().map(Server::rss_mib).sum::<f64>();
    let rss_idle_mib = rss(&servers);

    let started = Instant::now();
    let targets: Vec<(String, String)> = (0..connections)
        .map(|i| {
            let base = &servers[i % instances].base;
            (
                format!("{}/graphql/ws", base.replacen("http", "ws", 1)),
                actors.tokens[i % actors.tokens.len()].clone(),
            )
        })
        .collect();
    let streams: Vec<_> = futures_util::stream::iter(targets)
        .map(|(url, token)| subscribe(url, token))
        .buffer_unordered(OPENING)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let connect_seconds = started.elapsed().as_secs_f64();

    let (receipts, mut received) = mpsc::unbounded_channel::<(usize, Instant)>();
    let readers: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(connection, mut stream)| {
            let receipts = receipts.clone();
            tokio::spawn(async move {
                while let Some(Ok(message)) = stream.next().await {
                    if let Message::Text(text) = message
                        && text.contains("\"next\"")
                    {
                        let _ = receipts.send((connection, Instant::now()));
                    }
                }
            })
        })
        .collect();
    drop(receipts);

    let client = reqwest::Client::new();
    let publish = |title: String| {
        let request = client
            .post(format!("{}{publish_path}", servers[0].base))
            .bearer_auth(actors.writer_token)
            .json(&json!({
                "query": "mutation($o: ID!, $t: String!) { createTip(organizationId: $o, input: { title: $t, body: \"Fan-out\" }) { id } }",
                "variables": { "o": actors.writer_organization, "t": title },
            }));
        async move {
            let response: serde_json::Value = request.send().await?.json().await?;
            anyhow::ensure!(
                response["data"]["createTip"]["id"].is_string(),
                "createTip failed: {response}"
            );
            Ok(())
        }
    };

    // The protocol does not acknowledge a subscription: warm-up events go out until every
    // connection has received one, so that every subscription is in place before measuring.
    let mut ready = vec![false; connections];
    let mut waiting = connections;
    for attempt in 0.. {
        anyhow::ensure!(
            attempt < 60,
            "{waiting} subscriptions never received an event"
        );
        publish(format!("Warm-up {attempt}")).await?;
        let until = tokio::time::Instant::now() + Duration::from_secs(1);
        while waiting > 0 {
            match tokio::time::timeout_at(until, received.recv()).await {
                Ok(Some((connection, _))) if !ready[connection] => {
                    ready[connection] = true;
                    waiting -= 1;
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        if waiting == 0 {
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    while received.try_recv().is_ok() {}
    let rss_connected_mib = rss(&servers);

    let mut samples = Vec::with_capacity(connections * ROUNDS);
    let mut mutation_times = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let sent = Instant::now();
        publish(format!("Fan-out {round}")).await?;
        mutation_times.push(sent.elapsed().as_secs_f64() * 1000.0);
        let mut got = vec![false; connections];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        for count in 0..connections {
            match tokio::time::timeout_at(deadline, received.recv()).await {
                Ok(Some((connection, at))) => {
                    anyhow::ensure!(
                        !std::mem::replace(&mut got[connection], true),
                        "round {round}: connection {connection} received the event twice"
                    );
                    samples.push(at.duration_since(sent).as_secs_f64() * 1000.0);
                }
                _ => anyhow::bail!(
                    "round {round}: {count} of {connections} subscribers received the event"
                ),
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Nothing arrives twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    anyhow::ensure!(
        received.try_recv().is_err(),
        "a subscriber received an event more than once"
    );
    let server_peak_rss_mib = servers.iter().map(Server::peak_rss_mib).sum();
    for reader in readers {
        reader.abort();
    }
    for server in servers {
        server.stop().await;
    }

    Ok(FanOut {
        subject,
        instances,
        connections,
        connect_seconds,
        rss_idle_mib,
        rss_connected_mib,
        kib_per_connection: (rss_connected_mib - rss_idle_mib) * 1024.0 / connections as f64,
        rounds: ROUNDS,
        received: samples.len() as u64,
        receive: Percentiles::of(samples),
        mutation_ms: Percentiles::of(mutation_times).p50_ms,
        server_peak_rss_mib,
    })
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a connection, authenticates and subscribes to every readable event.
async fn subscribe(url: String, token: String) -> anyhow::Result<Stream> {
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut stream, _) = tokio_tungstenite::connect_async(request).await?;
    let send = |value: serde_json::Value| Message::text(value.to_string());
    stream
        .send(send(
            json!({ "type": "connection_init", "payload": { "token": token } }),
        ))
        .await?;
    loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) if text.contains("connection_ack") => break,
            Some(Ok(Message::Text(text))) => anyhow::bail!("expected connection_ack: {text}"),
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
            None => anyhow::bail!("closed before connection_ack"),
        }
    }
    stream
        .send(send(json!({
            "id": "1",
            "type": "subscribe",
            "payload": { "query": "subscription { events { sequence kind subjectId } }" },
        })))
        .await?;
    Ok(stream)
}
