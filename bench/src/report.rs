//! The Markdown table.

use crate::scenarios::Results;

pub fn markdown(results: &Results) -> String {
    let mut out = format!(
        "Engine: {}; dataset: {} organizations, {} users, {} inquiries × {} slots, {} tips, {} topic \
         subscriptions; {} s per phase, {} clients at saturation, {} cores.\n\n",
        results.engine,
        results.scale.organizations,
        results.scale.users,
        results.scale.inquiries,
        results.scale.slots_per_inquiry,
        results.scale.tips,
        results.scale.subscriptions,
        results.seconds_per_phase,
        results.concurrency,
        results.cores,
    );
    out.push_str(
        "| scenario | subject | req/s at saturation | vs baseline | p50 at half | p99 at half | server CPU (cores) | CPU per request | server peak RSS |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in &results.measurements {
        let baseline = results
            .measurements
            .iter()
            .find(|b| b.scenario == m.scenario && b.subject == "baseline")
            .map_or(0.0, |b| b.throughput_rps);
        let ratio = if baseline > 0.0 {
            format!("{:.2}×", m.throughput_rps / baseline)
        } else {
            "–".into()
        };
        out.push_str(&format!(
            "| {} | {} | {:.0} | {} | {:.2} ms | {:.2} ms | {:.2} | {:.2} ms | {:.0} MiB |\n",
            m.scenario,
            m.subject,
            m.throughput_rps,
            ratio,
            m.latency_at_half.p50_ms,
            m.latency_at_half.p99_ms,
            m.server_cpu_cores,
            m.server_cpu_ms_per_request,
            m.server_peak_rss_mib,
        ));
    }
    let d = &results.drain;
    out.push_str(&format!(
        "\n| scenario | emails | time | emails/s | vs baseline | server CPU (cores) | server peak RSS | claims/s, no-op sender |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n\
         | 6. outbox drain to a local SMTP sink | {} | {:.1} s | {:.0} | {:.2}× | {:.2} | {:.0} MiB | {:.0} |\n\
         | 6. baseline: a bare client with TCP_NODELAY, same email, same connections | {} | – | {:.0} | 1.00× | – | – | – |\n",
        d.deliveries, d.seconds, d.emails_per_second, d.emails_per_second / d.baseline_emails_per_second.max(f64::MIN_POSITIVE), d.server_cpu_cores, d.server_peak_rss_mib, d.claims_per_second,
        d.baseline_emails, d.baseline_emails_per_second
    ));
    out.push_str(
        "\n| scenario | subject | instances | connections | connected in | server RSS idle → connected | per connection | receipts | p50 | p99 | max | the write itself |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for f in &results.fan_out {
        out.push_str(&format!(
            "| 5. idle subscriptions, then {} events fanned out | {} | {} | {} | {:.1} s | {:.0} → {:.0} MiB | {:.1} KiB | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |\n",
            f.rounds,
            f.subject,
            f.instances,
            f.connections,
            f.connect_seconds,
            f.rss_idle_mib,
            f.rss_connected_mib,
            f.kib_per_connection,
            f.received,
            f.receive.p50_ms,
            f.receive.p99_ms,
            f.receive.max_ms,
            f.mutation_ms,
        ));
    }
    let g = &results.digests;
    out.push_str(&format!(
        "\n| scenario | subscriptions | windows | digests queued | empty windows | time | digests/s | vs baseline | CPU | peak RSS |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n\
         | 7. one digest run | {} | {} | {} | {} | {:.2} s | {:.0} | {:.2}× | {:.2} s | {:.0} MiB |\n\
         | 7. baseline: the same emails written to the outbox alone | – | – | {} | – | {:.2} s | {:.0} | 1.00× | – | – |\n",
        g.subscriptions, g.windows, g.digests_queued, g.empty_windows, g.seconds, g.digests_per_second,
        g.baseline_seconds / g.seconds.max(f64::MIN_POSITIVE), g.cpu_seconds, g.peak_rss_mib,
        g.digests_queued, g.baseline_seconds, g.digests_queued as f64 / g.baseline_seconds.max(f64::MIN_POSITIVE)
    ));
    let a = &results.abuse;
    out.push_str("\n| abusive request | sent | p50 to refusal | slowest |\n|---|---:|---:|---:|\n");
    for c in &a.cases {
        out.push_str(&format!(
            "| {} | {} × 2 | {:.1} ms | {:.1} ms |\n",
            c.case, c.requests, c.p50_ms, c.max_ms
        ));
    }
    out.push_str(&format!(
        "\nServer RSS: {:.0} MiB warm, {:.0} MiB after the first pass of abuse, {:.0} MiB after the second.\n",
        a.rss_warm_mib, a.rss_first_pass_mib, a.rss_second_pass_mib
    ));
    out.push_str(
        "\n| read | clients | requests | SQL statements per request | round trips per request |\n|---|---:|---:|---:|---:|\n",
    );
    for c in &results.costs {
        out.push_str(&format!(
            "| {} | {} | {} | {:.2} | {} |\n",
            c.scenario,
            c.clients,
            c.requests,
            c.statements_per_request,
            c.round_trips_per_request
                .map_or("–".to_owned(), |r| format!("{r:.2}")),
        ));
    }
    out.push_str("\n| goal | measured | met |\n|---|---|---|\n");
    for goal in goals(results) {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            goal.goal,
            goal.measured,
            match goal.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "–",
            }
        ));
    }
    out.push_str(&format!(
        "\nFailed requests: {}.\n",
        results.failed_requests()
    ));
    out
}

