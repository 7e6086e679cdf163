//! A node holding a million records: what reads, start-up and one incoming
//! alert cost when a node has run for years.
//!
//!   cargo build --release -p concord-node -p concord-cli --bins -p concord-tests --examples
//!   cd tests && ../target/release/examples/scale_bench [--records N] [--own N] [--open N]
//!
//! Three real nodes (DE, FR, JP) are started and peered, then stopped. The
//! generator opens DE's store in-process and fills it: FR and JP each sign
//! alerts and denial notices naming DE with their own record keys, and DE's
//! exchange receives them in batches exactly as from a push (every signature
//! verified, every record audited); DE raises `--own` alerts itself. Then DE
//! is started again and measured over mutual TLS: start-up, a newest-first
//! page, a page deep in store order, `show`, `stats`, `audit verify`, one
//! task-force party match (in-process, before the restart), one incoming
//! alert from FR until DE's watchers are told, store size and RSS.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use concord_node::audit::AuditLog;
use concord_node::clock::now_unix_ms;
use concord_node::exchange::envelope::EnvelopeHeader;
use concord_node::exchange::records::{
    AlertCategory, AlertState, DenialNotice, DenialState, DeniedItem, Party, RiskAlert, Severity,
    Subjects,
};
use concord_node::exchange::{
    AlertDraft, Distribution, Exchange, Record, RecordKind, SignedEnvelope,
};
use concord_node::identity::{Caller, Jurisdiction, Role};
use concord_node::peers::PeerDirectory;
use concord_node::store::Store;
use concord_proto::v1::{GetRecordRequest, ListRecordsRequest, RaiseAlertRequest, WatchRequest};
use concord_tests::*;

const WORDS: [&str; 24] = [
    "Northern", "Orient", "Baltic", "Crescent", "Delta", "Everest", "Falcon", "Granite", "Harbor",
    "Indus", "Jade", "Kestrel", "Lotus", "Meridian", "Nova", "Onyx", "Pioneer", "Quartz", "Rapid",
    "Sierra", "Titan", "Union", "Vector", "Zenith",
];
const KINDS: [&str; 8] = [
    "Trading",
    "Logistics",
    "Electronics",
    "Machinery",
    "Components",
    "Shipping",
    "Industrial",
    "Technologies",
];
const FORMS: [&str; 5] = ["LLC", "Ltd", "GmbH", "FZE", "Co"];
/// Destinations records and applications spread over.
const DESTINATIONS: [&str; 30] = [
    "IR", "RU", "KP", "SY", "AE", "TR", "BY", "CN", "PK", "IN", "KZ", "UZ", "AM", "GE", "AZ", "RS",
    "MY", "TH", "VN", "ID", "EG", "SA", "IQ", "LB", "VE", "CU", "MM", "LY", "SD", "AF",
];
/// Item codes records and applications spread over (the catalog holds them).
const ITEMS: usize = 40;

fn item_code(i: usize) -> String {
    format!("{}A{:03}", 1 + i % 9, i)
}

fn destination(n: usize) -> String {
    DESTINATIONS[n % DESTINATIONS.len()].to_owned()
}

fn item(n: usize) -> String {
    item_code((n / DESTINATIONS.len()) % ITEMS)
}

/// A distinct company name for record `n`: three words and a number, so
/// that names repeat their words (as real lists do) but not whole.
fn party_name(n: usize) -> String {
    format!(
        "{} {} {} {} {}",
        WORDS[n % WORDS.len()],
        WORDS[(n / WORDS.len()) % WORDS.len()],
        KINDS[(n / 7) % KINDS.len()],
        n,
        FORMS[n % FORMS.len()]
    )
}

fn party(n: usize) -> Party {
    Party {
        name: party_name(n),
        aliases: vec![],
        country: destination(n),
        address: format!(
            "{} Industrial Zone, Unit {}",
            WORDS[n % WORDS.len()],
            n % 977
        ),
    }
}

