//! Exchanged records (alerts and denials) as shown to people and programs:
//! the JSON shape of a record version, list tables, version blocks with the
//! signature check and delivery table, and watch lines. Shared by `alert`,
//! `denial` and `demo`.
//!
//! Rendering is pure: wire records in, strings and serializable values out.

use clap::Args;
use concord_node::identity::Jurisdiction;
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::exit::CliError;
use crate::output::{key_values, or_dash, rfc3339, time_or_never, yes_no, Table};

/// Who a new record goes to. Recipients are the named jurisdictions plus the
/// members of the named sharing groups.
#[derive(Debug, Clone, Default, Args)]
pub struct DistributionArgs {
    /// Recipient jurisdictions, comma-separated or repeated, e.g. DE,FR.
    #[arg(long, value_name = "J,...", value_delimiter = ',')]
    pub to: Vec<String>,
    /// A sharing group of this node whose members receive the record (repeatable).
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
}

/// Records per ListAlerts/ListDenials page when the CLI reads a whole listing.
pub const PAGE_SIZE: u32 = 500;

/// Runs a ListAlerts/ListDenials `request` through `call`, following every
/// `next_page_token`: the node bounds each response in bytes, so a listing
/// of any size arrives whole. With a limit, the newest `limit` records (the
/// node's newest-first order, continued until `limit` arrived); without,
/// every page in store order, shown newest first like an unpaged listing.
pub async fn list_all<F, Fut>(
    request: pb::ListRecordsRequest,
    mut call: F,
) -> Result<Vec<pb::RecordView>, tonic::Status>
where
    F: FnMut(pb::ListRecordsRequest) -> Fut,
    Fut: std::future::Future<Output = Result<pb::ListRecordsResponse, tonic::Status>>,
{
    let limit = request.limit as usize;
    let mut request = if limit != 0 {
        request
    } else {
        pb::ListRecordsRequest {
            page_size: PAGE_SIZE,
            ..request
        }
    };
    let mut all = Vec::new();
    loop {
        let page = call(request.clone()).await?;
        all.extend(page.records);
        if page.next_page_token.is_empty() || (limit != 0 && all.len() >= limit) {
            break;
        }
        if limit != 0 {
            request.limit = u32::try_from(limit - all.len()).unwrap_or(u32::MAX);
        }
        request.page_token = page.next_page_token;
    }
    if limit != 0 {
        all.truncate(limit);
    } else {
        all.sort_by_key(|r| std::cmp::Reverse(r.issued_at_unix_ms));
    }
    Ok(all)
}

