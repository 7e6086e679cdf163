//! Screening hits on an application: every match at or above the node's
//! screening threshold of any of its parties (every role, every name and
//! alias) on an imported list or an active denial notice, and what an
//! officer decided about each (a disposition). A hit nobody has disposed of
//! is *open* and stops an approval.
//!
//! Dispositions are kept per party and list entry (tree `risk_dispositions`),
//! so they hold for every application naming the party and survive
//! re-imports of an unchanged list; each remembers a digest of the entry it
//! was made on, and a false positive on an entry that has since changed is
//! open again.

use serde::{Deserialize, Serialize};

use super::assess::{RoleParty, World};
use crate::crypto::sha256;
use crate::error::Result;
use crate::kebab::kebab_enum;
use crate::screening::score::score_names;
use crate::screening::{ScreenMatch, ScreenRequest, Screening};
use crate::store::Tree;

/// The list name under which hits on denial notices appear.
pub const DENIALS: &str = "denial-notices";
/// Most matches one name may bring from the imported lists.
const MATCHES_PER_NAME: usize = 20;

kebab_enum!(
    HitStatus {
        Open = "open",
        FalsePositive = "false-positive",
        Confirmed = "confirmed",
    }
);

/// An officer's decision about one hit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disposition {
    pub status: HitStatus,
    pub rationale: String,
    pub officer: String,
    pub at_unix_ms: i64,
    /// Digest of the list entry the disposition was made on.
    pub entry_digest: String,
    /// The application it was made on.
    pub license_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    /// `<party>/<list>/<source id>`.
    pub id: String,
    pub party_id: String,
    pub role: String,
    /// Our name or alias that matched.
    pub party_name: String,
    pub list: String,
    pub source_id: String,
    /// Who signed it, for denial notices; empty for imported lists.
    pub issuer: String,
    /// The listed name or alias that matched, and the entry's primary name.
    pub matched_name: String,
    pub listed_name: String,
    /// Match score in thousandths (0..=1000).
    pub score_milli: u32,
    pub entry_digest: String,
    pub status: HitStatus,
    pub disposition: Option<Disposition>,
    /// A false positive was recorded on an earlier version of the entry.
    pub entry_changed: bool,
}

impl Hit {
    pub fn score(&self) -> f32 {
        self.score_milli as f32 / 1000.0
    }

    pub fn is_open(&self) -> bool {
        self.status == HitStatus::Open
    }

    pub fn describe(&self) -> String {
        let issuer = if self.issuer.is_empty() {
            String::new()
        } else {
            format!(" issued by {}", self.issuer)
        };
        format!(
            "{} {} {:?} matches {} {}{issuer} {:?} at {:.2}{}",
            self.role,
            self.party_id,
            self.party_name,
            self.list,
            self.source_id,
            self.matched_name,
            self.score(),
            if self.entry_changed {
                "; the entry changed since it was disposed of as a false positive"
            } else {
                ""
            }
        )
    }
}

pub fn hit_id(party: &str, list: &str, source_id: &str) -> String {
    format!("{party}/{list}/{source_id}")
}

pub(super) fn disposition_key(party: &str, list: &str, source_id: &str) -> String {
    format!("{party}\u{0}{list}\u{0}{source_id}")
}

/// What identifies a list entry's content: a change to any of it reopens a
/// false positive.
fn entry_digest(m: &ScreenMatch) -> String {
    let mut countries = m.countries.clone();
    countries.sort();
    let mut text = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
        m.list,
        m.source_id,
        m.entity_type.as_str(),
        m.name,
        countries.join(",")
    );
    // What an officer tells people apart by (dates of birth, identifiers)
    // counts too; appended only when the list gives any, so dispositions
    // made before lists carried them keep their digest.
    let mut tell_apart = [
        m.details.dates_of_birth.clone(),
        m.details.identifiers.clone(),
    ];
    if tell_apart.iter().any(|v| !v.is_empty()) {
        for v in &mut tell_apart {
            v.sort();
            text.push('\u{0}');
            text.push_str(&v.join("\u{1}"));
        }
    }
    hex::encode(&sha256(text.as_bytes())[..16])
}

