//! The Markdown table.

use crate::scenarios::Results;

pub fn markdown(results: &Results) -> String {
    let mut out = format!(
        "Engine: {}; dataset: {} organizations, {} users, {} inquiries × {} slots; {} s per phase, \
         {} clients at saturation, {} cores.\n\n",
        results.engine,
        results.scale.organizations,
        results.scale.users,
        results.scale.inquiries,
        results.scale.slots_per_inquiry,
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
        "\n| scenario | emails | time | emails/s | server CPU (cores) | server peak RSS | claims/s, no-op sender |\n\
         |---|---:|---:|---:|---:|---:|---:|\n\
         | 6. outbox drain to a local SMTP sink | {} | {:.1} s | {:.0} | {:.2} | {:.0} MiB | {:.0} |\n",
        d.deliveries, d.seconds, d.emails_per_second, d.server_cpu_cores, d.server_peak_rss_mib, d.claims_per_second
    ));
    let failures = results.failed_requests();
    out.push_str(&format!(
        "\nScenario 3 costs {} SQL statements per request. Failed requests: {failures}.\n",
        results.page_statements
    ));
    out
}
