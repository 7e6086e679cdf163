//! The licensing records a jurisdiction keeps (shared/DOMAIN.md section 1):
//! catalog entries, parties, license applications with their decision
//! history, waivers, shipments, end-use checks and voluntary disclosures,
//! and the checks every field passes before it is stored.

use serde::{Deserialize, Serialize};

use super::lifecycle::{LicenseAction, LicenseState};
use super::review::{DecisionReviewed, PendingDecision, RejectedDecision};
use super::terms::{Discrepancy, ReviewFlag, ShippedItem, Terms};
use crate::error::Error;
use crate::exchange::records::Party as NoticeParty;
use crate::identity::Jurisdiction;

/// Longest name (party, alias, title, identifier, reference), in bytes.
pub const MAX_NAME: usize = 256;
/// Longest free text (rationale, findings, end use, description), in bytes.
pub const MAX_TEXT: usize = 4096;
/// Most entries in a list field (aliases, identifiers, items, route, codes).
pub const MAX_LIST: usize = 64;
/// Most intermediaries of one application.
pub const MAX_INTERMEDIARIES: usize = 16;
/// Longest control-list code, in bytes.
pub const MAX_CODE: usize = 32;
/// Most entries in one catalog version.
pub const MAX_CATALOG_ENTRIES: usize = 100_000;

use crate::kebab::kebab_enum;

kebab_enum!(
    /// What kind of goods a control-list entry covers.
    Category {
        Military = "military",
        DualUse = "dual-use",
    }
);

kebab_enum!(
    WaiverKind {
        Humanitarian = "humanitarian",
        UrgentDefense = "urgent-defense",
        CountryException = "country-exception",
    }
);

kebab_enum!(
    CheckResult {
        Pass = "pass",
        Fail = "fail",
        Inconclusive = "inconclusive",
    }
);

/// One control-list entry of one catalog version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// e.g. `ML4`, `3A001`, `5A002.a.1`.
    pub code: String,
    pub title: String,
    pub category: Category,
    /// 1..=3, 3 most sensitive.
    pub tier: u8,
    /// The published rationale for listing the item.
    pub rationale: String,
}

impl CatalogEntry {
    /// Every problem of the entry, for import reports that name them all.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = check_code("code", &self.code) {
            out.push(e);
        }
        if let Err(e) = text("title", &self.title, true, MAX_NAME) {
            out.push(e);
        }
        if !(1..=3).contains(&self.tier) {
            out.push(format!("tier: {} is not 1, 2 or 3", self.tier));
        }
        if let Err(e) = text("rationale", &self.rationale, true, MAX_TEXT) {
            out.push(e);
        }
        out
    }
}

/// One imported catalog version; its entries are stored beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogVersion {
    pub version: u32,
    pub imported_at_unix_ms: i64,
    pub actor: String,
    pub source: String,
    pub entries: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    /// e.g. `vat`, `lei`, `duns`.
    pub kind: String,
    pub value: String,
}

/// A person or organisation licensing records name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub address: String,
    pub identifiers: Vec<Identifier>,
    pub created_at_unix_ms: i64,
    pub created_by: String,
    // Kept beside the record (tree `licensing_party_ext`), so stores written
    // before revisions existed read unchanged.
    /// 1 for a party never updated.
    #[serde(skip)]
    pub revision: u32,
    /// Earlier versions, oldest first.
    #[serde(skip)]
    pub history: Vec<PartyVersion>,
}

/// A party as exchanged records name it (a denial's party, an alert's
/// subject): who it is and where, without the node's own id, identifiers
/// or history.
impl From<Party> for NoticeParty {
    fn from(p: Party) -> Self {
        NoticeParty {
            name: p.name,
            aliases: p.aliases,
            country: p.country,
            address: p.address,
        }
    }
}

/// A party as it was before an update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyVersion {
    pub revision: u32,
    pub name: String,
    pub aliases: Vec<String>,
    pub country: String,
    pub address: String,
    pub identifiers: Vec<Identifier>,
    /// When and by whom it was replaced, and why.
    pub replaced_at_unix_ms: i64,
    pub replaced_by: String,
    pub rationale: String,
}

