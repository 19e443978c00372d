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
        "| scenario | subject | req/s at saturation | vs baseline | p50 at half | p99 at half | server CPU (cores) | server peak RSS |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
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
            "| {} | {} | {:.0} | {} | {:.2} ms | {:.2} ms | {:.2} | {:.0} MiB |\n",
            m.scenario,
            m.subject,
            m.throughput_rps,
            ratio,
            m.latency_at_half.p50_ms,
            m.latency_at_half.p99_ms,
            m.server_cpu_cores,
            m.server_peak_rss_mib,
        ));
    }
    let d = &results.drain;
    out.push_str(&format!(
        "\n| scenario | emails | time | emails/s | vs baseline | server CPU (cores) | server peak RSS | claims/s, no-op sender |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n\
         | 6. outbox drain to a local SMTP sink | {} | {:.1} s | {:.0} | {:.2}× | {:.2} | {:.0} MiB | {:.0} |\n\
         | 6. baseline: lettre alone, same email, same connections | {} | – | {:.0} | 1.00× | – | – | – |\n",
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
        "\n| scenario | subscriptions | digests queued | empty windows | time | digests/s | vs baseline | CPU | peak RSS |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n\
         | 7. one digest run | {} | {} | {} | {:.2} s | {:.0} | {:.2}× | {:.2} s | {:.0} MiB |\n\
         | 7. baseline: the same emails written to the outbox alone | – | {} | – | {:.2} s | {:.0} | 1.00× | – | – |\n",
        g.subscriptions, g.digests_queued, g.empty_windows, g.seconds, g.digests_per_second,
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
    let failures = results.failed_requests();
    out.push_str(&format!(
        "\nScenario 3 costs {} SQL statements per request. Failed requests: {failures}.\n",
        results.page_statements
    ));
    out
}
