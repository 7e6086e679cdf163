//! What `concord bench` measured, and how it is printed.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::output::Table;

/// What `concord bench` measured; a part not run is null.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub target: String,
    pub exchange: Option<ExchangeReport>,
    pub screening: Option<ScreeningReport>,
    pub taskforce: Option<TaskForceReport>,
}

#[derive(Debug, Serialize)]
pub struct ExchangeReport {
    pub recipients: Vec<String>,
    pub records: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub records_per_second: f64,
    pub deliveries_per_second: f64,
    pub raise_acks_per_second: f64,
    /// Raise-to-stored, per (record, recipient).
    pub latency_ms: Latency,
}

#[derive(Debug, Serialize)]
pub struct ScreeningReport {
    /// The node screened against.
    pub endpoint: String,
    /// `--local`: the list imported before measuring.
    pub import: Option<ImportReport>,
    /// The lists the node screens against (ListLists).
    pub lists: Vec<ListHeld>,
    /// Single `Query` calls.
    pub queries: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub queries_per_second: f64,
    pub latency_ms: Latency,
    /// Queries with at least one match at the node's threshold.
    pub queries_with_match: usize,
    /// `QueryBatch` over the same names; null with `--screen-batch 0`.
    pub batch: Option<BatchReport>,
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub list: String,
    /// synthetic, or the format of the imported file.
    pub source: String,
    pub entries: u64,
    pub names: u64,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct ListHeld {
    pub name: String,
    pub kind: String,
    pub entries: u64,
    pub names: u64,
}

#[derive(Debug, Serialize)]
pub struct BatchReport {
    pub batch_size: usize,
    pub calls: usize,
    pub in_flight: usize,
    pub names: usize,
    pub seconds: f64,
    pub names_per_second: f64,
    /// Per call.
    pub latency_ms: Latency,
}

#[derive(Debug, Serialize)]
pub struct TaskForceReport {
    pub taskforce: String,
    pub party: String,
    /// The asking member's node.
    pub home: String,
    /// The other member nodes its answers name.
    pub peers: Vec<String>,
    /// `--local`: denials each peer issued to the home jurisdiction (half
    /// name the party); null against existing nodes.
    pub seeded_denials_per_peer: Option<usize>,
    pub queries: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub queries_per_second: f64,
    pub latency_ms: Latency,
    /// Queries in which every peer answered with a valid signature.
    pub queries_answered_by_every_peer: usize,
    /// Peer sections by outcome over all queries (answered, unreachable,
    /// timed-out, refused; "bad-signature" for an answer that did not verify).
    pub peer_outcomes: BTreeMap<String, usize>,
    /// Answered peer sections reporting a hit.
    pub peer_hits: usize,
    /// Queries in which the home node's own section reported a hit.
    pub home_hits: usize,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    /// Percentiles of milliseconds (nearest rank below); zeros when empty.
    pub fn of(mut ms: Vec<f64>) -> Latency {
        ms.sort_by(|x, y| x.total_cmp(y));
        let pick = |q: f64| {
            ms.get(((ms.len() as f64 * q) as usize).min(ms.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        };
        Latency {
            p50: pick(0.5),
            p99: pick(0.99),
            max: ms.last().copied().unwrap_or(0.0),
        }
    }
}

pub fn ms(v: f64) -> String {
    format!("{v:.1} ms")
}

pub fn latency_rows(t: &mut Table, what: &str, l: &Latency) {
    t.row([format!("{what} p50"), ms(l.p50)]);
    t.row([format!("{what} p99"), ms(l.p99)]);
    t.row([format!("{what} max"), ms(l.max)]);
}

pub fn render(report: &BenchReport) -> String {
    let mut out = format!("Target: {}\n", report.target);
    if let Some(s) = &report.screening {
        let mut t = Table::new(["measure", "value"]);
        t.row(["node", s.endpoint.as_str()]);
        if let Some(i) = &s.import {
            t.row([
                "list imported".to_owned(),
                format!(
                    "{} ({}): {} entries, {} names in {:.2} s",
                    i.list, i.source, i.entries, i.names, i.seconds
                ),
            ]);
        }
        let lists: Vec<String> = s
            .lists
            .iter()
            .map(|l| format!("{} ({} names)", l.name, l.names))
            .collect();
        t.row(["lists screened".to_owned(), lists.join(", ")]);
        t.row([
            "queries (single Query calls)".to_owned(),
            s.queries.to_string(),
        ]);
        t.row(["requests in flight".to_owned(), s.concurrency.to_string()]);
        t.row([
            "queries/s".to_owned(),
            format!("{:.0}", s.queries_per_second),
        ]);
        latency_rows(&mut t, "per-query latency", &s.latency_ms);
        t.row([
            "queries with a match".to_owned(),
            s.queries_with_match.to_string(),
        ]);
        if let Some(b) = &s.batch {
            t.row([
                "QueryBatch".to_owned(),
                format!(
                    "{} calls of {} names, {} in flight",
                    b.calls, b.batch_size, b.in_flight
                ),
            ]);
            t.row([
                "names/s (batch)".to_owned(),
                format!("{:.0}", b.names_per_second),
            ]);
            latency_rows(&mut t, "per-call latency", &b.latency_ms);
        }
        out.push_str(&format!("\nScreening\n{}", t.render()));
    }
    if let Some(f) = &report.taskforce {
        let mut t = Table::new(["measure", "value"]);
        t.row([
            "task force".to_owned(),
            format!("{} (party {:?})", f.taskforce, f.party),
        ]);
        t.row([
            "asking node → peers".to_owned(),
            format!("{} → {}", f.home, f.peers.join(", ")),
        ]);
        if let Some(n) = f.seeded_denials_per_peer {
            t.row(["denials seeded per peer".to_owned(), n.to_string()]);
        }
        t.row(["queries".to_owned(), f.queries.to_string()]);
        t.row(["queries in flight".to_owned(), f.concurrency.to_string()]);
        t.row([
            "queries/s".to_owned(),
            format!("{:.1}", f.queries_per_second),
        ]);
        latency_rows(&mut t, "query latency", &f.latency_ms);
        t.row([
            "answered by every peer".to_owned(),
            format!(
                "{} of {} queries",
                f.queries_answered_by_every_peer, f.queries
            ),
        ]);
        let outcomes: Vec<String> = f
            .peer_outcomes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        t.row(["peer sections".to_owned(), outcomes.join(", ")]);
        t.row([
            "hits".to_owned(),
            format!(
                "{} from peers, {} from {}",
                f.peer_hits, f.home_hits, f.home
            ),
        ]);
        out.push_str(&format!("\nTask-force queries\n{}", t.render()));
    }
    if let Some(x) = &report.exchange {
        let mut t = Table::new(["measure", "value"]);
        t.row(["recipients".to_owned(), x.recipients.join(", ")]);
        t.row(["records raised".to_owned(), x.records.to_string()]);
        t.row(["requests in flight".to_owned(), x.concurrency.to_string()]);
        t.row([
            "records/s (stored at every recipient)".to_owned(),
            format!("{:.0}", x.records_per_second),
        ]);
        t.row([
            "deliveries/s".to_owned(),
            format!("{:.0}", x.deliveries_per_second),
        ]);
        t.row([
            "raise acknowledgements/s".to_owned(),
            format!("{:.0}", x.raise_acks_per_second),
        ]);
        latency_rows(&mut t, "raise-to-stored", &x.latency_ms);
        out.push_str(&format!("\nRecord exchange\n{}", t.render()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_ordered() {
        let l = Latency::of((1..=100).rev().map(f64::from).collect());
        assert_eq!((l.p50, l.p99, l.max), (51.0, 100.0, 100.0));
        let empty = Latency::of(vec![]);
        assert_eq!((empty.p50, empty.max), (0.0, 0.0));
    }
}