/// One stored record version. Times are RFC 3339 UTC; absent times are null.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordOut {
    pub id: String,
    /// `alert` or `denial`.
    pub kind: &'static str,
    pub issuer: String,
    pub version: u32,
    pub seq: u64,
    pub recipients: Vec<String>,
    /// Whether the issuer's signature holds: verified in full when the node
    /// stored these bytes, and checked against that when it answered (the
    /// body, the key's validity, the stored digest); `audit verify
    /// --records` verifies every envelope in full again.
    pub signature_valid: bool,
    /// Why the signature did not verify; null when valid.
    pub signature_error: Option<String>,
    pub key_id: String,
    /// Hex SHA-256 digest of the signed envelope.
    pub digest: String,
    pub stored_at: Option<String>,
    /// Alert: neither withdrawn nor expired. Denial: not revoked and not
    /// past its end date.
    pub active: bool,
    /// in-force, expired, revoked or withdrawn.
    pub standing: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<AlertOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denial: Option<DenialOut>,
    /// Per recipient, for records the answering node issued.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deliveries: Vec<DeliveryOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertOut {
    pub category: String,
    pub severity: String,
    pub subjects: SubjectsOut,
    pub indicators: Vec<String>,
    pub summary: String,
    pub issued_at: Option<String>,
    /// Null: does not expire.
    pub expires_at: Option<String>,
    pub handling: String,
    /// active, amended or withdrawn.
    pub state: String,
    /// Why this version was made; empty for version 1.
    pub change_reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SubjectsOut {
    pub parties: Vec<PartyOut>,
    pub destinations: Vec<String>,
    pub items: Vec<String>,
    pub shipments: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PartyOut {
    pub name: String,
    pub aliases: Vec<String>,
    pub country: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DenialOut {
    pub version: u32,
    /// active, amended or revoked.
    pub state: String,
    pub party: PartyOut,
    pub items: Vec<ItemOut>,
    pub destination: String,
    pub end_use: String,
    pub reason: String,
    pub decision_date: Option<String>,
    /// Null: no end date.
    pub valid_until: Option<String>,
    /// Why this version was made; empty for version 1.
    pub change_reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemOut {
    pub code: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryOut {
    pub recipient: String,
    /// pending, delivered or expired.
    pub state: String,
    /// When it was delivered or expired; null while pending.
    pub at: Option<String>,
    /// Whether the recipient's signed receipt verifies.
    pub receipt_valid: bool,
    pub duplicate: bool,
}

impl From<&pb::Delivery> for DeliveryOut {
    fn from(d: &pb::Delivery) -> Self {
        DeliveryOut {
            recipient: d.recipient.clone(),
            state: d.state.clone(),
            at: rfc3339(d.at_unix_ms),
            receipt_valid: d.receipt_valid,
            duplicate: d.duplicate,
        }
    }
}

fn party(p: &pb::Party) -> PartyOut {
    PartyOut {
        name: p.name.clone(),
        aliases: p.aliases.clone(),
        country: p.country.clone(),
        address: p.address.clone(),
    }
}

impl From<&pb::RecordView> for RecordOut {
    fn from(v: &pb::RecordView) -> Self {
        let (kind, alert, denial) = match &v.record {
            Some(pb::record_view::Record::Alert(a)) => {
                let s = a.subjects.clone().unwrap_or_default();
                let alert = AlertOut {
                    category: a.category.clone(),
                    severity: a.severity.clone(),
                    subjects: SubjectsOut {
                        parties: s.parties.iter().map(party).collect(),
                        destinations: s.destinations,
                        items: s.items,
                        shipments: s.shipments,
                    },
                    indicators: a.indicators.clone(),
                    summary: a.summary.clone(),
                    issued_at: rfc3339(a.issued_at_unix_ms),
                    expires_at: rfc3339(a.expires_at_unix_ms),
                    handling: a.handling.clone(),
                    state: a.state.clone(),
                    change_reason: a.change_reason.clone(),
                };
                ("alert", Some(alert), None)
            }
            Some(pb::record_view::Record::Denial(d)) => {
                let denial = DenialOut {
                    version: d.version,
                    state: d.state.clone(),
                    party: d.party.as_ref().map(party).unwrap_or_default(),
                    items: d
                        .items
                        .iter()
                        .map(|i| ItemOut {
                            code: i.code.clone(),
                            description: i.description.clone(),
                        })
                        .collect(),
                    destination: d.destination.clone(),
                    end_use: d.end_use.clone(),
                    reason: d.reason.clone(),
                    decision_date: rfc3339(d.decision_date_unix_ms),
                    valid_until: rfc3339(d.valid_until_unix_ms),
                    change_reason: d.change_reason.clone(),
                };
                ("denial", None, Some(denial))
            }
            None => ("unknown", None, None),
        };
        RecordOut {
            id: v.id.clone(),
            kind,
            issuer: v.issuer.clone(),
            version: v.version,
            seq: v.seq,
            recipients: v.recipients.clone(),
            signature_valid: v.signature_valid,
            signature_error: signature_error(v.signature_valid, &v.signature_error),
            key_id: v.key_id.clone(),
            digest: v.digest_hex.clone(),
            stored_at: rfc3339(v.stored_at_unix_ms),
            active: v.active,
            standing: v.standing.clone(),
            alert,
            denial,
            deliveries: v.deliveries.iter().map(DeliveryOut::from).collect(),
        }
    }
}

impl RecordOut {
    /// `valid` or `INVALID (<reason>)`.
    pub fn signature(&self) -> String {
        signature_text(self.signature_valid, self.signature_error.as_deref())
    }

    /// Shorter form for tables.
    fn signature_short(&self) -> &'static str {
        if self.signature_valid {
            "valid"
        } else {
            "INVALID"
        }
    }
}

/// Why a signed record's signature did not verify, as its JSON
/// `signature_error`: null when it is valid, never empty when it is not.
pub fn signature_error(valid: bool, error: &str) -> Option<String> {
    (!valid).then(|| match error {
        "" => "no reason given".to_owned(),
        e => e.to_owned(),
    })
}

/// A signature check as people read it: `valid` or `INVALID (<reason>)`.
pub fn signature_text(valid: bool, error: Option<&str>) -> String {
    match error {
        None if valid => "valid".to_owned(),
        None => "INVALID (no reason given)".to_owned(),
        Some(e) => format!("INVALID ({e})"),
    }
}

/// `{"records": [...]}` for `alert list` and `denial list`.
#[derive(Debug, Serialize)]
pub struct RecordList {
    pub records: Vec<RecordOut>,
}

/// Every version of one record, oldest first, for `alert show` and `denial show`.
#[derive(Debug, Serialize)]
pub struct HistoryOut {
    pub id: String,
    pub kind: &'static str,
    pub issuer: String,
    /// The current (latest) version's state: for denials active, amended or
    /// revoked; for alerts active, amended or withdrawn.
    pub state: String,
    pub active: bool,
    /// in-force, expired, revoked or withdrawn.
    pub standing: String,
    pub versions: Vec<RecordOut>,
    /// Denials: the notices held of licences granted despite this denial.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrantOut {
    pub notice_id: String,
    pub granted_by: String,
    pub license_id: String,
    pub rationale: String,
    pub issued_at: Option<String>,
    pub signature_valid: bool,
}

impl From<&pb::GrantSeen> for GrantOut {
    fn from(g: &pb::GrantSeen) -> Self {
        GrantOut {
            notice_id: g.notice_id.clone(),
            granted_by: g.granted_by.clone(),
            license_id: g.license_id.clone(),
            rationale: g.rationale.clone(),
            issued_at: rfc3339(g.issued_at_unix_ms),
            signature_valid: g.signature_valid,
        }
    }
}

impl HistoryOut {
    pub fn new(id: &str, versions: Vec<RecordOut>) -> Self {
        let current = versions.last();
        let state = match current {
            Some(RecordOut {
                denial: Some(d), ..
            }) => d.state.clone(),
            Some(RecordOut { alert: Some(a), .. }) => a.state.clone(),
            _ => "unknown".to_owned(),
        };
        HistoryOut {
            id: id.to_owned(),
            kind: current.map_or("unknown", |r| r.kind),
            issuer: current.map(|r| r.issuer.clone()).unwrap_or_default(),
            state,
            active: current.is_some_and(|r| r.active),
            standing: current.map_or_else(|| "unknown".to_owned(), |r| r.standing.clone()),
            grants: Vec::new(),
            versions,
        }
    }

    /// `in force`, or `not in force`, with the standing when the state
    /// does not already say it (`active, not in force (expired)`).
    fn in_force_text(&self) -> String {
        if self.active {
            "in force".to_owned()
        } else if self.standing == self.state || self.standing == "unknown" {
            "not in force".to_owned()
        } else {
            format!("not in force ({})", standing_text(&self.standing))
        }
    }

    pub fn render(&self) -> String {
        let count = self.versions.len();
        let mut out = format!(
            "{} {} from {}: {}, {} ({count} version{})\n",
            capitalised(self.kind),
            self.id,
            self.issuer,
            self.state,
            self.in_force_text(),
            if count == 1 { "" } else { "s" }
        );
        for (i, v) in self.versions.iter().enumerate() {
            out.push('\n');
            let current = if i + 1 == count { " (current)" } else { "" };
            out.push_str(&render_version(
                v,
                &format!("Version {}{current}", v.version),
            ));
        }
        for g in &self.grants {
            out.push_str(&format!(
                "\nGranted despite this denial: {} by {} (notice {}, {}, signature {}): {}\n",
                g.license_id,
                g.granted_by,
                g.notice_id,
                g.issued_at.clone().unwrap_or_default(),
                if g.signature_valid {
                    "valid"
                } else {
                    "INVALID"
                },
                g.rationale.replace('\n', " ")
            ));
        }
        out
    }
}

/// `in-force` as people read it.
fn standing_text(standing: &str) -> String {
    standing.replace('-', " ")
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn join(values: &[String]) -> String {
    or_dash(&values.join(", "))
}

fn party_text(p: &PartyOut) -> String {
    let mut text = p.name.clone();
    if !p.country.is_empty() {
        text.push_str(&format!(" ({})", p.country));
    }
    if !p.aliases.is_empty() {
        text.push_str(&format!(", a.k.a. {}", p.aliases.join(", ")));
    }
    if !p.address.is_empty() {
        text.push_str(&format!("; {}", p.address));
    }
    text
}

fn items_text(items: &[ItemOut]) -> String {
    let texts: Vec<String> = items
        .iter()
        .map(|i| match i.description.as_str() {
            "" => i.code.clone(),
            d => format!("{} ({d})", i.code),
        })
        .collect();
    join(&texts)
}

/// A titled block of one record version: the envelope, the signature check,
/// the record's fields, and the delivery table if there is one.
pub fn render_version(r: &RecordOut, title: &str) -> String {
    let opt = |t: &Option<String>, none: &str| t.clone().unwrap_or_else(|| none.to_owned());
    let mut pairs: Vec<(&str, String)> = vec![
        ("id", r.id.clone()),
        ("issuer", r.issuer.clone()),
        ("version", r.version.to_string()),
        ("seq", r.seq.to_string()),
        ("recipients", join(&r.recipients)),
        ("signature", r.signature()),
        ("key id", r.key_id.clone()),
        ("digest", r.digest.clone()),
    ];
    // Records relayed in a task-force answer carry no local storage time.
    if let Some(at) = &r.stored_at {
        pairs.push(("stored at", at.clone()));
    }
    pairs.push(("active", yes_no(r.active).to_owned()));
    pairs.push(("standing", standing_text(&r.standing)));
    if let Some(a) = &r.alert {
        let parties: Vec<String> = a.subjects.parties.iter().map(party_text).collect();
        pairs.extend([
            ("category", a.category.clone()),
            ("severity", a.severity.clone()),
            ("summary", a.summary.clone()),
            ("parties", join(&parties)),
            ("destinations", join(&a.subjects.destinations)),
            ("items", join(&a.subjects.items)),
            ("shipments", join(&a.subjects.shipments)),
            ("indicators", join(&a.indicators)),
            ("handling", or_dash(&a.handling)),
            ("state", a.state.clone()),
            ("rationale", or_dash(&a.change_reason)),
            ("issued at", opt(&a.issued_at, "unknown")),
            ("expires at", opt(&a.expires_at, "never")),
        ]);
    }
    if let Some(d) = &r.denial {
        pairs.extend([
            ("state", d.state.clone()),
            ("party", party_text(&d.party)),
            ("items", items_text(&d.items)),
            ("destination", d.destination.clone()),
            ("end use", or_dash(&d.end_use)),
            ("reason", d.reason.clone()),
            ("decision date", opt(&d.decision_date, "unknown")),
            ("valid until", opt(&d.valid_until, "no end date")),
            ("change reason", or_dash(&d.change_reason)),
        ]);
    }
    let mut out = key_values(title, &pairs);
    if !r.deliveries.is_empty() {
        out.push_str("  deliveries\n");
        let mut table = Table::new(["RECIPIENT", "STATE", "WHEN", "RECEIPT"]);
        for d in &r.deliveries {
            let receipt = match (d.state.as_str(), d.receipt_valid) {
                ("delivered", true) if d.duplicate => "valid (duplicate)",
                ("delivered", true) => "valid",
                ("delivered", false) => "INVALID",
                _ => "-",
            };
            table.row([
                d.recipient.clone(),
                d.state.clone(),
                d.at.clone().unwrap_or_else(|| "-".to_owned()),
                receipt.to_owned(),
            ]);
        }
        for line in table.render().lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}

/// The alert list table.
pub fn alert_table(records: &[RecordOut]) -> String {
    if records.is_empty() {
        return "No alerts held.\n".to_owned();
    }
    let mut table = Table::new([
        "ID",
        "ISSUER",
        "VERSION",
        "SEVERITY",
        "CATEGORY",
        "ISSUED",
        "EXPIRES",
        "STANDING",
        "SIGNATURE",
        "SUMMARY",
    ]);
    for r in records {
        let a = r.alert.as_ref();
        table.row([
            r.id.clone(),
            r.issuer.clone(),
            r.version.to_string(),
            a.map(|a| a.severity.clone()).unwrap_or_default(),
            a.map(|a| a.category.clone()).unwrap_or_default(),
            a.and_then(|a| a.issued_at.clone()).unwrap_or_default(),
            a.and_then(|a| a.expires_at.clone())
                .unwrap_or_else(|| "never".to_owned()),
            r.standing.clone(),
            r.signature_short().to_owned(),
            a.map(|a| shorten(&a.summary, 60)).unwrap_or_default(),
        ]);
    }
    table.render()
}

/// The denial list table.
pub fn denial_table(records: &[RecordOut]) -> String {
    if records.is_empty() {
        return "No denials held.\n".to_owned();
    }
    let mut table = Table::new([
        "ID",
        "ISSUER",
        "VERSION",
        "STATE",
        "PARTY",
        "DESTINATION",
        "ITEMS",
        "VALID UNTIL",
        "ACTIVE",
        "SIGNATURE",
    ]);
    for r in records {
        let d = r.denial.as_ref();
        let codes: Vec<String> = d
            .map(|d| d.items.iter().map(|i| i.code.clone()).collect())
            .unwrap_or_default();
        table.row([
            r.id.clone(),
            r.issuer.clone(),
            r.version.to_string(),
            d.map(|d| d.state.clone()).unwrap_or_default(),
            d.map(|d| shorten(&d.party.name, 40)).unwrap_or_default(),
            d.map(|d| d.destination.clone()).unwrap_or_default(),
            join(&codes),
            d.and_then(|d| d.valid_until.clone())
                .unwrap_or_else(|| "-".to_owned()),
            yes_no(r.active).to_owned(),
            r.signature_short().to_owned(),
        ]);
    }
    table.render()
}

/// One line per watched alert: `<stored at>  <id> v<version> <standing>
/// from <issuer>  <severity> <category>  signature <state>  <summary>`.
pub fn watch_line(r: &RecordOut) -> String {
    let (severity, category, summary) = r.alert.as_ref().map_or(("", "", ""), |a| {
        (a.severity.as_str(), a.category.as_str(), a.summary.as_str())
    });
    format!(
        "{}  {} v{} {}  from {}  {severity} {category}  signature {}  {}",
        r.stored_at.clone().unwrap_or_else(|| time_or_never(0)),
        r.id,
        r.version,
        r.standing,
        r.issuer,
        r.signature(),
        summary.replace(['\n', '\r'], " ")
    )
}

/// At most `max` characters, with an ellipsis when cut.
fn shorten(s: &str, max: usize) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Checks a jurisdiction code given on the command line.
pub fn jurisdiction(flag: &str, value: &str) -> Result<String, CliError> {
    value
        .trim()
        .parse::<Jurisdiction>()
        .map(|j| j.to_string())
        .map_err(|e| CliError::invalid_argument(format!("{flag}: {e}")))
}

/// Checks jurisdiction codes given on the command line (e.g. `--to`).
pub fn jurisdictions(flag: &str, values: &[String]) -> Result<Vec<String>, CliError> {
    values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| jurisdiction(flag, v))
        .collect()
}

/// An optional `--issuer` filter: empty when absent.
pub fn issuer_filter(value: Option<&str>) -> Result<String, CliError> {
    value.map_or(Ok(String::new()), |v| jurisdiction("--issuer", v))
}

/// An optional `--since` filter in Unix milliseconds: 0 when absent.
pub fn since_filter(value: Option<&str>, now_unix_ms: i64) -> Result<i64, CliError> {
    value.map_or(Ok(0), |v| {
        crate::duration::parse_since(v, now_unix_ms)
            .map_err(|e| CliError::invalid_argument(format!("--since: {e}")))
    })
}

/// The wire distribution of `--to` and `--group`; at least one is needed.
pub fn distribution(d: &DistributionArgs) -> Result<pb::Distribution, CliError> {
    let to = jurisdictions("--to", &d.to)?;
    if to.is_empty() && d.groups.is_empty() {
        return Err(CliError::invalid_argument(
            "name the recipients with --to J,... and/or --group NAME",
        ));
    }
    Ok(pb::Distribution {
        to,
        groups: d.groups.clone(),
    })
}

/// Checks a two-letter upper-case country code given on the command line.
pub fn country(flag: &str, value: &str) -> Result<String, CliError> {
    let v = value.trim().to_ascii_uppercase();
    if v.len() == 2 && v.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(v)
    } else {
        Err(CliError::invalid_argument(format!(
            "{flag}: {value:?} is not a two-letter country code"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert_view() -> pb::RecordView {
        pb::RecordView {
            id: "DE-A-3".into(),
            issuer: "DE".into(),
            version: 1,
            seq: 3,
            recipients: vec!["FR".into()],
            key_id: "00ff".into(),
            signature_valid: true,
            signature_error: String::new(),
            digest_hex: "ab".repeat(32),
            stored_at_unix_ms: 1_700_000_000_123,
            issued_at_unix_ms: 1_700_000_000_000,
            active: true,
            standing: "in-force".into(),
            record: Some(pb::record_view::Record::Alert(pb::RiskAlert {
                id: "DE-A-3".into(),
                issuer: "DE".into(),
                category: "diversion-suspected".into(),
                severity: "high".into(),
                subjects: Some(pb::Subjects {
                    parties: vec![pb::Party {
                        name: "Demo Trading".into(),
                        ..Default::default()
                    }],
                    destinations: vec!["ZZ".into()],
                    items: vec!["3A001".into()],
                    shipments: vec![],
                }),
                indicators: vec!["split orders".into()],
                summary: "Suspected diversion".into(),
                issued_at_unix_ms: 1_700_000_000_000,
                expires_at_unix_ms: 0,
                handling: "RESTRICTED".into(),
                version: 1,
                state: "active".into(),
                change_reason: String::new(),
            })),
            deliveries: vec![pb::Delivery {
                recipient: "FR".into(),
                state: "delivered".into(),
                at_unix_ms: 1_700_000_001_000,
                receipt_valid: true,
                duplicate: false,
            }],
        }
    }

    fn denial_view(version: u32, state: &str, valid: bool) -> pb::RecordView {
        pb::RecordView {
            id: "FR-D-1".into(),
            issuer: "FR".into(),
            version,
            seq: u64::from(version),
            recipients: vec!["DE".into(), "JP".into()],
            key_id: "11ee".into(),
            signature_valid: valid,
            signature_error: if valid {
                String::new()
            } else {
                "signature does not verify".into()
            },
            digest_hex: "cd".repeat(32),
            stored_at_unix_ms: 1_700_000_000_000,
            issued_at_unix_ms: 1_700_000_000_000,
            active: state != "revoked",
            standing: if state == "revoked" {
                "revoked"
            } else {
                "in-force"
            }
            .into(),
            record: Some(pb::record_view::Record::Denial(pb::DenialNotice {
                id: "FR-D-1".into(),
                issuer: "FR".into(),
                version,
                state: state.into(),
                party: Some(pb::Party {
                    name: "Demo Components".into(),
                    aliases: vec!["DC".into()],
                    country: "ZZ".into(),
                    address: String::new(),
                }),
                items: vec![pb::DeniedItem {
                    code: "3A001".into(),
                    description: "electronics".into(),
                }],
                destination: "ZZ".into(),
                end_use: String::new(),
                reason: "unverified end user".into(),
                decision_date_unix_ms: 1_700_000_000_000,
                valid_until_unix_ms: 1_731_536_000_000,
                change_reason: if version > 1 {
                    "revoked on appeal".into()
                } else {
                    String::new()
                },
            })),
            deliveries: vec![],
        }
    }

    #[test]
    fn renders_an_alert_as_json() {
        let json = serde_json::to_value(RecordOut::from(&alert_view())).unwrap();
        let expected = serde_json::json!({
            "id": "DE-A-3",
            "kind": "alert",
            "issuer": "DE",
            "version": 1,
            "seq": 3,
            "recipients": ["FR"],
            "signature_valid": true,
            "signature_error": null,
            "key_id": "00ff",
            "digest": "ab".repeat(32),
            "stored_at": "2023-11-14T22:13:20.123Z",
            "active": true,
            "standing": "in-force",
            "alert": {
                "category": "diversion-suspected",
                "severity": "high",
                "subjects": {
                    "parties": [{"name": "Demo Trading", "aliases": [], "country": "", "address": ""}],
                    "destinations": ["ZZ"],
                    "items": ["3A001"],
                    "shipments": []
                },
                "indicators": ["split orders"],
                "summary": "Suspected diversion",
                "issued_at": "2023-11-14T22:13:20.000Z",
                "expires_at": null,
                "handling": "RESTRICTED",
                "state": "active",
                "change_reason": ""
            },
            "deliveries": [{
                "recipient": "FR",
                "state": "delivered",
                "at": "2023-11-14T22:13:21.000Z",
                "receipt_valid": true,
                "duplicate": false
            }]
        });
        assert_eq!(json, expected);
    }

    #[test]
    fn renders_a_denial_as_json_without_deliveries() {
        let json =
            serde_json::to_value(RecordOut::from(&denial_view(2, "revoked", false))).unwrap();
        assert_eq!(json["kind"], "denial");
        assert_eq!(json["signature_valid"], false);
        assert_eq!(json["signature_error"], "signature does not verify");
        assert_eq!(json["active"], false);
        assert!(json.get("alert").is_none());
        assert!(json.get("deliveries").is_none());
        let d = &json["denial"];
        assert_eq!(d["state"], "revoked");
        assert_eq!(d["version"], 2);
        assert_eq!(d["party"]["aliases"][0], "DC");
        assert_eq!(d["items"][0]["code"], "3A001");
        assert_eq!(d["items"][0]["description"], "electronics");
        assert_eq!(d["decision_date"], "2023-11-14T22:13:20.000Z");
        assert_eq!(d["valid_until"], "2024-11-13T22:13:20.000Z");
        assert_eq!(d["change_reason"], "revoked on appeal");
    }

    #[test]
    fn renders_versions_with_signature_state_and_deliveries() {
        let text = render_version(&RecordOut::from(&alert_view()), "Version 1 (current)");
        for expected in [
            "Version 1 (current)\n",
            "  signature     valid\n",
            "  expires at    never\n",
            "  parties       Demo Trading\n",
            "  deliveries\n    RECIPIENT  STATE      WHEN                      RECEIPT\n",
            "    FR         delivered  2023-11-14T22:13:21.000Z  valid\n",
        ] {
            assert!(text.contains(expected), "{expected:?} in\n{text}");
        }
        let history = HistoryOut::new(
            "FR-D-1",
            vec![
                RecordOut::from(&denial_view(1, "active", true)),
                RecordOut::from(&denial_view(2, "revoked", false)),
            ],
        );
        assert_eq!(history.state, "revoked");
        assert!(!history.active);
        let text = history.render();
        for expected in [
            "Denial FR-D-1 from FR: revoked, not in force (2 versions)\n",
            "Version 1\n",
            "Version 2 (current)\n",
            "  signature      INVALID (signature does not verify)\n",
            "  party          Demo Components (ZZ), a.k.a. DC\n",
            "  items          3A001 (electronics)\n",
        ] {
            assert!(text.contains(expected), "{expected:?} in\n{text}");
        }
        assert!(!text.contains("deliveries"));
    }

    #[test]
    fn renders_tables_and_watch_lines() {
        let alerts = alert_table(&[RecordOut::from(&alert_view())]);
        assert!(
            alerts.starts_with("ID      ISSUER  VERSION  SEVERITY  CATEGORY"),
            "{alerts}"
        );
        assert!(alerts.contains("DE-A-3  DE      1        high      diversion-suspected"));
        assert!(alerts.contains("never    in-force  valid"), "{alerts}");
        assert_eq!(alert_table(&[]), "No alerts held.\n");
        let denials = denial_table(&[RecordOut::from(&denial_view(1, "active", true))]);
        assert!(
            denials.contains("FR-D-1  FR      1        active"),
            "{denials}"
        );
        assert_eq!(
            watch_line(&RecordOut::from(&alert_view())),
            "2023-11-14T22:13:20.123Z  DE-A-3 v1 in-force  from DE  high diversion-suspected  \
             signature valid  Suspected diversion"
        );
        assert_eq!(shorten("abcdef", 4), "abc…");
    }

    #[test]
    fn checks_recipients_and_countries() {
        let d = DistributionArgs {
            to: vec!["DE".into(), " FR".into()],
            groups: vec![],
        };
        assert_eq!(distribution(&d).unwrap().to, ["DE", "FR"]);
        let none = DistributionArgs::default();
        assert_eq!(distribution(&none).unwrap_err().exit_code(), 6);
        let bad = DistributionArgs {
            to: vec!["de".into()],
            groups: vec![],
        };
        assert_eq!(distribution(&bad).unwrap_err().exit_code(), 6);
        assert_eq!(country("--destination", "zz").unwrap(), "ZZ");
        assert_eq!(country("--destination", "ZZZ").unwrap_err().exit_code(), 6);
    }
}