/// The record `n` of `issuer`, sequence `seq`, signed `issued_at`.
fn record(issuer: &Jurisdiction, n: usize, seq: u64, issued_at: i64) -> Record {
    if n.is_multiple_of(5) {
        Record::Denial(DenialNotice {
            id: format!("{issuer}-D-{seq}"),
            issuer: issuer.clone(),
            version: 1,
            state: DenialState::Active,
            party: party(n),
            items: vec![DeniedItem {
                code: item(n),
                description: "FPGAs".into(),
            }],
            destination: destination(n),
            end_use: "military radar".into(),
            reason: "risk of military end use".into(),
            decision_date_unix_ms: issued_at,
            valid_until_unix_ms: None,
            change_reason: String::new(),
        })
    } else {
        Record::Alert(RiskAlert {
            id: format!("{issuer}-A-{seq}"),
            issuer: issuer.clone(),
            category: AlertCategory::DiversionSuspected,
            severity: Severity::High,
            subjects: Subjects {
                parties: vec![party(n)],
                destinations: vec![destination(n)],
                items: vec![item(n)],
                shipments: vec![],
            },
            indicators: vec!["end user changed after approval".into()],
            summary: format!("benchmark alert {n}: consignee resells controlled FPGAs"),
            issued_at_unix_ms: issued_at,
            expires_at_unix_ms: None,
            handling: "RESTRICTED".into(),
            version: 1,
            state: AlertState::Active,
            change_reason: String::new(),
        })
    }
}

fn seal(
    signer: &concord_node::crypto::RecordSigner,
    issuer: &Jurisdiction,
    to: &Jurisdiction,
    seq: u64,
    record: &Record,
) -> Result<SignedEnvelope> {
    let (kind, id, issued_at) = match record {
        Record::Alert(a) => (RecordKind::Alert, a.id.clone(), a.issued_at_unix_ms),
        Record::Denial(d) => (RecordKind::Denial, d.id.clone(), d.decision_date_unix_ms),
        Record::Consultation(c) => (RecordKind::Consultation, c.id.clone(), c.issued_at_unix_ms),
    };
    let header = EnvelopeHeader {
        format: 0,
        kind,
        issuer: issuer.clone(),
        key_id: String::new(),
        seq,
        record_id: id,
        version: 1,
        issued_at_unix_ms: issued_at,
        recipients: vec![to.clone()],
        body_sha256: [0; 32],
        previous: None,
        expires_at_unix_ms: None,
    };
    Ok(SignedEnvelope::seal(signer, header, record)?)
}

struct Generated {
    received: usize,
    own: usize,
    /// Open applications, in order of `k`; the end users of `apps[PROBES[i].0]` are named by incoming alerts.
    apps: Vec<String>,
    probe_id: String,
    probe_name: String,
}