/// What a caller gives to create a party.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartyDraft {
    pub name: String,
    pub aliases: Vec<String>,
    pub country: String,
    pub address: String,
    pub identifiers: Vec<Identifier>,
}

impl PartyDraft {
    pub fn validate(&self) -> Result<(), Error> {
        text("name", &self.name, true, MAX_NAME).map_err(Error::InvalidArgument)?;
        list("aliases", &self.aliases, MAX_NAME).map_err(Error::InvalidArgument)?;
        country("country", &self.country).map_err(Error::InvalidArgument)?;
        text("address", &self.address, false, MAX_TEXT).map_err(Error::InvalidArgument)?;
        if self.identifiers.len() > MAX_LIST {
            return Err(invalid(format!("identifiers: at most {MAX_LIST}")));
        }
        for i in &self.identifiers {
            text("identifiers.kind", &i.kind, true, MAX_NAME).map_err(Error::InvalidArgument)?;
            text("identifiers.value", &i.value, true, MAX_NAME).map_err(Error::InvalidArgument)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Integer minor units (cents); never negative.
    pub minor_units: i64,
    /// ISO 4217, upper case.
    pub currency: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseItem {
    pub code: String,
    pub description: String,
    pub quantity: u64,
    pub value: Money,
    /// From the catalog version the application was checked against.
    pub category: Category,
    pub tier: u8,
}

/// One step of a license's history: its submission or a transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub action: LicenseAction,
    /// None for the submission.
    pub from: Option<LicenseState>,
    pub to: LicenseState,
    /// The certificate identity that made it, e.g. `DE/officer/olivia`.
    pub officer: String,
    pub at_unix_ms: i64,
    pub rationale: String,
    /// Waivers matching the application when the decision was made.
    pub waivers: Vec<String>,
    /// The denial notice (id, version) this step issued or revoked.
    pub denial: Option<(String, u32)>,
    /// The risk picture and countersignature of a decision (kept beside the
    /// license, tree `licensing_license_ext`).
    #[serde(skip)]
    pub reviewed: Option<DecisionReviewed>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    pub id: String,
    pub state: LicenseState,
    /// Party ids.
    pub applicant: String,
    pub items: Vec<LicenseItem>,
    pub end_user: String,
    pub consignee: String,
    pub intermediaries: Vec<String>,
    pub destination: String,
    pub end_use: String,
    pub catalog_version: u32,
    pub submitted_at_unix_ms: i64,
    pub submitted_by: String,
    pub updated_at_unix_ms: i64,
    /// Oldest first; the first entry is the submission.
    pub history: Vec<Decision>,
    /// The denial notice issued when the application was denied.
    pub denial_id: Option<String>,
    // The rest is kept beside the record (tree `licensing_license_ext`), so
    // stores written before these existed read unchanged.
    /// 1 for an application never amended.
    #[serde(skip)]
    pub revision: u32,
    /// The application's earlier terms, oldest first.
    #[serde(skip)]
    pub revisions: Vec<Revision>,
    /// A decision waiting for a second officer.
    #[serde(skip)]
    pub pending: Option<PendingDecision>,
    #[serde(skip)]
    pub rejected: Vec<RejectedDecision>,
    /// Set by the approval.
    #[serde(skip)]
    pub terms: Option<Terms>,
    /// Why the licence needs to be looked at again (shipment discrepancies).
    #[serde(skip)]
    pub review_flags: Vec<ReviewFlag>,
}

/// An application's terms before an amendment replaced them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub revision: u32,
    pub applicant: String,
    pub items: Vec<LicenseItem>,
    pub end_user: String,
    pub consignee: String,
    pub intermediaries: Vec<String>,
    pub destination: String,
    pub end_use: String,
    pub catalog_version: u32,
    pub replaced_at_unix_ms: i64,
    pub replaced_by: String,
    pub rationale: String,
}

impl License {
    /// The state as shown: an approved licence past its validity is expired.
    pub fn state_at(&self, now_unix_ms: i64) -> LicenseState {
        match (&self.state, &self.terms) {
            (LicenseState::Approved, Some(t)) if now_unix_ms >= t.valid_until_unix_ms => {
                LicenseState::Expired
            }
            (state, _) => *state,
        }
    }

