//! Licensing with its safeguards, through a real node (release build): how
//! long submitting an application (recorded, then screened and scored before
//! the answer) and deciding it (a fresh risk picture, the open-hit check, the
//! decision with its audit entry, durable) take, with the full 2021 OFAC SDN
//! list imported (../shared/data/sanctions) and N applications on record.
//!
//!   cargo build --release --workspace --bins --examples
//!   target/release/examples/licensing_bench [--data DIR] [--applications N]
//!
//! Each application names three parties with ordinary German and Emirati
//! company names (no hit), 3A001 to AE: one officer decides (medium band).
//! Calls are sequential: the figures are latencies, not throughput.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use concord_proto::v1 as pb;
use concord_tests::*;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(what: &str, mut d: Vec<Duration>) {
    d.sort();
    println!(
        "{what:<28} n={:<5} p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        d.len(),
        pct(&d, 0.5),
        pct(&d, 0.9),
        pct(&d, 0.99),
        pct(&d, 1.0)
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    init();
    let data: PathBuf = bench_arg(
        "--data",
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/sanctions"),
    );
    let n: usize = bench_arg("--applications", 300);
    let root = tempfile::tempdir()?;
    let de = NodeDir::init(root.path(), "DE");
    let _node = NodeProcess::start(&de).await?;
    let admin = de.admin_profile();
    let officer = de.issue("officer", "olivia");
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/sample.csv");
    concord_ok(&[
        "--profile",
        path_str(&admin),
        "catalog",
        "import",
        path_str(&catalog),
    ]);
    let sdn = data.join("ofac_sdn_2021-07-07");
    let t = Instant::now();
    concord_ok(&[
        "--profile",
        path_str(&admin),
        "screen",
        "import",
        "--format",
        "ofac-csv",
        "--list",
        "ofac-sdn",
        path_str(&sdn),
    ]);
    println!(
        "imported the SDN list in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let mut l = licensing_client(&officer).await?;
    let party = |name: String, country: &str| pb::CreatePartyRequest {
        name,
        country: country.to_owned(),
        allow_similar: true,
        ..Default::default()
    };
    let (mut submit, mut decide) = (Vec::new(), Vec::new());
    for i in 0..n {
        let applicant = l
            .create_party(party(format!("Nordwerk Elektronik {i} GmbH"), "DE"))
            .await?
            .into_inner()
            .id;
        let end_user = l
            .create_party(party(format!("Gulf Integrated Systems {i} LLC"), "AE"))
            .await?
            .into_inner()
            .id;
        let consignee = l
            .create_party(party(format!("Jebel Ali Forwarding {i} FZE"), "AE"))
            .await?
            .into_inner()
            .id;
        let t = Instant::now();
        let sub = l
            .submit_license(pb::SubmitLicenseRequest {
                applicant,
                items: vec![pb::LicenseItem {
                    code: "3A001".into(),
                    quantity: 10,
                    value: Some(pb::Money {
                        minor_units: 1_000_000,
                        currency: "EUR".into(),
                    }),
                    ..Default::default()
                }],
                end_user: end_user.clone(),
                consignee,
                intermediaries: vec![],
                destination: "AE".into(),
                end_use: "telecommunications".into(),
            })
            .await?
            .into_inner();
        submit.push(t.elapsed());
        l.review_license(pb::LicenseActionRequest {
            id: sub.id.clone(),
            rationale: "file complete".into(),
        })
        .await?;
        let t = Instant::now();
        let done = l
            .decide_license(pb::DecideLicenseRequest {
                id: sub.id.clone(),
                decision: "approve".into(),
                rationale: "end user verified".into(),
                ..Default::default()
            })
            .await
            .with_context(|| format!("approving {}", sub.id))?
            .into_inner();
        decide.push(t.elapsed());
        anyhow::ensure!(done.state == "approved", "{} is {}", done.id, done.state);
    }
    report("submit (screen + score)", submit);
    report("decide approve (fresh risk)", decide);
    Ok(())
}
