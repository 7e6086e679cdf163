//! Task forces, the questions their members ask, the references answers
//! hand out and the detail requests that follow them, with their checks and
//! the detail-request state machine (pure, no I/O).

use serde::{Deserialize, Serialize};

use crate::crypto::sha256;
use crate::exchange::records::MAX_TEXT;
use crate::exchange::RecordKind;
use crate::identity::{Caller, Jurisdiction};
use crate::policy::TaskForceTerms;

pub use crate::policy::DisclosureLevel as Level;

/// Longest name or subject a query may carry, in bytes.
pub const MAX_QUERY: usize = 1024;
/// Most keyed hashes in one blind query.
pub const MAX_HASHES: usize = 16;
/// Most members of one task force.
pub const MAX_MEMBERS: usize = 64;

/// A joint task force as this node registered it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskForce {
    pub name: String,
    pub mandate: String,
    /// Sorted, unique; this node's jurisdiction included.
    pub members: Vec<Jurisdiction>,
    pub ends_at_unix_ms: i64,
    /// How much this node reveals in its answers to the task force.
    pub level: Level,
    pub created_by: String,
    pub created_at_unix_ms: i64,
    pub closed: Option<Closure>,
    /// The secret the task force shares for blind queries. Never leaves the node.
    pub blind_key: Option<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub by: String,
    pub at_unix_ms: i64,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskForceState {
    Open,
    Closed,
    Expired,
}

impl TaskForceState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskForceState::Open => "open",
            TaskForceState::Closed => "closed",
            TaskForceState::Expired => "expired",
        }
    }
}

impl TaskForce {
    pub fn terms(&self) -> TaskForceTerms<'_> {
        TaskForceTerms {
            name: &self.name,
            members: &self.members,
            ends_at_unix_ms: self.ends_at_unix_ms,
            closed: self.closed.is_some(),
        }
    }

    pub fn state(&self, now_unix_ms: i64) -> TaskForceState {
        if self.closed.is_some() {
            TaskForceState::Closed
        } else if now_unix_ms >= self.ends_at_unix_ms {
            TaskForceState::Expired
        } else {
            TaskForceState::Open
        }
    }

    pub fn blind_key_id(&self) -> Option<String> {
        self.blind_key
            .as_deref()
            .map(crate::crypto::keyed_hash::key_id)
    }
}

/// What an admin asks to register.
#[derive(Clone, Debug)]
pub struct TaskForceDraft {
    pub name: String,
    pub mandate: String,
    pub members: Vec<Jurisdiction>,
    pub ends_at_unix_ms: i64,
    pub level: Level,
    pub blind_key: Option<Vec<u8>>,
}

impl TaskForceDraft {
    /// Checks the draft; the node's own jurisdiction joins the members.
    pub fn check(mut self, own: &Jurisdiction, now_unix_ms: i64) -> Result<TaskForceDraft, String> {
        crate::identity::validate_name(&self.name).map_err(|e| format!("name: {e}"))?;
        text("mandate", &self.mandate, true)?;
        self.members.push(own.clone());
        self.members.sort();
        self.members.dedup();
        if self.members.len() < 2 {
            return Err(
                "members: a task force needs at least one jurisdiction besides this one".into(),
            );
        }
        if self.members.len() > MAX_MEMBERS {
            return Err(format!("members: at most {MAX_MEMBERS}"));
        }
        if self.ends_at_unix_ms <= now_unix_ms {
            return Err("ends: the end date must be in the future".into());
        }
        if let Some(key) = &self.blind_key {
            crate::crypto::keyed_hash::check_key(key).map_err(|e| format!("blind key: {e}"))?;
        }
        Ok(self)
    }
}