    /// Every party id it names, applicant first.
    pub fn party_ids(&self) -> Vec<&str> {
        let mut out: Vec<&str> = vec![&self.applicant, &self.end_user, &self.consignee];
        out.extend(self.intermediaries.iter().map(String::as_str));
        out
    }

    pub fn codes(&self) -> Vec<String> {
        self.items.iter().map(|i| i.code.clone()).collect()
    }

    /// Whether `party` appears in any role.
    pub fn names_party(&self, party: &str) -> bool {
        self.applicant == party
            || self.end_user == party
            || self.consignee == party
            || self.intermediaries.iter().any(|p| p == party)
    }
}

/// An item as submitted, before the catalog fills in category and tier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemDraft {
    pub code: String,
    pub description: String,
    pub quantity: u64,
    pub value: Money,
}

/// A license application as submitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Application {
    pub applicant: String,
    pub items: Vec<ItemDraft>,
    pub end_user: String,
    pub consignee: String,
    pub intermediaries: Vec<String>,
    pub destination: String,
    pub end_use: String,
}

impl Application {
    /// Field checks that need no stored data.
    pub fn validate(&self) -> Result<(), Error> {
        for (field, id) in [
            ("applicant", &self.applicant),
            ("end_user", &self.end_user),
            ("consignee", &self.consignee),
        ] {
            text(field, id, true, MAX_NAME).map_err(Error::InvalidArgument)?;
        }
        if self.intermediaries.len() > MAX_INTERMEDIARIES {
            return Err(invalid(format!(
                "intermediaries: at most {MAX_INTERMEDIARIES}"
            )));
        }
        list("intermediaries", &self.intermediaries, MAX_NAME).map_err(Error::InvalidArgument)?;
        if self.items.is_empty() {
            return Err(invalid("items: at least one item is required"));
        }
        if self.items.len() > MAX_LIST {
            return Err(invalid(format!("items: at most {MAX_LIST}")));
        }
        for (i, item) in self.items.iter().enumerate() {
            let at = |field: &str| format!("items[{i}].{field}");
            check_code(&at("code"), &item.code).map_err(Error::InvalidArgument)?;
            text(&at("description"), &item.description, false, MAX_TEXT)
                .map_err(Error::InvalidArgument)?;
            if item.quantity == 0 {
                return Err(invalid(format!("{}: must be at least 1", at("quantity"))));
            }
            if item.value.minor_units < 0 {
                return Err(invalid(format!("{}: must not be negative", at("value"))));
            }
            currency(&at("currency"), &item.value.currency).map_err(Error::InvalidArgument)?;
        }
        country("destination", &self.destination).map_err(Error::InvalidArgument)?;
        text("end_use", &self.end_use, true, MAX_TEXT).map_err(Error::InvalidArgument)
    }
}

/// A time-bounded exception (humanitarian, urgent defense, per country).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    pub id: String,
    pub kind: WaiverKind,
    pub destination: String,
    /// Empty: every item.
    pub item_codes: Vec<String>,
    pub justification: String,
    pub valid_until_unix_ms: i64,
    pub created_at_unix_ms: i64,
    pub created_by: String,
}