/// Every hit of `parties` at or above `threshold`, best first, with its status.
pub(super) fn find(
    world: &World,
    screening: &Screening,
    parties: &[RoleParty],
    threshold: f32,
    own_denial: Option<&str>,
    dispositions: &Tree<Disposition>,
) -> Result<Vec<Hit>> {
    let mut out: Vec<Hit> = Vec::new();
    let mut add = |hit: Hit| match out.iter_mut().find(|h| h.id == hit.id) {
        Some(h) if h.score_milli < hit.score_milli => *h = hit,
        Some(_) => {}
        None => out.push(hit),
    };
    for p in parties {
        for name in p.names() {
            if !world.lists.is_empty() {
                let request = ScreenRequest {
                    name: name.clone(),
                    limit: MATCHES_PER_NAME,
                    threshold: Some(threshold),
                    countries: Vec::new(),
                    lists: world.lists.clone(),
                };
                match screening.query(&request) {
                    Ok(result) => {
                        for m in result.matches {
                            add(hit(p, &name, &m.list, &m.source_id, &m, entry_digest(&m)));
                        }
                    }
                    Err(error) => {
                        tracing::debug!(%error, party = %p.party.id, "name not screenable");
                    }
                }
            }
            for d in world.denials() {
                if own_denial == Some(d.id.as_str()) || !world.may_name(d) {
                    continue;
                }
                let best = d
                    .parties
                    .iter()
                    .flatten()
                    .map(|theirs| (score_names(&name, theirs), theirs))
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                if let Some((score, theirs)) = best.filter(|(s, _)| *s >= threshold) {
                    let m = ScreenMatch {
                        list: DENIALS.to_owned(),
                        source_id: d.id.clone(),
                        issuer: d.issuer.clone(),
                        entity_type: crate::screening::EntityType::Unknown,
                        name: d
                            .parties
                            .first()
                            .and_then(|n| n.first())
                            .cloned()
                            .unwrap_or_default(),
                        matched_name: theirs.clone(),
                        score,
                        explanation: String::new(),
                        countries: d.destinations.clone(),
                        ..ScreenMatch::default()
                    };
                    // A new version of the notice is a changed entry.
                    let digest = format!("{}v{}", d.id, d.version);
                    add(hit(p, &name, DENIALS, &d.id, &m, digest));
                }
            }
        }
    }
    for h in &mut out {
        let Some(d) = dispositions.get(disposition_key(&h.party_id, &h.list, &h.source_id))? else {
            continue;
        };
        h.status = match d.status {
            HitStatus::FalsePositive if d.entry_digest != h.entry_digest => {
                h.entry_changed = true;
                HitStatus::Open
            }
            status => status,
        };
        h.disposition = Some(d);
    }
    out.sort_by(|a, b| {
        b.score_milli
            .cmp(&a.score_milli)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

fn hit(
    p: &RoleParty,
    name: &str,
    list: &str,
    source_id: &str,
    m: &ScreenMatch,
    digest: String,
) -> Hit {
    Hit {
        id: hit_id(&p.party.id, list, source_id),
        party_id: p.party.id.clone(),
        role: p.role.to_owned(),
        party_name: name.to_owned(),
        list: list.to_owned(),
        source_id: source_id.to_owned(),
        issuer: m.issuer.clone(),
        matched_name: m.matched_name.clone(),
        listed_name: m.name.clone(),
        score_milli: (m.score.clamp(0.0, 1.0) * 1000.0).round() as u32,
        entry_digest: digest,
        status: HitStatus::Open,
        disposition: None,
        entry_changed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_digest_follows_what_tells_people_apart() {
        let mut m = ScreenMatch {
            list: "ofac".into(),
            source_id: "1".into(),
            name: "ALI HASSAN".into(),
            countries: vec!["IQ".into()],
            ..ScreenMatch::default()
        };
        let plain = entry_digest(&m);
        // Without details, the digest is what it was before lists carried any.
        let before =
            hex::encode(&sha256("ofac\u{0}1\u{0}unknown\u{0}ALI HASSAN\u{0}IQ".as_bytes())[..16]);
        assert_eq!(plain, before);
        m.details.dates_of_birth.push("1970".into());
        let with_dob = entry_digest(&m);
        assert_ne!(with_dob, plain);
        m.details.dates_of_birth = vec!["1971".into()];
        assert_ne!(entry_digest(&m), with_dob);
        m.details.identifiers.push("Passport A1".into());
        let mut again = m.clone();
        again.programs.push("SDGT".into());
        assert_eq!(
            entry_digest(&again),
            entry_digest(&m),
            "programs are not identity"
        );
    }
}