/// A member's question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Query {
    /// Does anyone know this party (denied parties, alert subjects)?
    Party { name: String },
    /// Denials matching every given criterion.
    Denials {
        party: Option<String>,
        destination: Option<String>,
        item: Option<String>,
    },
    /// Alerts naming this subject (a party, destination, item or shipment).
    Alerts { subject: String },
    /// Keyed hashes of a party's normalized name: exact identity, no cleartext.
    BlindParty {
        key_id: String,
        hashes: Vec<[u8; 32]>,
    },
}

impl Query {
    pub fn is_blind(&self) -> bool {
        matches!(self, Query::BlindParty { .. })
    }

    /// Checks the fields; trims nothing (the asking node did), so that both
    /// ends compute the same digest.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Query::Party { name } => query_text("party", name),
            Query::Denials {
                party,
                destination,
                item,
            } => {
                if party.is_none() && destination.is_none() && item.is_none() {
                    return Err("denials: give a party, a destination or an item".into());
                }
                if let Some(p) = party {
                    query_text("party", p)?;
                }
                if let Some(d) = destination {
                    if !(d.len() == 2 && d.bytes().all(|b| b.is_ascii_uppercase())) {
                        return Err(format!(
                            "destination: {d:?} is not a two-letter upper-case country code"
                        ));
                    }
                }
                if let Some(i) = item {
                    query_text("item", i)?;
                }
                Ok(())
            }
            Query::Alerts { subject } => query_text("subject", subject),
            Query::BlindParty { key_id, hashes } => {
                if key_id.is_empty() || key_id.len() > 64 {
                    return Err("blind: missing key id".into());
                }
                if hashes.is_empty() || hashes.len() > MAX_HASHES {
                    return Err(format!("blind: 1 to {MAX_HASHES} hashes"));
                }
                Ok(())
            }
        }
    }

    /// Trims what a member typed, upper-cases codes; `None` for blank optionals.
    pub fn tidy(self) -> Query {
        let opt = |v: Option<String>, upper: bool| {
            v.map(|s| {
                let s = s.trim();
                if upper {
                    s.to_uppercase()
                } else {
                    s.to_owned()
                }
            })
            .filter(|s| !s.is_empty())
        };
        match self {
            Query::Party { name } => Query::Party {
                name: name.trim().to_owned(),
            },
            Query::Denials {
                party,
                destination,
                item,
            } => Query::Denials {
                party: opt(party, false),
                destination: opt(destination, true),
                item: opt(item, true),
            },
            Query::Alerts { subject } => Query::Alerts {
                subject: subject.trim().to_owned(),
            },
            blind @ Query::BlindParty { .. } => blind,
        }
    }

    /// The question in words, for the audit trail and the answer's header.
    /// A blind query shows hash prefixes only.
    pub fn describe(&self) -> String {
        match self {
            Query::Party { name } => format!("party {name:?}"),
            Query::Denials {
                party,
                destination,
                item,
            } => {
                let mut parts = vec!["denials".to_owned()];
                if let Some(p) = party {
                    parts.push(format!("party={p:?}"));
                }
                if let Some(d) = destination {
                    parts.push(format!("destination={d}"));
                }
                if let Some(i) = item {
                    parts.push(format!("item={i}"));
                }
                parts.join(" ")
            }
            Query::Alerts { subject } => format!("alerts subject={subject:?}"),
            Query::BlindParty { key_id, hashes } => {
                let prefixes: Vec<String> = hashes.iter().map(|h| hex::encode(&h[..6])).collect();
                format!(
                    "blind party (key {key_id}, keyed hashes {}…)",
                    prefixes.join("…, ")
                )
            }
        }
    }

    /// What an answer is bound to: SHA-256 of the encoded query.
    pub fn digest(&self) -> [u8; 32] {
        sha256(&postcard::to_allocvec(self).unwrap_or_default())
    }
}

fn query_text(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field}: required"));
    }
    if value.len() > MAX_QUERY {
        return Err(format!("{field}: longer than {MAX_QUERY} bytes"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field}: contains control characters"));
    }
    Ok(())
}