impl Waiver {
    /// Does this waiver cover an application for `codes` to `destination` at `now`?
    /// Same destination, every item covered (an empty code list covers all),
    /// not expired.
    pub fn matches(&self, destination: &str, codes: &[String], now_unix_ms: i64) -> bool {
        self.destination == destination
            && self.valid_until_unix_ms > now_unix_ms
            && (self.item_codes.is_empty() || codes.iter().all(|c| self.item_codes.contains(c)))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaiverDraft {
    pub kind: WaiverKind,
    pub destination: String,
    pub item_codes: Vec<String>,
    pub justification: String,
    pub valid_until_unix_ms: i64,
}

impl WaiverDraft {
    pub fn validate(&self, now_unix_ms: i64) -> Result<(), Error> {
        country("destination", &self.destination).map_err(Error::InvalidArgument)?;
        if self.item_codes.len() > MAX_LIST {
            return Err(invalid(format!("item_codes: at most {MAX_LIST}")));
        }
        for c in &self.item_codes {
            check_code("item_codes", c).map_err(Error::InvalidArgument)?;
        }
        text("justification", &self.justification, true, MAX_TEXT)
            .map_err(Error::InvalidArgument)?;
        if self.valid_until_unix_ms <= now_unix_ms {
            return Err(invalid(
                "valid_until: a waiver must end in the future (waivers are time-bounded)",
            ));
        }
        Ok(())
    }
}

/// A shipment tracked against an approved license.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub id: String,
    pub license_id: String,
    pub origin: String,
    pub destination: String,
    pub route: Vec<String>,
    pub shipped_at_unix_ms: i64,
    pub reference: String,
    pub recorded_by: String,
    pub recorded_at_unix_ms: i64,
    // Kept beside the record (tree `licensing_shipment_ext`).
    #[serde(skip)]
    pub items: Vec<ShippedItem>,
    /// Set when it was recorded although it failed checks.
    #[serde(skip)]
    pub discrepancy: Option<Discrepancy>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShipmentDraft {
    pub license_id: String,
    pub origin: String,
    pub destination: String,
    pub route: Vec<String>,
    /// None: now.
    pub shipped_at_unix_ms: Option<i64>,
    pub reference: String,
    pub items: Vec<ShippedItem>,
    /// Record it even if it fails checks, as a discrepancy, with this rationale.
    pub discrepancy: Option<String>,
}

impl ShipmentDraft {
    pub fn validate(&self) -> Result<(), Error> {
        super::terms::validate_items(&self.items)?;
        if let Some(r) = &self.discrepancy {
            text("rationale", r, true, MAX_TEXT).map_err(Error::InvalidArgument)?;
        }
        country("origin", &self.origin).map_err(Error::InvalidArgument)?;
        country("destination", &self.destination).map_err(Error::InvalidArgument)?;
        list("route", &self.route, MAX_NAME).map_err(Error::InvalidArgument)?;
        text("reference", &self.reference, false, MAX_NAME).map_err(Error::InvalidArgument)?;
        positive_time("shipped_at", self.shipped_at_unix_ms)
    }
}

/// A post-shipment verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndUseCheck {
    pub id: String,
    pub license_id: String,
    pub result: CheckResult,
    pub findings: String,
    pub checked_at_unix_ms: i64,
    pub officer: String,
    /// The risk alert raised for a failed check.
    pub alert_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckDraft {
    pub license_id: String,
    pub result: CheckResult,
    pub findings: String,
    pub checked_at_unix_ms: Option<i64>,
}

impl CheckDraft {
    pub fn validate(&self) -> Result<(), Error> {
        text("findings", &self.findings, true, MAX_TEXT).map_err(Error::InvalidArgument)?;
        positive_time("checked_at", self.checked_at_unix_ms)
    }
}

/// A firm's report of its own anomaly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    pub id: String,
    pub party_id: String,
    pub description: String,
    pub received_at_unix_ms: i64,
    pub recorded_by: String,
    pub recorded_at_unix_ms: i64,
}

/// Where denial notices from license decisions go when a decision names nobody.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenialDefaults {
    pub to: Vec<Jurisdiction>,
    pub groups: Vec<String>,
    pub updated_at_unix_ms: i64,
    pub updated_by: String,
}

impl DenialDefaults {
    pub fn is_empty(&self) -> bool {
        self.to.is_empty() && self.groups.is_empty()
    }
}

// ---- field checks -----------------------------------------------------------

pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidArgument(message.into())
}

/// Free text: bounded, no control characters other than newline and tab.
pub(crate) use crate::fields::text;

/// A list of required, single-line, bounded strings.
pub(crate) fn list(field: &str, values: &[String], max: usize) -> Result<(), String> {
    if values.len() > MAX_LIST {
        return Err(format!("{field}: at most {MAX_LIST} entries"));
    }
    for v in values {
        text(field, v, true, max)?;
        if v.contains('\n') {
            return Err(format!("{field}: {v:?} spans several lines"));
        }
    }
    Ok(())
}

