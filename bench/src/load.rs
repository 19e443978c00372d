//! Load generation: throughput at saturation (closed loop), then latency at half of it (open
//! loop, measured from each request's scheduled start so that a stalled server is not hidden).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

/// One request of a scenario; `n` varies it (e.g. which inquiry).
pub type Request = Arc<dyn Fn(u64) -> BoxFuture<'static, bool> + Send + Sync>;

/// Requests per second that `concurrency` clients sustain for `duration`.
pub async fn saturate(request: &Request, concurrency: usize, duration: Duration) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (request, done, failed) = (request.clone(), done.clone(), failed.clone());
            tokio::spawn(async move {
                let mut n = w as u64;
                while Instant::now() < until {
                    if !request(n).await {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    n += concurrency as u64;
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    (
        done.load(Ordering::Relaxed) as f64 / elapsed,
        failed.load(Ordering::Relaxed),
    )
}

/// Latency percentiles at a fixed arrival rate.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Latency {
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub failed: u64,
}

/// The highest open-loop rate the tool offers: above it the tool itself, on the same two cores
/// as the server, falls behind and its connections fail, whatever the server does.
pub const MAX_OPEN_LOOP_RATE: f64 = 4_000.0;

/// Latency at `rate` requests per second (at most [`MAX_OPEN_LOOP_RATE`]; the rate used is in
/// the result).
pub async fn latency_at(request: &Request, rate: f64, duration: Duration) -> Latency {
    let rate = rate.clamp(1.0, MAX_OPEN_LOOP_RATE);
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = (rate * duration.as_secs_f64()).ceil() as u64;
    let started = Instant::now();
    let mut handles = Vec::with_capacity(total as usize);
    for n in 0..total {
        let scheduled = started + interval.mul_f64(n as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let request = request.clone();
        handles.push(tokio::spawn(async move {
            let ok = request(n).await;
            (scheduled.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(handles.len());
    let mut failed = 0;
    for handle in handles {
        if let Ok((took, ok)) = handle.await {
            latencies.push(took);
            if !ok {
                failed += 1;
            }
        }
    }
    let ms = latencies.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    let percentiles = Percentiles::of(ms);
    Latency {
        rate,
        p50_ms: percentiles.p50_ms,
        p99_ms: percentiles.p99_ms,
        failed,
    }
}

/// Percentiles of a set of samples, in milliseconds.
#[derive(Debug, serde::Serialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn of(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| {
            samples
                .get(((samples.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        Self {
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}
