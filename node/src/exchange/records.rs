//! The records jurisdictions exchange: risk alerts and denial notices, in the
//! common schema every node uses (shared/DOMAIN.md section 2).

use serde::{Deserialize, Serialize};

use crate::identity::Jurisdiction;

/// Longest free-text field accepted, in bytes; records are shared widely and
/// must stay small.
pub const MAX_TEXT: usize = 4096;
/// Most entries in any list field (subjects, aliases, items, indicators).
pub const MAX_LIST: usize = 64;

pub(super) use crate::kebab::kebab_enum;

kebab_enum!(
    /// Why an alert was raised.
    AlertCategory {
        HighRiskDestination = "high-risk-destination",
        DiversionSuspected = "diversion-suspected",
        FailedEndUseVerification = "failed-end-use-verification",
        SuspiciousPayment = "suspicious-payment",
        SuspiciousShipment = "suspicious-shipment",
        Other = "other",
    }
);

kebab_enum!(
    Severity {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
);

kebab_enum!(
    /// The state an alert version puts the alert in.
    AlertState {
        Active = "active",
        Amended = "amended",
        Withdrawn = "withdrawn",
    }
);

kebab_enum!(
    /// The state a denial notice version puts the denial in.
    DenialState {
        Active = "active",
        Amended = "amended",
        Revoked = "revoked",
    }
);

/// A person or organisation named in a record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub aliases: Vec<String>,
    /// ISO 3166-1 alpha-2, upper case; empty if unknown.
    pub country: String,
    pub address: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subjects {
    pub parties: Vec<Party>,
    pub destinations: Vec<String>,
    /// Control-list codes such as `3A001` or `ML4`.
    pub items: Vec<String>,
    pub shipments: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskAlert {
    pub id: String,
    pub issuer: Jurisdiction,
    pub category: AlertCategory,
    pub severity: Severity,
    pub subjects: Subjects,
    pub indicators: Vec<String>,
    pub summary: String,
    pub issued_at_unix_ms: i64,
    /// None: does not expire.
    pub expires_at_unix_ms: Option<i64>,
    /// Handling marking, e.g. "RESTRICTED - partners only".
    pub handling: String,
    /// 1 for the original alert, +1 for each amendment or the withdrawal.
    pub version: u32,
    pub state: AlertState,
    /// Why this version was made; empty for version 1.
    pub change_reason: String,
}

/// An alert as version 1 was signed before alerts had versions; every
/// version 1 is still encoded so, which keeps old signatures and old peers
/// working (see `envelope::encode_record`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct FirstAlert {
    pub id: String,
    pub issuer: Jurisdiction,
    pub category: AlertCategory,
    pub severity: Severity,
    pub subjects: Subjects,
    pub indicators: Vec<String>,
    pub summary: String,
    pub issued_at_unix_ms: i64,
    pub expires_at_unix_ms: Option<i64>,
    pub handling: String,
}

impl From<FirstAlert> for RiskAlert {
    fn from(a: FirstAlert) -> RiskAlert {
        RiskAlert {
            id: a.id,
            issuer: a.issuer,
            category: a.category,
            severity: a.severity,
            subjects: a.subjects,
            indicators: a.indicators,
            summary: a.summary,
            issued_at_unix_ms: a.issued_at_unix_ms,
            expires_at_unix_ms: a.expires_at_unix_ms,
            handling: a.handling,
            version: 1,
            state: AlertState::Active,
            change_reason: String::new(),
        }
    }
}

impl RiskAlert {
    /// The first-version form, when this is a first version.
    pub(super) fn as_first(&self) -> Option<FirstAlert> {
        (self.version == 1 && self.state == AlertState::Active && self.change_reason.is_empty())
            .then(|| FirstAlert {
                id: self.id.clone(),
                issuer: self.issuer.clone(),
                category: self.category,
                severity: self.severity,
                subjects: self.subjects.clone(),
                indicators: self.indicators.clone(),
                summary: self.summary.clone(),
                issued_at_unix_ms: self.issued_at_unix_ms,
                expires_at_unix_ms: self.expires_at_unix_ms,
                handling: self.handling.clone(),
            })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeniedItem {
    pub code: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenialNotice {
    pub id: String,
    pub issuer: Jurisdiction,
    /// 1 for the original notice, +1 for each amendment or revocation.
    pub version: u32,
    pub state: DenialState,
    pub party: Party,
    pub items: Vec<DeniedItem>,
    pub destination: String,
    pub end_use: String,
    pub reason: String,
    pub decision_date_unix_ms: i64,
    pub valid_until_unix_ms: Option<i64>,
    /// Why this version was made (amendment or revocation rationale); empty for version 1.
    pub change_reason: String,
}

impl RiskAlert {
    pub fn is_expired(&self, now_unix_ms: i64) -> bool {
        self.expires_at_unix_ms.is_some_and(|t| t <= now_unix_ms)
    }

    pub fn validate(&self) -> Result<(), String> {
        versioned(
            self.version,
            self.state == AlertState::Active,
            &self.change_reason,
        )?;
        text("summary", &self.summary, true)?;
        text("handling", &self.handling, false)?;
        list("indicators", &self.indicators)?;
        subjects(&self.subjects)?;
        if let Some(exp) = self.expires_at_unix_ms {
            if exp <= self.issued_at_unix_ms {
                return Err("expires_at must be after issued_at".into());
            }
            if exp > crate::fields::MAX_TIME_UNIX_MS {
                return Err("expires_at: after the year 9999".into());
            }
        }
        Ok(())
    }
}

impl DenialNotice {
    pub fn validate(&self) -> Result<(), String> {
        party("party", &self.party, true)?;
        if self.items.is_empty() {
            return Err("items: at least one control-list item is required".into());
        }
        if self.items.len() > MAX_LIST {
            return Err(format!("items: at most {MAX_LIST}"));
        }
        for item in &self.items {
            text("items.code", &item.code, true)?;
            text("items.description", &item.description, false)?;
        }
        country("destination", &self.destination, true)?;
        text("end_use", &self.end_use, false)?;
        text("reason", &self.reason, true)?;
        versioned(
            self.version,
            self.state == DenialState::Active,
            &self.change_reason,
        )?;
        if let Some(until) = self.valid_until_unix_ms {
            if until <= self.decision_date_unix_ms {
                return Err("valid_until must be after the decision date".into());
            }
            if until > crate::fields::MAX_TIME_UNIX_MS {
                return Err("valid_until: after the year 9999".into());
            }
        }
        Ok(())
    }
}

/// Version 1 is the active original with no change reason; every later
/// version says why it was made and is not "active".
fn versioned(version: u32, active: bool, change_reason: &str) -> Result<(), String> {
    if version == 0 {
        return Err("version starts at 1".into());
    }
    if (version == 1) != active {
        return Err(format!(
            "version {version}: only version 1 is active, and it is always"
        ));
    }
    text("change_reason", change_reason, version > 1)?;
    if version == 1 && !change_reason.is_empty() {
        return Err("change_reason: version 1 has none".into());
    }
    Ok(())
}

fn text(field: &str, value: &str, required: bool) -> Result<(), String> {
    crate::fields::text(field, value, required, MAX_TEXT)
}

fn list(field: &str, values: &[String]) -> Result<(), String> {
    if values.len() > MAX_LIST {
        return Err(format!("{field}: at most {MAX_LIST} entries"));
    }
    values.iter().try_for_each(|v| text(field, v, true))
}

fn country(field: &str, value: &str, required: bool) -> Result<(), String> {
    if value.is_empty() && !required {
        return Ok(());
    }
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!(
            "{field}: {value:?} is not a two-letter upper-case country code"
        ))
    }
}

fn party(field: &str, p: &Party, required: bool) -> Result<(), String> {
    text(&format!("{field}.name"), &p.name, required)?;
    list(&format!("{field}.aliases"), &p.aliases)?;
    country(&format!("{field}.country"), &p.country, false)?;
    text(&format!("{field}.address"), &p.address, false)
}

fn subjects(s: &Subjects) -> Result<(), String> {
    if s.parties.len() > MAX_LIST {
        return Err(format!("subjects.parties: at most {MAX_LIST}"));
    }
    s.parties
        .iter()
        .try_for_each(|p| party("subjects.party", p, true))?;
    list("subjects.destinations", &s.destinations)?;
    s.destinations
        .iter()
        .try_for_each(|d| country("subjects.destinations", d, true))?;
    list("subjects.items", &s.items)?;
    list("subjects.shipments", &s.shipments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_names_round_trip() {
        for c in AlertCategory::ALL {
            assert_eq!(c.as_str().parse::<AlertCategory>().unwrap(), *c);
        }
        assert_eq!(
            "diversion-suspected".parse::<AlertCategory>().unwrap(),
            AlertCategory::DiversionSuspected
        );
        assert!("Diversion"
            .parse::<AlertCategory>()
            .unwrap_err()
            .contains("expected one of"));
        assert_eq!("critical".parse::<Severity>().unwrap(), Severity::Critical);
    }

    #[test]
    fn validation_names_the_bad_field() {
        let mut a = RiskAlert {
            id: "DE-A-1".into(),
            issuer: "DE".parse().unwrap(),
            category: AlertCategory::Other,
            severity: Severity::Low,
            subjects: Subjects::default(),
            indicators: vec![],
            summary: "x".into(),
            issued_at_unix_ms: 10,
            expires_at_unix_ms: Some(20),
            handling: String::new(),
            version: 1,
            state: AlertState::Active,
            change_reason: String::new(),
        };
        assert!(a.validate().is_ok());
        let withdrawn = RiskAlert {
            version: 2,
            state: AlertState::Withdrawn,
            ..a.clone()
        };
        assert!(withdrawn.validate().unwrap_err().contains("change_reason"));
        assert!(RiskAlert {
            change_reason: "raised in error".into(),
            ..withdrawn.clone()
        }
        .validate()
        .is_ok());
        assert!(RiskAlert {
            state: AlertState::Active,
            change_reason: "x".into(),
            ..withdrawn
        }
        .validate()
        .unwrap_err()
        .contains("only version 1"));
        a.subjects.destinations.push("iran".into());
        assert!(a.validate().unwrap_err().contains("subjects.destinations"));
        a.subjects.destinations.clear();
        a.summary = "x".repeat(MAX_TEXT + 1);
        assert!(a.validate().unwrap_err().contains("summary"));
        a.summary = "ok".into();
        a.expires_at_unix_ms = Some(5);
        assert!(a.validate().unwrap_err().contains("expires_at"));
        assert!(a.is_expired(30) || a.expires_at_unix_ms == Some(5));
    }
}