/// A control-list code: letters, digits, `.` and `-`, starting with a
/// letter or digit, at most [`MAX_CODE`] bytes.
pub fn check_code(field: &str, code: &str) -> Result<(), String> {
    if code.is_empty() {
        return Err(format!("{field}: required"));
    }
    if code.len() > MAX_CODE {
        return Err(format!("{field}: {code:?} is longer than {MAX_CODE} bytes"));
    }
    let ok = code.as_bytes()[0].is_ascii_alphanumeric()
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field}: {code:?} is not a control-list code (letters, digits, '.' and '-', e.g. ML4 or 3A001)"
        ))
    }
}

pub(crate) fn country(field: &str, value: &str) -> Result<(), String> {
    upper_case_code(field, value, 2, "two-letter upper-case country code")
}

pub(crate) fn currency(field: &str, value: &str) -> Result<(), String> {
    upper_case_code(
        field,
        value,
        3,
        "three-letter upper-case currency code (e.g. EUR)",
    )
}

/// An ISO code of `len` upper-case ASCII letters; `what` names it in the error.
fn upper_case_code(field: &str, value: &str, len: usize, what: &str) -> Result<(), String> {
    if value.len() == len && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!("{field}: {value:?} is not a {what}"))
    }
}

fn positive_time(field: &str, t: Option<i64>) -> Result<(), Error> {
    match t {
        Some(ms) if ms <= 0 => Err(invalid(format!("{field}: not a time after 1970"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiver(destination: &str, codes: &[&str], valid_until: i64) -> Waiver {
        Waiver {
            id: "DE-W-1".into(),
            kind: WaiverKind::Humanitarian,
            destination: destination.into(),
            item_codes: codes.iter().map(|c| c.to_string()).collect(),
            justification: "earthquake relief".into(),
            valid_until_unix_ms: valid_until,
            created_at_unix_ms: 1,
            created_by: "DE/officer/o".into(),
        }
    }

    fn check(w: &Waiver, destination: &str, codes: &[&str], now: i64, expected: bool) {
        let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            w.matches(destination, &codes, now),
            expected,
            "{w:?} for {destination} {codes:?} at {now}"
        );
    }

    #[test]
    fn waiver_matching() {
        let all = waiver("UA", &[], 1_000);
        check(&all, "UA", &["ML4", "3A001"], 999, true);
        check(&all, "UA", &["ML4"], 1_000, false); // expired at valid_until
        check(&all, "PL", &["ML4"], 10, false); // other destination
        let some = waiver("UA", &["ML4", "ML13"], 1_000);
        check(&some, "UA", &["ML4"], 10, true);
        check(&some, "UA", &["ML4", "ML13"], 10, true);
        check(&some, "UA", &["ML4", "3A001"], 10, false); // one item not covered
        check(&some, "UA", &["ml4"], 10, false); // codes are exact
    }

    #[test]
    fn codes_and_texts() {
        for ok in ["ML4", "3A001", "5A002.a.1", "ML22-b"] {
            assert!(check_code("code", ok).is_ok(), "{ok}");
        }
        for bad in ["", ".ML4", "ML 4", "ML4\n", "ML4;drop", &"A".repeat(33)] {
            assert!(check_code("code", bad).is_err(), "{bad:?}");
        }
        assert!(text("name", "Acme\u{7}", true, MAX_NAME).is_err());
        assert!(text("name", &"x".repeat(MAX_NAME + 1), true, MAX_NAME).is_err());
        assert!(text("name", " ", true, MAX_NAME).is_err());
        assert!(text("name", "two\nlines", true, MAX_NAME).is_ok());
        assert!(list("aliases", &["two\nlines".into()], MAX_NAME).is_err());
    }

    #[test]
    fn catalog_entries_report_every_problem() {
        let e = CatalogEntry {
            code: "ML 4".into(),
            title: String::new(),
            category: Category::Military,
            tier: 4,
            rationale: "Wassenaar ML4".into(),
        };
        let problems = e.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[2].contains("tier"), "{problems:?}");
    }
}