/// Fills DE's stopped store. Returns what it stored.
async fn generate(
    de: &NodeDir,
    peers: &[&NodeDir],
    records: usize,
    own: usize,
) -> Result<Generated> {
    let open = bench_arg("--open", 10_000usize);
    let store = Store::open(&de.dir.join("data"))?;
    let signer = Arc::new(record_signer(de)?);
    let audit = Arc::new(AuditLog::open(store.clone(), signer.clone(), &de.code)?);
    let de_j: Jurisdiction = de.code.parse()?;
    let directory =
        Arc::new(PeerDirectory::open(store.clone(), de_j.clone())?.audited(audit.clone()));
    let exchange = Arc::new(Exchange::open(
        store.clone(),
        de_j.clone(),
        signer.clone(),
        directory,
        audit.clone(),
    )?);
    let started = Instant::now();
    let now = now_unix_ms();
    // Spread over three years, oldest first.
    let span_ms: i64 = 3 * 365 * 86_400_000;
    let per_peer = records / peers.len();
    let mut received = 0usize;
    let mut probe = (String::new(), String::new());
    for (p, peer) in peers.iter().enumerate().rev() {
        let issuer: Jurisdiction = peer.code.parse()?;
        let peer_signer = record_signer(peer)?;
        let mut batch = Vec::with_capacity(500);
        for i in 0..per_peer {
            let n = p * per_peer + i;
            let issued_at = now - span_ms + (span_ms / records as i64) * n as i64;
            let seq = (i + 1) as u64;
            let r = record(&issuer, n, seq, issued_at);
            if i == per_peer / 2 {
                probe = (
                    match &r {
                        Record::Alert(a) => a.id.clone(),
                        Record::Denial(d) => d.id.clone(),
                        Record::Consultation(c) => c.id.clone(),
                    },
                    party_name(n),
                );
            }
            batch.push(seal(&peer_signer, &issuer, &de_j, seq, &r)?);
            if batch.len() == 500 || i + 1 == per_peer {
                exchange.receive(&issuer, &batch).await?;
                received += batch.len();
                batch.clear();
                if received % 50_000 < 500 {
                    eprintln!(
                        "  generated {received}/{records} received records ({:.0} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }
    }
    let analyst = Caller::new(de_j.clone(), Role::Analyst, "bench")?;
    let fr: Jurisdiction = peers[0].code.parse()?;
    let mut tasks = tokio::task::JoinSet::new();
    let workers = 32;
    for w in 0..workers {
        let (exchange, analyst, fr) = (exchange.clone(), analyst.clone(), fr.clone());
        tasks.spawn(async move {
            for n in (w..own).step_by(workers) {
                let draft = AlertDraft {
                    category: AlertCategory::SuspiciousShipment,
                    severity: Severity::Medium,
                    subjects: Subjects {
                        parties: vec![party(records + n)],
                        destinations: vec!["RU".into()],
                        ..Subjects::default()
                    },
                    indicators: vec![],
                    summary: format!("own benchmark alert {n}"),
                    expires_in: None,
                    handling: String::new(),
                };
                let to = Distribution {
                    to: vec![fr.clone()],
                    groups: vec![],
                };
                exchange.raise_alert(&analyst, draft, to).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    eprintln!(
        "  generated {received} received and {own} own records in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    // The task-force party match, in-process on the full store.
    // Asked by a DE member: this node's own section of an answer.
    let asker = de_j.clone();
    let query = concord_node::taskforce::Query::Party {
        name: probe.1.clone(),
    };
    let held = received + own;
    let t = Instant::now();
    let scanned =
        concord_node::taskforce::matching::find_by_scan(&exchange, &de_j, &asker, &query, None)?;
    println!(
        "task-force party query by scan (in-process, {held} held): {:.0} ms, {} matches",
        t.elapsed().as_secs_f64() * 1e3,
        scanned.len()
    );
    let t = Instant::now();
    let names = concord_node::taskforce::names::HeldNames::new(exchange.clone());
    let view = names.view().await;
    println!(
        "task-force name index built (in-process, {held} held): {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let view = names.view().await;
        let matches = concord_node::taskforce::matching::find(
            &exchange,
            view.as_ref(),
            &de_j,
            &asker,
            &query,
            None,
        )?;
        times.push(t.elapsed());
        found = matches.len();
    }
    drop(view);
    println!(
        "task-force party query (in-process, {held} held): {:.1} ms median of 5, {found} matches",
        median(times)
    );
    drop(names);
    let apps = applications(&store, &de_j, &exchange, audit, open).await?;
    drop(exchange);
    store.flush().await?;
    Ok(Generated {
        received,
        own,
        apps,
        probe_id: probe.0,
        probe_name: probe.1,
    })
}

/// The applications whose end users incoming alerts name, one alert each:
/// a second alert naming the same party may leave the score as it was (the
/// factor is full), and an unchanged result is not stored again.
const PROBES: [(usize, &str); 5] = [
    (7, "Kowloon Precision Instruments Bhd"),
    (307, "Tasman Optical Works Pty"),
    (607, "Caspian Vacuum Pumps FZE"),
    (907, "Andes Telemetry Sociedad Anonima"),
    (1207, "Nordkap Sensorik AS"),
];

/// End users' names repeat their words but not whole; the probes' end
/// users have names of their own, so that one alert naming one touches one
/// application (names that differ only by a number score 0.90 alike).
fn end_user_name(k: usize) -> String {
    if let Some((_, name)) = PROBES.iter().find(|(p, _)| *p == k) {
        return (*name).into();
    }
    // A letter code, not a number: record names carry numbers up to the
    // record count, and "500123" is one edit from "5000123".
    let mut code = String::new();
    let mut rest = k;
    for _ in 0..4 {
        code.push((b'a' + (rest % 26) as u8) as char);
        rest /= 26;
    }
    format!(
        "{} {} Systems Q{code} Bhd",
        WORDS[k % WORDS.len()],
        WORDS[(k / WORDS.len()) % WORDS.len()],
    )
}

/// Submits `open` applications awaiting a decision, spread over the same
/// destinations and items as the records, through DE's licensing in-process
/// (every one audited). Returns their ids.
async fn applications(
    store: &Store,
    de: &Jurisdiction,
    exchange: &Arc<Exchange>,
    audit: Arc<AuditLog>,
    open: usize,
) -> Result<Vec<String>> {
    use concord_node::licensing::{
        Application, CatalogEntry, Category, ItemDraft, Licensing, Money, PartyDraft, SourcedEntry,
    };
    let started = Instant::now();
    let licensing = Arc::new(Licensing::open(
        store.clone(),
        de.clone(),
        exchange.clone(),
        audit,
    )?);
    let admin = Caller::new(de.clone(), Role::Admin, "bench")?;
    let officer = Caller::new(de.clone(), Role::Officer, "bench")?;
    let catalog = (0..ITEMS)
        .map(|i| SourcedEntry {
            line: i as u32 + 2,
            entry: CatalogEntry {
                code: item_code(i),
                title: format!("benchmark goods {i}"),
                category: Category::DualUse,
                tier: 1 + (i % 3) as u8,
                rationale: "benchmark".into(),
            },
        })
        .collect();
    licensing
        .import_catalog(&admin, "benchmark", catalog)
        .await?;
    let party = |name: String, country: String| PartyDraft {
        name,
        country,
        ..PartyDraft::default()
    };
    let mut applicants = Vec::new();
    for i in 0..20 {
        let p = party(format!("Bench Exporter {i} GmbH"), "DE".into());
        applicants.push(licensing.create_party(&officer, p, true).await?.id);
    }
    let mut consignees = Vec::new();
    for i in 0..50 {
        let p = party(format!("Bench Forwarder {i} Ltd"), destination(i));
        consignees.push(licensing.create_party(&officer, p, true).await?.id);
    }
    let (applicants, consignees) = (Arc::new(applicants), Arc::new(consignees));
    let mut tasks = tokio::task::JoinSet::new();
    let workers = 16;
    for w in 0..workers {
        let (licensing, officer) = (licensing.clone(), officer.clone());
        let (applicants, consignees) = (applicants.clone(), consignees.clone());
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for k in (w..open).step_by(workers) {
                let end_user = PartyDraft {
                    name: end_user_name(k),
                    country: destination(k),
                    ..PartyDraft::default()
                };
                let end_user = licensing.create_party(&officer, end_user, true).await?.id;
                let app = Application {
                    applicant: applicants[k % applicants.len()].clone(),
                    items: vec![ItemDraft {
                        code: item_code(k % ITEMS),
                        description: String::new(),
                        quantity: 1,
                        value: Money {
                            minor_units: 100_000,
                            currency: "EUR".into(),
                        },
                    }],
                    end_user,
                    consignee: consignees[k % consignees.len()].clone(),
                    intermediaries: vec![],
                    destination: destination(k),
                    end_use: "industrial process control".into(),
                };
                ids.push((k, licensing.submit(&officer, app).await?.id));
            }
            anyhow::Ok(ids)
        });
    }
    let mut ids = Vec::new();
    while let Some(done) = tasks.join_next().await {
        ids.extend(done??);
    }
    ids.sort();
    eprintln!(
        "  submitted {open} applications in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(ids.into_iter().map(|(_, id)| id).collect())
}

/// Raises an alert at FR to DE about `subjects`; returns its id.
async fn raise_about(
    fr: &mut concord_proto::v1::exchange_service_client::ExchangeServiceClient<
        tonic::transport::Channel,
    >,
    severity: &str,
    subjects: concord_proto::v1::Subjects,
) -> Result<String> {
    Ok(fr
        .raise_alert(RaiseAlertRequest {
            category: "diversion-suspected".into(),
            severity: severity.into(),
            subjects: Some(subjects),
            summary: "re-scoring probe".into(),
            distribution: Some(concord_proto::v1::Distribution {
                to: vec!["DE".into()],
                groups: vec![],
            }),
            ..RaiseAlertRequest::default()
        })
        .await?
        .into_inner()
        .id)
}

/// One incoming alert re-scoring what it touches: timed from FR's raise
/// until DE's stored assessments of the applications it touches name it.
async fn rescoring(
    fed: &mut Federation,
    de: &NodeDir,
    fr: &mut concord_proto::v1::exchange_service_client::ExchangeServiceClient<
        tonic::transport::Channel,
    >,
    g: &Generated,
) -> Result<()> {
    use concord_proto::v1::risk_service_client::RiskServiceClient;
    use concord_proto::v1::{
        GetRiskAssessmentRequest, Party as WireParty, Subjects as WireSubjects,
    };
    if g.apps.len() <= PROBES[PROBES.len() - 1].0 {
        return Ok(());
    }
    // The start-up pass builds DE's risk sets from every record held first.
    let t = Instant::now();
    let line = loop {
        let log = fed.node("DE").log_text();
        if let Some(line) = log.lines().find(|l| l.contains("risk sets built")) {
            break line.to_owned();
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(3600),
            "no risk sets after an hour"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    println!(
        "risk start-up pass ({} open applications): {line}",
        g.apps.len()
    );
    let profile = de.issue("officer", "scale-risk");
    let risk = RiskServiceClient::new(Credentials::from_profile(&profile)?.channel(true).await?);
    let names_it = |app: String, id: String| {
        let mut risk = risk.clone();
        async move {
            loop {
                let a = risk
                    .get_assessment(GetRiskAssessmentRequest {
                        license_id: app.clone(),
                    })
                    .await?
                    .into_inner();
                if a.trigger.contains(&id) {
                    return anyhow::Ok(());
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    };
    // What DE's own pass took, from its log line (needs
    // CONCORD_NODE_LOG=info,concord_node::risk=debug; none otherwise).
    let pass_ms = |id: &str| -> Option<(u64, u64)> {
        let log = fed.node("DE").log_text();
        let line = log
            .lines()
            .find(|l| l.contains("risk re-scoring pass") && l.contains(id))?;
        let field = |name: &str| -> Option<u64> {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))?
                .parse()
                .ok()
        };
        Some((field("elapsed_ms=")?, field("rescored=")?))
    };
    let mut one = Vec::new();
    let mut passes = Vec::new();
    for (k, name) in PROBES {
        let t = Instant::now();
        let id = raise_about(
            fr,
            "high",
            WireSubjects {
                parties: vec![WireParty {
                    name: name.into(),
                    country: "AQ".into(),
                    ..WireParty::default()
                }],
                destinations: vec!["AQ".into()],
                ..WireSubjects::default()
            },
        )
        .await?;
        if tokio::time::timeout(
            Duration::from_secs(600),
            names_it(g.apps[k].clone(), id.clone()),
        )
        .await
        .is_err()
        {
            // What DE's risk task was doing instead.
            let log = fed.node("DE").log_text();
            let risk: Vec<&str> = log.lines().filter(|l| l.contains("risk")).collect();
            eprintln!("{}", risk[risk.len().saturating_sub(20)..].join("\n"));
            anyhow::bail!("{} not re-scored on {id} within 600 s", g.apps[k]);
        }
        one.push(t.elapsed());
        passes.extend(pass_ms(&id));
    }
    println!(
        "one incoming alert naming one application's end user, FR raise until DE stored its new assessment (median of {}): {:.0} ms",
        one.len(),
        median(one)
    );
    if let Some(line) = passes_line(&passes) {
        println!("  DE's re-scoring pass for it: {line}");
    }
    // Destinations each shared by every 30th application.
    let mut many = Vec::new();
    let mut passes = Vec::new();
    let mut shared_apps = 0;
    for d in 1..=3 {
        let shared: Vec<String> = g
            .apps
            .iter()
            .enumerate()
            .filter(|(k, _)| k % DESTINATIONS.len() == d)
            .map(|(_, id)| id.clone())
            .collect();
        shared_apps = shared.len();
        // On the destination and the items those applications export, so
        // that it outranks what already counts for them (a destination-only
        // alert is weaker than the records on destination and item they
        // hold, would not be listed, and changes nothing to store).
        let mut codes: Vec<String> = (0..g.apps.len())
            .filter(|k| k % DESTINATIONS.len() == d)
            .map(|k| item_code(k % ITEMS))
            .collect();
        codes.sort();
        codes.dedup();
        let t = Instant::now();
        let id = raise_about(
            fr,
            "critical",
            WireSubjects {
                destinations: vec![destination(d)],
                items: codes,
                ..WireSubjects::default()
            },
        )
        .await?;
        // DE's pass stores them in id order, in batches: the greatest id is
        // stored last. Timing one poll, not 334 in a row, keeps the
        // bench's own round trips out of the figure; the rest are checked
        // after.
        let last = shared
            .iter()
            .max()
            .cloned()
            .context("no shared application")?;
        tokio::time::timeout(Duration::from_secs(600), names_it(last, id.clone()))
            .await
            .context("not re-scored within 600 s")??;
        many.push(t.elapsed());
        for app in &shared {
            tokio::time::timeout(Duration::from_secs(5), names_it(app.clone(), id.clone()))
                .await
                .with_context(|| format!("{app} not re-scored with the others"))??;
        }
        passes.extend(pass_ms(&id));
    }
    println!(
        "one incoming critical alert on one destination and its applications' items ({shared_apps} open applications to it), FR raise until DE stored all their assessments (median of 3): {:.0} ms",
        median(many)
    );
    if let Some(line) = passes_line(&passes) {
        println!("  DE's re-scoring pass for it: {line}");
    }
    // A submission is scored against every record held before it is
    // answered (`risk::Risk::assess`), not from the sets.
    let officer = profile.to_string_lossy().into_owned();
    let item = format!("{}:1:100:EUR", item_code(0));
    let mut parties = Vec::new();
    for name in [
        "Bench Applicant GmbH",
        "Qasr Andalus Trading",
        "Bench Consignee LLC",
    ] {
        let out = concord(&[
            "--profile",
            &officer,
            "party",
            "create",
            "--name",
            name,
            "--country",
            "AE",
            "--output",
            "json",
        ]);
        anyhow::ensure!(
            out.status.success(),
            "party create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        parties.push(v["id"].as_str().context("party id")?.to_owned());
    }
    println!(
        "one application submitted and scored against every record held (whole CLI process): {}",
        shown(timed(&[
            "--profile",
            &officer,
            "license",
            "submit",
            "--applicant",
            &parties[0],
            "--end-user",
            &parties[1],
            "--consignee",
            &parties[2],
            "--destination",
            "AE",
            "--end-use",
            "border surveillance",
            "--item",
            &item,
        ]))
    );
    Ok(())
}

/// DE's passes as "N ms median (re-scored M)".
fn passes_line(passes: &[(u64, u64)]) -> Option<String> {
    let mut ms: Vec<u64> = passes.iter().map(|(ms, _)| *ms).collect();
    ms.sort();
    let median = ms.get(ms.len() / 2)?;
    let rescored: Vec<String> = passes.iter().map(|(_, n)| n.to_string()).collect();
    Some(format!(
        "{median} ms median of {} (stored {})",
        ms.len(),
        rescored.join(", ")
    ))
}

fn median(mut xs: Vec<Duration>) -> f64 {
    xs.sort();
    xs.get(xs.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

fn du(path: &Path) -> u64 {
    walk(path)
}

fn walk(path: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    if meta.is_file() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|d| d.flatten().map(|e| walk(&e.path())).sum())
        .unwrap_or(0)
}

fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn timed(args: &[&str]) -> Result<f64> {
    let t = Instant::now();
    let out = concord(args);
    anyhow::ensure!(
        out.status.success(),
        "concord {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(t.elapsed().as_secs_f64() * 1e3)
}

/// A figure, or why there is none: one failed measurement must not lose the rest.
fn shown(ms: Result<f64>) -> String {
    match ms {
        Ok(ms) => format!("{ms:.0} ms"),
        Err(e) => format!("FAILED ({e})"),
    }
}

/// The web console's dashboard, alert list and an application page, timed
/// from request to the whole body over one kept-alive HTTPS connection as
/// an officer: p50 and p99 of `WEB_REQUESTS` each.
async fn web_pages(fed: &Federation, de: &NodeDir, addr: &str, alert: &str) -> Result<()> {
    const WEB_REQUESTS: usize = 100;
    // Timed at rest: after the start-up risk pass, which keeps both cores
    // busy for minutes on a large store.
    let t = Instant::now();
    while !fed.node("DE").log_text().contains("risk sets built") {
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(3600),
            "no risk sets after an hour"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let officer = de.issue("officer", "webbench");
    let mut web = concord_tests::web_client::WebClient::connect(&officer, addr).await?;
    let first_license = "DE-L-1";
    for (what, path) in [
        ("dashboard", "/".to_owned()),
        ("alert list page (50 newest)", "/alerts".to_owned()),
        ("alert record page", format!("/alerts/{alert}")),
        ("application page", format!("/licenses/{first_license}")),
        (
            "alerts-and-denials-per-week chart",
            "/charts/weekly.svg".to_owned(),
        ),
        (
            "decision-timeliness chart",
            "/charts/timeliness.svg".to_owned(),
        ),
    ] {
        let path = if what == "alert record page" && alert.contains("-D-") {
            format!("/denials/{alert}")
        } else {
            path
        };
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..WEB_REQUESTS {
            let t = Instant::now();
            let (status, body) = web.get(&path).await?;
            times.push(t.elapsed());
            anyhow::ensure!(status == 200, "{path}: HTTP {status}: {body}");
            bytes = body.len();
        }
        times.sort();
        let at =
            |q: f64| times[((q * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1];
        println!(
            "web console {what} {path} ({bytes} bytes; p50 / p99 of {WEB_REQUESTS}): {:.1} / {:.1} ms",
            at(0.5).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3
        );
    }
    // The application page reads resembling denials from the risk set; the
    // decision's check reads every denial to the destination. They agree.
    let (_, page) = web.get(&format!("/licenses/{first_license}")).await?;
    let shown = page.matches("href=\"/denials/").count();
    let checked = concord_tests::json_as(&officer, &["consult", "check", first_license]);
    let full = checked["findings"].as_array().map_or(0, Vec::len);
    println!(
        "resembling peer denials of {first_license}: {shown} on the page, {full} by the decision's check"
    );
    anyhow::ensure!(
        shown == full,
        "the application page shows {shown} resembling denials, the check finds {full}"
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let records = bench_arg("--records", 1_000_000);
    let own = bench_arg("--own", 20_000);
    let mut fed = Federation::start(&["DE", "FR", "JP"]).await?;
    let (de, fr, jp) = (
        fed.dir("DE").clone(),
        fed.dir("FR").clone(),
        fed.dir("JP").clone(),
    );
    for code in ["DE", "FR", "JP"] {
        fed.take(code).terminate().await?;
    }
    eprintln!("generating {records} received records and {own} own alerts into DE's store…");
    let g = generate(&de, &[&fr, &jp], records, own).await?;
    let held = g.received + g.own;
    println!(
        "records held: {held} ({} received from FR and JP, {} own)",
        g.received, g.own
    );
    println!(
        "store size: {:.0} MiB",
        du(&de.dir.join("data")) as f64 / 1048576.0
    );

    // The console serves on the restarted node, to time its pages at this size.
    let web_addr = format!("127.0.0.1:{}", free_port());
    let mut config = std::fs::read_to_string(de.config())?;
    config.push_str(&format!("\n[web]\nlisten = \"{web_addr}\"\n"));
    std::fs::write(de.config(), config)?;
    let t = Instant::now();
    fed.restart(&de).await?;
    println!(
        "start-up (spawn until status answers): {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let profile = de.issue("analyst", "scale");
    let mut client = exchange_client(&profile).await?;

    let mut firsts = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let page = client
            .list_alerts(ListRecordsRequest {
                limit: 50,
                ..Default::default()
            })
            .await?
            .into_inner();
        firsts.push(t.elapsed());
        anyhow::ensure!(
            page.records.len() == 50,
            "first page has {}",
            page.records.len()
        );
    }
    println!(
        "alert list --limit 50 (gRPC, median of 20): {:.1} ms",
        median(firsts)
    );

    // Deep in store order: page through half the alerts, then time pages there.
    let mut token = String::new();
    let mut seen = 0usize;
    while seen < held / 2 {
        let page = client
            .list_alerts(ListRecordsRequest {
                page_size: 1000,
                page_token: token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        seen += page.records.len();
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let mut deep = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let page = client
            .list_alerts(ListRecordsRequest {
                page_size: 50,
                page_token: token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        deep.push(t.elapsed());
        anyhow::ensure!(!page.records.is_empty(), "deep page empty");
    }
    println!(
        "a page of 50 after {seen} alerts in store order (gRPC, median of 20): {:.1} ms",
        median(deep)
    );

    let mut shows = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let id = g.probe_id.clone();
        if id.contains("-D-") {
            client.get_denial(GetRecordRequest { id }).await?;
        } else {
            client.get_alert(GetRecordRequest { id }).await?;
        }
        shows.push(t.elapsed());
    }
    println!(
        "show {} (gRPC, median of 20): {:.1} ms",
        g.probe_id,
        median(shows)
    );

    web_pages(&fed, &de, &web_addr, &g.probe_id).await?;

    let admin = de.admin_profile();
    let admin = admin.to_string_lossy().into_owned();
    let analyst = profile.to_string_lossy().into_owned();
    println!(
        "concord stats (whole CLI process): {}",
        shown(timed(&["--profile", &admin, "stats", "--output", "json"]))
    );
    println!(
        "concord alert list --limit 50 (whole CLI process): {}",
        shown(timed(&[
            "--profile",
            &analyst,
            "alert",
            "list",
            "--limit",
            "50"
        ]))
    );
    println!(
        "concord audit verify (whole CLI process, {held} entries or more): {}",
        shown(timed(&["--profile", &admin, "audit", "verify"]))
    );
    println!(
        "concord audit verify --records (every envelope re-verified): {}",
        shown(timed(&[
            "--profile",
            &admin,
            "audit",
            "verify",
            "--records"
        ]))
    );

    // One incoming alert: FR raises it to DE; timed until DE's watchers hear of it.
    fed.restart(&fr).await?;
    // FR's own store never saw the records generated in its name: it pauses
    // issuing until its admin moves past them, as after a lost store.
    timed(&[
        "--profile",
        &fr.admin_profile().to_string_lossy(),
        "resume-issuing",
        "--reason",
        "benchmark records were signed outside this store",
    ])?;
    let mut watch = client.watch_alerts(WatchRequest {}).await?.into_inner();
    let fr_profile = fr.issue("analyst", "scale");
    let mut fr_client = exchange_client(&fr_profile).await?;
    let mut incoming = Vec::new();
    for n in 0..10 {
        let t = Instant::now();
        let raised = fr_client
            .raise_alert(RaiseAlertRequest {
                category: "diversion-suspected".into(),
                severity: "high".into(),
                summary: format!("incoming {n} about {}", g.probe_name),
                indicators: vec![],
                handling: String::new(),
                distribution: Some(concord_proto::v1::Distribution {
                    to: vec!["DE".into()],
                    groups: vec![],
                }),
                ..RaiseAlertRequest::default()
            })
            .await?
            .into_inner();
        loop {
            let v = tokio::time::timeout(Duration::from_secs(60), watch.message())
                .await
                .context("no alert at DE within 60 s")??
                .context("watch ended")?;
            if v.id == raised.id {
                break;
            }
        }
        incoming.push(t.elapsed());
    }
    println!(
        "one incoming alert, FR raise until DE's watcher is told (median of 10): {:.0} ms",
        median(incoming)
    );
    rescoring(&mut fed, &de, &mut fr_client, &g).await?;
    let pid = fed.node("DE").pid();
    println!(
        "DE RSS after the run: {:.0} MiB",
        rss_kib(pid) as f64 / 1024.0
    );
    Ok(())
}
