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
    code: Option<&'static str>,
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
        code: Some("BAD_USER_INPUT"),
        raw: false,
    };
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
        Case {
            name: "a batch of 1,000 operations",
            body: serde_json::to_string(&vec![json!({ "query": "{ __typename }" }); 1_000])
                .unwrap_or_default(),
            status: &[400],
            code: Some("BAD_USER_INPUT"),
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
    let rss_first_pass_mib = server.rss_mib();
    for case in &cases {
        pass(&client, &url, case, repeats).await?;
    }
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
        .buffer_unordered(CONCURRENCY)
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
        .header("content-type", "application/json")
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
    if let Some(code) = case.code {
        let body: serde_json::Value = serde_json::from_slice(&body)?;
        anyhow::ensure!(
            body["data"].is_null() && body["errors"][0]["extensions"]["code"] == code,
            "{}: expected {code} without data, got {body}",
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