pub(crate) fn text(field: &str, value: &str, required: bool) -> Result<(), String> {
    crate::fields::text(field, value, required, MAX_TEXT)
}

/// One record an answer points at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    pub kind: RecordKind,
    pub issuer: Jurisdiction,
    pub id: String,
}

/// An opaque reference this node handed out in an answer: which records it
/// stands for, for whom and in which task force. Key: `id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub id: String,
    pub taskforce: String,
    /// The jurisdiction whose member got it; only its members may follow it up.
    pub asker: Jurisdiction,
    pub records: Vec<RecordRef>,
    pub created_at_unix_ms: i64,
}

/// A reference another node handed to this node's member, kept so that a
/// detail request can be routed and checked. Key: `reference`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedRef {
    pub reference: String,
    pub owner: Jurisdiction,
    pub taskforce: String,
    pub received_by: String,
    pub received_at_unix_ms: i64,
}

/// The jurisdiction that issued a reference or detail request id
/// (`FR-R-…`, `FR-DR-7`).
pub fn owner_of(id: &str) -> Option<Jurisdiction> {
    id.split('-').next().and_then(|j| j.parse().ok())
}

/// A member's request for the records behind a reference, held by the node
/// that gave the reference. Key: `id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailRequest {
    pub id: String,
    pub owner: Jurisdiction,
    pub reference: String,
    pub taskforce: String,
    pub asker: Caller,
    pub justification: String,
    pub requested_at_unix_ms: i64,
    pub state: DetailState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DetailState {
    Pending,
    Approved {
        by: String,
        at_unix_ms: i64,
        level: Level,
        note: String,
    },
    Declined {
        by: String,
        at_unix_ms: i64,
        reason: String,
    },
}

impl DetailState {
    pub fn as_str(&self) -> &'static str {
        match self {
            DetailState::Pending => "pending",
            DetailState::Approved { .. } => "approved",
            DetailState::Declined { .. } => "declined",
        }
    }
}

/// An analyst's decision on a detail request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve { level: Level, note: String },
    Decline { reason: String },
}

