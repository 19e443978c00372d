//! Abusive requests against a fresh service process: each must be refused with its code, and
//! repeating them must not grow the server's memory.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::process::Server;

/// Clients sending abuse at once.
const CONCURRENCY: usize = 8;
/// How much the server's memory may grow over a second, identical pass of abuse. The first pass
/// sizes the allocator's arenas (a debug build still grows by up to 4 MiB on the second); keeping
/// what refused requests carried (150 KB documents, 256 KiB of each 10 MB body) would grow it by
/// 25 MiB or more at the default 100 repeats. A guard against unbounded growth, not a leak
/// detector.
const MAX_SECOND_PASS_GROWTH_MIB: f64 = 16.0;

/// How long the server is left idle before its memory is read after a pass: longer than tokio's
/// 10 s keep-alive of idle blocking threads. Password hashing (60 logins at once) runs on those
/// threads with 19 MiB each; read while some of them still lingered, the second pass measured
/// 21–28 MiB more than the first on this machine in five runs of five different commits (and
/// passed in others), one hash buffer more or less, not growth.
const SETTLE: Duration = Duration::from_secs(11);

#[derive(Debug, Serialize)]
pub struct AbuseCase {
    pub case: &'static str,
    pub requests: usize,
    /// Median and slowest time to the refusal.
    pub p50_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct Abuse {
    pub cases: Vec<AbuseCase>,
    /// The server's resident memory after warming up with ordinary requests, after the first
    /// pass of every case, and after a second, identical pass.
    pub rss_warm_mib: f64,
    pub rss_first_pass_mib: f64,
    pub rss_second_pass_mib: f64,
}

/// One abusive request and the refusal it must get.
struct Case {
    name: &'static str,
    body: String,
    /// Statuses that count as the refusal (GraphQL errors come as 200 or 400).
    status: &'static [u16],
    /// Codes that count as the refusal (any of them).
    code: Option<&'static [&'static str]>,
    content_type: &'static str,
    /// Requests in flight at once.
    concurrency: usize,
    /// Sent over a raw connection that reads the answer while still writing (the server refuses
    /// an oversized body from its length and closes: an HTTP client library reports the broken
    /// pipe of its unfinished write instead of the answer).
    raw: bool,
}

fn cases() -> Vec<Case> {
    let nested = |depth: usize| {
        format!(
            "{{ me {}{} }}",
            "{ memberships ".repeat(depth),
            "}".repeat(depth)
        )
    };
    let aliases: String = (0..10_000).map(|i| format!("a{i}: __typename ")).collect();
    let bomb: String = (1..=25)
        .map(|i| format!("fragment B{i} on Query {{ ...B{p} ...B{p} }} ", p = i - 1))
        .collect::<String>()
        + "fragment B0 on Query { topics { slug } }";
    let query = |q: String| json!({ "query": q }).to_string();
    let refused = |name, body| Case {
        name,
        body,
        status: &[200, 400],
        code: Some(&["BAD_USER_INPUT"]),
        content_type: "application/json",
        concurrency: CONCURRENCY,
        raw: false,
    };
    let meetings: String = (0..300)
        .map(|i| format!("m{i}: meetings(when: UPCOMING, first: 100) {{ report {{ id }} }} "))
        .collect();
    let mut deep_variable = json!("x");
    for _ in 0..100 {
        deep_variable = json!({ "a": deep_variable });
    }
    vec![
        refused("depth 200", query(nested(200))),
        refused("10,000 aliases", query(format!("{{ {aliases} }}"))),
        refused(
            "3,000 directives",
            query(format!(
                "{{ __typename {} }}",
                "@skip(if: false) ".repeat(3_000)
            )),
        ),
        refused(
            "a fragment bomb (2^25 fields)",
            query(format!("{{ ...B25 }} {bomb}")),
        ),
        refused(
            "a fragment cycle",
            query("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }".into()),
        ),
        refused(
            "`first: 1000000`",
            query("{ tips(first: 1000000) { edges { node { id } } } }".into()),
        ),
        refused(
            "input values nested 2,000 deep",
            query(format!(
                "{{ tips(search: {}\"x\"{}) {{ edges {{ node {{ id }} }} }} }}",
                "[".repeat(2000),
                "]".repeat(2000)
            )),
        ),
        refused(
            "a variable nested 100 deep",
            json!({ "query": "query($v: String) { tips(search: $v) { edges { node { id } } } }", "variables": { "v": deep_variable } }).to_string(),
        ),
        refused(
            "300 aliases × 100 meetings with reports",
            query(format!("{{ {meetings} }}")),
        ),
        refused(
            "two logins in one request",
            query("mutation { a: login(email: \"x@y.fi\", password: \"p\") { token } b: login(email: \"x@y.fi\", password: \"p\") { token } }".into()),
        ),
        Case {
            name: "60 logins at once to unknown emails",
            body: query(
                "mutation { login(email: \"nobody@bench.test\", password: \"wrong-password-1\") { token } }"
                    .into(),
            ),
            status: &[200],
            code: Some(&["UNAUTHENTICATED", "RATE_LIMITED"]),
            content_type: "application/json",
            concurrency: 60,
            raw: false,
        },
        Case {
            name: "a text/plain body (no CORS preflight)",
            body: query("{ __typename }".into()),
            status: &[415],
            code: Some(&["UNSUPPORTED_MEDIA_TYPE"]),
            content_type: "text/plain",
            concurrency: CONCURRENCY,
            raw: false,
        },
        Case {
            name: "a batch of 1,000 operations",
            body: serde_json::to_string(&vec![json!({ "query": "{ __typename }" }); 1_000])
                .unwrap_or_default(),
            status: &[400],
            code: Some(&["BAD_USER_INPUT"]),
            content_type: "application/json",
            concurrency: CONCURRENCY,
            raw: false,
        },
        Case {
            name: "a 10 MB body",
            body: format!(
                "{{\"query\":\"{{ __typename }}\",\"padding\":\"{}\"}}",
                "x".repeat(10 * 1024 * 1024)
            ),
            status: &[413],
            code: None,
            content_type: "application/json",
            concurrency: CONCURRENCY,
            raw: true,
        },
    ]
}