/// One of the performance goals with what this run measured.
#[derive(Debug, serde::Serialize)]
pub struct Goal {
    pub goal: String,
    pub measured: String,
    /// `None` where this run cannot tell (no such measurement on this engine).
    pub met: Option<bool>,
}

/// The goals, evaluated on this run's figures.
pub fn goals(results: &Results) -> Vec<Goal> {
    let rate = |prefix: &str, subject: &str| {
        results
            .measurements
            .iter()
            .find(|m| m.scenario.starts_with(prefix) && m.subject == subject)
    };
    let ratio = |prefix: &str| match (rate(prefix, "service"), rate(prefix, "baseline")) {
        (Some(s), Some(b)) if b.throughput_rps > 0.0 => Some(s.throughput_rps / b.throughput_rps),
        _ => None,
    };
    let cost = |prefix: &str, many: bool| {
        results
            .costs
            .iter()
            .filter(|c| c.scenario.starts_with(prefix))
            .find(|c| (c.clients > 1) == many)
    };
    let mut out = Vec::new();
    let mut at_least = |goal: String, measured: Option<f64>, min: f64, unit: &str| {
        out.push(Goal {
            goal,
            measured: measured.map_or("–".into(), |m| format!("{m:.2}{unit}")),
            met: measured.map(|m| m >= min),
        });
    };
    at_least(
        "1. `{ __typename }` ≥ 0.5× bare axum".into(),
        ratio("1."),
        0.5,
        "×",
    );
    at_least(
        "2. one inquiry by id ≥ 0.5× raw SQL".into(),
        ratio("2."),
        0.5,
        "×",
    );
    at_least("3. page of 50 ≥ 0.8× raw SQL".into(), ratio("3."), 0.8, "×");
    at_least(
        "4. a change with its event and emails ≥ 0.5× a bare insert".into(),
        ratio("4."),
        0.5,
        "×",
    );
    let typename = rate("1.", "service").map(|m| m.throughput_rps);
    for page in ["8a.", "8b.", "8c."] {
        let name = rate(page, "service").map_or(page.to_owned(), |m| m.scenario.clone());
        let measured = match (rate(page, "service"), typename) {
            (Some(p), Some(t)) if t > 0.0 => Some(p.throughput_rps / t),
            _ => None,
        };
        at_least(format!("{name} ≥ 0.5× scenario 1"), measured, 0.5, "×");
    }
    let d = &results.drain;
    at_least(
        "6. emails to a loopback sink ≥ 1,000/s".into(),
        Some(d.emails_per_second),
        1000.0,
        "/s",
    );
    at_least(
        "6. emails ≥ 0.9× a bare SMTP client".into(),
        (d.baseline_emails_per_second > 0.0)
            .then(|| d.emails_per_second / d.baseline_emails_per_second),
        0.9,
        "×",
    );
    if results.engine == "PostgreSQL" {
        at_least(
            "6. outbox claims ≥ 5,000/s, no-op sender".into(),
            Some(d.claims_per_second),
            5000.0,
            "/s",
        );
    }
    let mut at_most = |goal: String, measured: Option<f64>, max: f64, unit: &str| {
        out.push(Goal {
            goal,
            measured: measured.map_or("–".into(), |m| format!("{m:.2}{unit}")),
            met: measured.map(|m| m <= max),
        });
    };
    for many in [false, true] {
        let clients = if many { results.concurrency } else { 1 };
        at_most(
            format!("2. one inquiry by id: ≤ 2 statements at {clients} client(s)"),
            cost("2.", many).map(|c| c.statements_per_request),
            2.0,
            "",
        );
        if results.engine == "PostgreSQL" {
            at_most(
                format!("2. one inquiry by id: ≤ 2 round trips at {clients} client(s)"),
                cost("2.", many).and_then(|c| c.round_trips_per_request),
                2.0,
                "",
            );
        }
        at_most(
            format!("3. page of 50: ≤ 3 statements at {clients} client(s)"),
            cost("3.", many).map(|c| c.statements_per_request),
            3.0,
            "",
        );
    }
    for page in ["8a.", "8b.", "8c."] {
        let (alone, loaded) = (cost(page, false), cost(page, true));
        at_most(
            format!(
                "{} statements under load ≤ alone ({})",
                page.trim_end_matches('.'),
                alone.map_or("–".into(), |c| format!("{:.2}", c.statements_per_request))
            ),
            loaded.map(|c| c.statements_per_request),
            alone.map_or(f64::NAN, |c| c.statements_per_request),
            "",
        );
    }
    let fan = |subject: &str| {
        results
            .fan_out
            .iter()
            .find(|f| f.subject == subject && f.instances == 1)
    };
    if let (Some(s), Some(b)) = (fan("service"), fan("baseline")) {
        at_most(
            "5. fan-out p99 ≤ 1.2× the bare relay".into(),
            (b.receive.p99_ms > 0.0).then(|| s.receive.p99_ms / b.receive.p99_ms),
            1.2,
            "×",
        );
        at_most(
            "5. memory per idle socket ≤ 12 KiB".into(),
            Some(s.kib_per_connection),
            12.0,
            " KiB",
        );
    }
    let g = &results.digests;
    at_most(
        format!(
            "7. one digest run over {} subscriptions ≤ 30 s",
            g.subscriptions
        ),
        Some(g.seconds),
        30.0,
        " s",
    );
    at_most(
        "7. digest run peak RSS ≤ 300 MiB".into(),
        Some(g.peak_rss_mib),
        300.0,
        " MiB",
    );
    out
}