/// The detail-request state machine: only a pending request is decided,
/// once; approval releases `summary` or `full` (a hit is what the member
/// already has); a decline gives its reason.
pub fn decide(
    state: &DetailState,
    decision: Decision,
    by: &str,
    at_unix_ms: i64,
) -> Result<DetailState, String> {
    if *state != DetailState::Pending {
        return Err(format!("the request was already {}", state.as_str()));
    }
    match decision {
        Decision::Approve { level, note } => {
            if level == Level::Hit {
                return Err(
                    "approve at summary or full; a hit is what the member already has".into(),
                );
            }
            text("note", &note, false)?;
            Ok(DetailState::Approved {
                by: by.to_owned(),
                at_unix_ms,
                level,
                note,
            })
        }
        Decision::Decline { reason } => {
            text("reason", &reason, true)?;
            Ok(DetailState::Declined {
                by: by.to_owned(),
                at_unix_ms,
                reason,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn j(s: &str) -> Jurisdiction {
        s.parse().unwrap()
    }

    fn draft(name: &str, members: &[&str], ends: i64) -> TaskForceDraft {
        TaskForceDraft {
            name: name.into(),
            mandate: "Procurement network for 3A001 items".into(),
            members: members.iter().map(|m| j(m)).collect(),
            ends_at_unix_ms: ends,
            level: Level::Summary,
            blind_key: None,
        }
    }

    fn check(d: TaskForceDraft, expected: Result<&[&str], &str>) {
        match (d.check(&j("DE"), 100), expected) {
            (Ok(d), Ok(members)) => {
                let got: Vec<&str> = d.members.iter().map(|m| m.as_str()).collect();
                assert_eq!(got, members);
            }
            (Err(e), Err(part)) => assert!(e.contains(part), "{e:?} lacks {part:?}"),
            (got, want) => panic!("got {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn drafts() {
        check(
            draft("ops", &["FR", "JP", "FR"], 200),
            Ok(&["DE", "FR", "JP"]),
        );
        check(draft("ops", &["DE"], 200), Err("at least one"));
        check(draft("o p", &["FR"], 200), Err("name"));
        check(draft("ops", &["FR"], 100), Err("future"));
        let mut d = draft("ops", &["FR"], 200);
        d.blind_key = Some(vec![1; 8]);
        check(d, Err("blind key"));
        let mut d = draft("ops", &["FR"], 200);
        d.mandate = " ".into();
        check(d, Err("mandate"));
    }

    #[test]
    fn queries_are_checked_tidied_and_described() {
        let q = Query::Denials {
            party: Some("  ".into()),
            destination: Some(" ir ".into()),
            item: Some("3a001".into()),
        }
        .tidy();
        assert_eq!(
            q,
            Query::Denials {
                party: None,
                destination: Some("IR".into()),
                item: Some("3A001".into())
            }
        );
        assert!(q.check().is_ok());
        assert_eq!(q.describe(), "denials destination=IR item=3A001");
        let none = Query::Denials {
            party: None,
            destination: None,
            item: None,
        };
        assert!(none.check().is_err());
        assert!(Query::Party { name: "".into() }.check().is_err());
        assert!(Query::Party {
            name: "a\u{7}".into()
        }
        .check()
        .is_err());
        let blind = Query::BlindParty {
            key_id: "k".into(),
            hashes: vec![[0xab; 32]],
        };
        assert!(blind.check().is_ok());
        assert!(!blind.describe().contains("Acme"));
        assert!(blind.describe().contains("abababababab"));
        assert_ne!(
            Query::Party { name: "A".into() }.digest(),
            Query::Alerts {
                subject: "A".into()
            }
            .digest()
        );
        assert_eq!(owner_of("FR-R-00ff"), Some(j("FR")));
        assert_eq!(owner_of("fr-R-00ff"), None);
    }

    #[test]
    fn detail_requests_are_decided_once() {
        let approve = |level| Decision::Approve {
            level,
            note: String::new(),
        };
        let approved = decide(
            &DetailState::Pending,
            approve(Level::Full),
            "DE/analyst/a",
            5,
        )
        .unwrap();
        assert_eq!(approved.as_str(), "approved");
        assert!(decide(&approved, approve(Level::Full), "x", 6).is_err());
        assert!(decide(&DetailState::Pending, approve(Level::Hit), "x", 6).is_err());
        let declined = decide(
            &DetailState::Pending,
            Decision::Decline {
                reason: "outside the mandate".into(),
            },
            "x",
            6,
        )
        .unwrap();
        assert!(
            decide(&declined, approve(Level::Summary), "x", 7).is_err(),
            "a declined request stays declined"
        );
        assert!(decide(
            &DetailState::Pending,
            Decision::Decline { reason: "".into() },
            "x",
            6
        )
        .is_err());
    }

    fn level() -> impl Strategy<Value = Level> {
        prop::sample::select(Level::ALL.to_vec())
    }

    proptest! {
        /// Whatever sequence of decisions arrives, a request changes state at
        /// most once, and never releases a bare hit.
        #[test]
        fn lifecycle(decisions in prop::collection::vec((any::<bool>(), level()), 0..6)) {
            let mut state = DetailState::Pending;
            let mut changes = 0;
            for (approve, level) in decisions {
                let d = if approve {
                    Decision::Approve { level, note: String::new() }
                } else {
                    Decision::Decline { reason: "r".into() }
                };
                if let Ok(next) = decide(&state, d, "a", 1) {
                    changes += 1;
                    state = next;
                }
            }
            prop_assert!(changes <= 1);
            if let DetailState::Approved { level, .. } = state {
                prop_assert!(level != Level::Hit);
            }
        }
    }
}