pub async fn run(database_url: &str, repeats: usize) -> anyhow::Result<Abuse> {
    let server = Server::spawn(&["serve", database_url]).await?;
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    // Warm up: pools, caches and allocator arenas as ordinary traffic leaves them.
    for _ in 0..200 {
        client
            .post(&url)
            .json(&json!({ "query": "{ tips(first: 20) { edges { node { id title } } } }" }))
            .send()
            .await?
            .bytes()
            .await?;
    }
    let rss_warm_mib = server.rss_mib();
    let cases = cases();
    let mut results = Vec::new();
    for case in &cases {
        results.push(pass(&client, &url, case, repeats).await?);
    }
    results.push(socket_flood(&server.base).await?);
    results.push(subscription_flood(&server.base).await?);
    tokio::time::sleep(SETTLE).await;
    let rss_first_pass_mib = server.rss_mib();
    for case in &cases {
        pass(&client, &url, case, repeats).await?;
    }
    socket_flood(&server.base).await?;
    subscription_flood(&server.base).await?;
    tokio::time::sleep(SETTLE).await;
    let rss_second_pass_mib = server.rss_mib();
    anyhow::ensure!(
        rss_second_pass_mib - rss_first_pass_mib <= MAX_SECOND_PASS_GROWTH_MIB,
        "the server grew from {rss_first_pass_mib:.0} to {rss_second_pass_mib:.0} MiB on a second pass of abuse"
    );
    // Still serving.
    let ok = client
        .post(&url)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await?;
    anyhow::ensure!(ok.status() == 200, "the server no longer answers");
    server.stop().await;
    Ok(Abuse {
        cases: results,
        rss_warm_mib,
        rss_first_pass_mib,
        rss_second_pass_mib,
    })
}

/// Sends `case` `repeats` times, `CONCURRENCY` at once, and checks every refusal.
async fn pass(
    client: &reqwest::Client,
    url: &str,
    case: &Case,
    repeats: usize,
) -> anyhow::Result<AbuseCase> {
    let times: Vec<f64> = futures_util::stream::iter(0..repeats)
        .map(|_| refusal(client, url, case))
        .buffer_unordered(case.concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let times = crate::load::Percentiles::of(times);
    Ok(AbuseCase {
        case: case.name,
        requests: repeats,
        p50_ms: times.p50_ms,
        max_ms: times.max_ms,
    })
}

async fn refusal(client: &reqwest::Client, url: &str, case: &Case) -> anyhow::Result<f64> {
    let started = Instant::now();
    if case.raw {
        let status = raw_status(url, &case.body)
            .await
            .with_context(|| case.name)?;
        anyhow::ensure!(
            case.status.contains(&status),
            "{}: status {status}, expected {:?}",
            case.name,
            case.status
        );
        return Ok(started.elapsed().as_secs_f64() * 1000.0);
    }
    let response = client
        .post(url)
        .header("content-type", case.content_type)
        .body(case.body.clone())
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .with_context(|| case.name)?;
    let status = response.status().as_u16();
    let body = response.bytes().await?;
    let took = started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        case.status.contains(&status),
        "{}: status {status}, expected {:?}",
        case.name,
        case.status
    );
    if let Some(codes) = case.code {
        let body: serde_json::Value = serde_json::from_slice(&body)?;
        // One of the errors carries the refusal (two aliased logins: the first may be throttled,
        // the second is refused either way).
        let refused = body["errors"].as_array().is_some_and(|errors| {
            errors
                .iter()
                .any(|e| codes.contains(&e["extensions"]["code"].as_str().unwrap_or_default()))
        });
        anyhow::ensure!(
            (body["data"].is_null() || body["data"]["login"].is_null()) && refused,
            "{}: expected one of {codes:?} without data, got {body}",
            case.name
        );
    }
    Ok(took)
}

