//! Who is calling: the jurisdiction and role a verified certificate names.
//!
//! Every client certificate carries one URI SAN of the form
//! `concord://<JURISDICTION>/<role>/<name>`. The TLS layer turns a verified
//! certificate into a [`Caller`]; policy consumes the `Caller` and never parses
//! certificates itself.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// URI scheme of identity SANs.
pub const SCHEME: &str = "concord://";

/// A national export-control authority, named by an upper-case code such as `DE`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Jurisdiction(String);

impl Jurisdiction {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Jurisdiction {
    type Err = IdentityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = (2..=8).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && s.as_bytes()[0].is_ascii_uppercase();
        if valid {
            Ok(Jurisdiction(s.to_owned()))
        } else {
            Err(IdentityError::BadJurisdiction(s.to_owned()))
        }
    }
}

impl TryFrom<String> for Jurisdiction {
    type Error = IdentityError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Jurisdiction> for String {
    fn from(j: Jurisdiction) -> String {
        j.0
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a certificate holder is allowed to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A jurisdiction's node, talking to its peers.
    Node,
    /// A node administrator.
    Admin,
    /// A licensing officer.
    Officer,
    /// An enforcement analyst.
    Analyst,
    /// A member of a joint task force.
    Taskforce,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Node,
        Role::Admin,
        Role::Officer,
        Role::Analyst,
        Role::Taskforce,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Node => "node",
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::Analyst => "analyst",
            Role::Taskforce => "taskforce",
        }
    }
}

impl FromStr for Role {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| IdentityError::BadRole(s.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated party behind a request, taken from its verified certificate.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Caller {
    pub jurisdiction: Jurisdiction,
    pub role: Role,
    pub name: String,
}

impl Caller {
    pub fn new(
        jurisdiction: Jurisdiction,
        role: Role,
        name: impl Into<String>,
    ) -> Result<Self, IdentityError> {
        let name = name.into();
        validate_name(&name)?;
        Ok(Caller {
            jurisdiction,
            role,
            name,
        })
    }

    /// The URI SAN that names this identity in a certificate.
    pub fn uri(&self) -> String {
        format!("{SCHEME}{}/{}/{}", self.jurisdiction, self.role, self.name)
    }

    /// Parses `concord://DE/admin/alice`.
    pub fn from_uri(uri: &str) -> Result<Self, IdentityError> {
        let bad = || IdentityError::BadUri(uri.to_owned());
        let rest = uri.strip_prefix(SCHEME).ok_or_else(bad)?;
        let mut parts = rest.split('/');
        let (Some(j), Some(r), Some(n), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Caller::new(j.parse()?, r.parse()?, n)
    }

    /// Extracts the single Concord identity from a DER certificate.
    ///
    /// A certificate with no Concord URI SAN, or with more than one, has no
    /// identity: ambiguity must never be resolved by picking one.
    /// When a DER certificate stops being valid, in Unix milliseconds.
    pub fn not_after_unix_ms(der: &[u8]) -> Result<i64, IdentityError> {
        let (_, cert) = X509Certificate::from_der(der)
            .map_err(|e| IdentityError::BadCertificate(e.to_string()))?;
        Ok(cert.validity().not_after.timestamp().saturating_mul(1000))
    }

    pub fn from_cert_der(der: &[u8]) -> Result<Self, IdentityError> {
        let (_, cert) = X509Certificate::from_der(der)
            .map_err(|e| IdentityError::BadCertificate(e.to_string()))?;
        let san = cert
            .subject_alternative_name()
            .map_err(|e| IdentityError::BadCertificate(e.to_string()))?;
        let mut found = None;
        for name in san.iter().flat_map(|s| s.value.general_names.iter()) {
            if let GeneralName::URI(uri) = name {
                if uri.starts_with(SCHEME) {
                    if found.is_some() {
                        return Err(IdentityError::AmbiguousIdentity);
                    }
                    found = Some(Caller::from_uri(uri)?);
                }
            }
        }
        found.ok_or(IdentityError::NoIdentity)
    }
}

/// `DE/officer/olivia` (as `Display` writes it) or `concord://DE/officer/olivia`.
impl FromStr for Caller {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with(SCHEME) {
            Caller::from_uri(s)
        } else {
            Caller::from_uri(&format!("{SCHEME}{s}"))
        }
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.jurisdiction, self.role, self.name)
    }
}

/// Names end up in URIs, file names and audit records: keep them boring.
pub fn validate_name(name: &str) -> Result<(), IdentityError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(IdentityError::BadName(name.to_owned()))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error("invalid jurisdiction code {0:?}: expected 2-8 upper-case letters or digits, starting with a letter")]
    BadJurisdiction(String),
    #[error("invalid role {0:?}: expected one of node, admin, officer, analyst, taskforce")]
    BadRole(String),
    #[error("invalid name {0:?}: expected 1-64 characters from A-Z a-z 0-9 - _ .")]
    BadName(String),
    #[error("invalid identity URI {0:?}: expected concord://JURISDICTION/ROLE/NAME")]
    BadUri(String),
    #[error("certificate cannot be parsed: {0}")]
    BadCertificate(String),
    #[error("certificate carries no concord:// identity")]
    NoIdentity,
    #[error("certificate carries more than one concord:// identity")]
    AmbiguousIdentity,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(uri: &str, expected: Result<(&str, Role, &str), ()>) {
        let got = Caller::from_uri(uri)
            .map(|c| (c.jurisdiction.to_string(), c.role, c.name))
            .map_err(|_| ());
        let expected = expected.map(|(j, r, n)| (j.to_owned(), r, n.to_owned()));
        assert_eq!(got, expected, "{uri}");
    }

    #[test]
    fn parses_identity_uris() {
        check("concord://DE/admin/alice", Ok(("DE", Role::Admin, "alice")));
        check("concord://FR/node/node-1", Ok(("FR", Role::Node, "node-1")));
        check(
            "concord://JP/taskforce/tf.ops_2",
            Ok(("JP", Role::Taskforce, "tf.ops_2")),
        );
        check("concord://de/admin/alice", Err(()));
        check("concord://DE/root/alice", Err(()));
        check("concord://DE/admin/", Err(()));
        check("concord://DE/admin/a/b", Err(()));
        check("https://DE/admin/alice", Err(()));
        check("concord://DE/admin/../x", Err(()));
    }

    #[test]
    fn identities_parse_as_displayed_or_as_uris() {
        let c: Caller = "DE/officer/olivia".parse().unwrap();
        assert_eq!(c.to_string(), "DE/officer/olivia");
        assert_eq!("concord://DE/officer/olivia".parse::<Caller>().unwrap(), c);
        assert!("DE/king/x".parse::<Caller>().is_err());
        assert!("concord://concord://DE/officer/o"
            .parse::<Caller>()
            .is_err());
    }

    #[test]
    fn uri_round_trips() {
        let c = Caller::new("DE".parse().unwrap(), Role::Officer, "bob").unwrap();
        assert_eq!(Caller::from_uri(&c.uri()).unwrap(), c);
    }
}