/// POSTs `body` over a plain TCP connection and returns the status line's code, reading it while
/// the body is still being written.
async fn raw_status(url: &str, body: &str) -> anyhow::Result<u16> {
    let url = reqwest::Url::parse(url)?;
    let address = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(80)
    );
    let stream = tokio::net::TcpStream::connect(address).await?;
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        url.path(),
        url.host_str().unwrap_or_default(),
        body.len()
    );
    let payload = [head.as_bytes(), body.as_bytes()].concat();
    let writer = tokio::spawn(async move {
        // Ends with an error once the server has answered and closed.
        let _ = write.write_all(&payload).await;
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = read.read(&mut buffer).await?;
        anyhow::ensure!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buffer[..n]);
    }
    writer.abort();
    let line = String::from_utf8_lossy(&answer);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no status line: {line}"))
}

type WebSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Anonymous sockets from one address: 300 at once, past the cap of 200 per address. Those past
/// it must be refused before the upgrade (429); the ones let in are closed again.
const FLOOD_SOCKETS: usize = 300;
/// Subscriptions sent on one socket: those past the cap of 20 must be refused.
const FLOOD_SUBSCRIPTIONS: usize = 1_000;

async fn open_socket(base: &str) -> anyhow::Result<Result<WebSocket, u16>> {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::{Error, Message};
    let mut request =
        format!("{}/graphql/ws", base.replace("http://", "ws://")).into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let mut stream = match tokio_tungstenite::connect_async(request).await {
        Ok((stream, _)) => stream,
        Err(Error::Http(response)) => return Ok(Err(response.status().as_u16())),
        Err(other) => return Err(other.into()),
    };
    stream
        .send(Message::text(
            json!({ "type": "connection_init" }).to_string(),
        ))
        .await?;
    while let Some(message) = stream.next().await {
        if let Message::Text(text) = message? {
            anyhow::ensure!(
                text.contains("connection_ack"),
                "expected connection_ack: {text}"
            );
            return Ok(Ok(stream));
        }
    }
    anyhow::bail!("closed before connection_ack")
}

async fn socket_flood(base: &str) -> anyhow::Result<AbuseCase> {
    let started = Instant::now();
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..FLOOD_SOCKETS {
        match open_socket(base).await? {
            Ok(socket) => open.push(socket),
            Err(429) => refused += 1,
            Err(status) => anyhow::bail!("a flooding socket got {status}, expected 429"),
        }
    }
    anyhow::ensure!(
        refused == FLOOD_SOCKETS - 200,
        "{refused} of {FLOOD_SOCKETS} sockets from one address were refused; expected all past 200"
    );
    for mut socket in open {
        let _ = socket.close(None).await;
    }
    // The server frees the places as the closes arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let took = started.elapsed().as_secs_f64() * 1000.0;
    Ok(AbuseCase {
        case: "300 anonymous sockets from one address",
        requests: FLOOD_SOCKETS,
        p50_ms: took / FLOOD_SOCKETS as f64,
        max_ms: took,
    })
}

async fn subscription_flood(base: &str) -> anyhow::Result<AbuseCase> {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let started = Instant::now();
    let Ok(mut socket) = open_socket(base).await? else {
        anyhow::bail!("no socket for the subscription flood");
    };
    for id in 0..FLOOD_SUBSCRIPTIONS {
        socket
            .send(Message::text(
                json!({ "id": id.to_string(), "type": "subscribe", "payload": { "query": "subscription { events { kind } }" } })
                    .to_string(),
            ))
            .await?;
    }
    let mut refused = 0;
    while refused < FLOOD_SUBSCRIPTIONS - 20 {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .context("waiting for the refusals")?;
        match message {
            Some(Ok(Message::Text(text))) if text.contains("RATE_LIMITED") => refused += 1,
            Some(Ok(_)) => {}
            other => anyhow::bail!("the flooded socket ended: {other:?}"),
        }
    }
    let _ = socket.close(None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = started.elapsed().as_secs_f64() * 1000.0;
    Ok(AbuseCase {
        case: "1,000 subscriptions on one socket",
        requests: FLOOD_SUBSCRIPTIONS,
        p50_ms: took / FLOOD_SUBSCRIPTIONS as f64,
        max_ms: took,
    })
}
