//! Authorization: which caller may use which service. Pure functions over a
//! [`Caller`], no I/O, so every decision can be tested exhaustively.
//!
//! Need-to-know for shared records is decided here too, by the same rule on
//! every path (issue, push, catch-up, receive).

use std::collections::{BTreeMap, BTreeSet};

use crate::identity::{Caller, Jurisdiction, Role};

/// A gRPC service of the node, as policy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Admin,
    Federation,
    /// Risk alerts and denial notices, for the jurisdiction's own people.
    Exchange,
    /// Licensing records (catalog, parties, licenses and what follows them),
    /// for the jurisdiction's own people.
    Licensing,
    /// Denied-party screening, for the jurisdiction's own people.
    Screening,
}

/// What a caller wants to do on the exchange service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeAction {
    RaiseAlert,
    IssueDenial,
    Read,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Denied {
    #[error("{service:?} service requires role {required}, caller {caller} has role {actual}")]
    WrongRole {
        service: Service,
        caller: String,
        required: Role,
        actual: Role,
    },
    #[error("{service:?} service is only for callers of jurisdiction {own}, caller is {caller}")]
    ForeignCaller {
        service: Service,
        own: Jurisdiction,
        caller: String,
    },
    #[error("{caller} is not a registered peer")]
    NotAPeer { caller: String },
}

/// May `caller` use `service` on the node of jurisdiction `own`?
/// `is_peer` tells whether the caller's jurisdiction is a registered peer.
pub fn authorize(
    service: Service,
    caller: &Caller,
    own: &Jurisdiction,
    is_peer: bool,
) -> Result<(), Denied> {
    let require_role = |required: Role| {
        if caller.role == required {
            Ok(())
        } else {
            Err(Denied::WrongRole {
                service,
                caller: caller.to_string(),
                required,
                actual: caller.role,
            })
        }
    };
    match service {
        Service::Admin => {
            if &caller.jurisdiction != own {
                return Err(Denied::ForeignCaller {
                    service,
                    own: own.clone(),
                    caller: caller.to_string(),
                });
            }
            require_role(Role::Admin)
        }
        Service::Federation => {
            require_role(Role::Node)?;
            if &caller.jurisdiction == own || !is_peer {
                return Err(Denied::NotAPeer {
                    caller: caller.to_string(),
                });
            }
            Ok(())
        }
        Service::Exchange | Service::Licensing | Service::Screening => {
            if &caller.jurisdiction != own {
                return Err(Denied::ForeignCaller {
                    service,
                    own: own.clone(),
                    caller: caller.to_string(),
                });
            }
            match caller.role {
                Role::Officer | Role::Analyst | Role::Admin => Ok(()),
                actual => Err(Denied::WrongRole {
                    service,
                    caller: caller.to_string(),
                    required: Role::Analyst,
                    actual,
                }),
            }
        }
    }
}

/// Which of the exchange service's actions a (local, admitted) caller may take:
/// analysts raise alerts, officers issue denials, both read; admins read only.
pub fn authorize_exchange(caller: &Caller, action: ExchangeAction) -> Result<(), Denied> {
    let allowed = match action {
        ExchangeAction::RaiseAlert => caller.role == Role::Analyst,
        ExchangeAction::IssueDenial => caller.role == Role::Officer,
        ExchangeAction::Read => matches!(caller.role, Role::Analyst | Role::Officer | Role::Admin),
    };
    if allowed {
        return Ok(());
    }
    let required = match action {
        ExchangeAction::RaiseAlert | ExchangeAction::Read => Role::Analyst,
        ExchangeAction::IssueDenial => Role::Officer,
    };
    Err(Denied::WrongRole {
        service: Service::Exchange,
        caller: caller.to_string(),
        required,
        actual: caller.role,
    })
}

/// What a caller wants to do on the licensing service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LicensingAction {
    /// Submit applications; create parties and waivers; record shipments,
    /// end-use checks and disclosures.
    Record,
    /// Move a license through its lifecycle (review, decide, appeal, revoke).
    Decide,
    /// Import a new catalog version.
    ImportCatalog,
    /// Set the node's default distribution of denials from decisions.
    Configure,
    Read,
}

/// Which of the licensing service's actions a (local, admitted) caller may
/// take: officers record and decide, admins import the catalog and configure,
/// officers, analysts and admins read.
pub fn authorize_licensing(caller: &Caller, action: LicensingAction) -> Result<(), Denied> {
    let required = match action {
        LicensingAction::Record | LicensingAction::Decide => Role::Officer,
        LicensingAction::ImportCatalog | LicensingAction::Configure => Role::Admin,
        LicensingAction::Read => {
            if matches!(caller.role, Role::Officer | Role::Analyst | Role::Admin) {
                return Ok(());
            }
            Role::Analyst
        }
    };
    if caller.role == required {
        return Ok(());
    }
    Err(Denied::WrongRole {
        service: Service::Licensing,
        caller: caller.to_string(),
        required,
        actual: caller.role,
    })
}

/// What a caller wants to do on the screening service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScreeningAction {
    /// Replace an imported watchlist.
    Import,
    Query,
}

/// Which of the screening service's actions a (local, admitted) caller may
/// take: admins import lists; analysts, officers and admins screen.
pub fn authorize_screening(caller: &Caller, action: ScreeningAction) -> Result<(), Denied> {
    let (allowed, required) = match action {
        ScreeningAction::Import => (caller.role == Role::Admin, Role::Admin),
        ScreeningAction::Query => (
            matches!(caller.role, Role::Analyst | Role::Officer | Role::Admin),
            Role::Analyst,
        ),
    };
    if allowed {
        return Ok(());
    }
    Err(Denied::WrongRole {
        service: Service::Screening,
        caller: caller.to_string(),
        required,
        actual: caller.role,
    })
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DistributionError {
    #[error("the distribution names nobody: give --to jurisdictions and/or --group names")]
    Empty,
    #[error("unknown sharing group {0:?}")]
    UnknownGroup(String),
    #[error("{0} is not a registered peer; a record can only be sent to peers")]
    NotAPeer(Jurisdiction),
}

/// Resolves a distribution (jurisdictions and sharing groups) into the
/// recipient list that gets signed into the record: sorted, unique, never the
/// issuer itself, and only registered peers.
pub fn resolve_distribution(
    own: &Jurisdiction,
    to: &[Jurisdiction],
    group_names: &[String],
    groups: &BTreeMap<String, Vec<Jurisdiction>>,
    peers: &BTreeSet<Jurisdiction>,
) -> Result<Vec<Jurisdiction>, DistributionError> {
    let mut recipients = BTreeSet::new();
    recipients.extend(to.iter().cloned());
    for name in group_names {
        let members = groups
            .get(name)
            .ok_or_else(|| DistributionError::UnknownGroup(name.clone()))?;
        recipients.extend(members.iter().cloned());
    }
    recipients.remove(own);
    if let Some(stranger) = recipients.iter().find(|j| !peers.contains(*j)) {
        return Err(DistributionError::NotAPeer(stranger.clone()));
    }
    if recipients.is_empty() {
        return Err(DistributionError::Empty);
    }
    Ok(recipients.into_iter().collect())
}

/// Need-to-know: may `node` hold a record whose signed recipient list is `recipients`?
pub fn may_receive(recipients: &[Jurisdiction], node: &Jurisdiction) -> bool {
    recipients.contains(node)
}

/// May this node send a record issued by `issuer` to `peer`? Only its own
/// records (never forwarding another's), and only to a named recipient.
pub fn may_send(
    own: &Jurisdiction,
    issuer: &Jurisdiction,
    recipients: &[Jurisdiction],
    peer: &Jurisdiction,
) -> bool {
    issuer == own && peer != own && may_receive(recipients, peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn caller(j: &str, role: Role) -> Caller {
        Caller::new(j.parse().unwrap(), role, "x").unwrap()
    }

    fn check(service: Service, j: &str, role: Role, is_peer: bool, allowed: bool) {
        let own: Jurisdiction = "DE".parse().unwrap();
        let got = authorize(service, &caller(j, role), &own, is_peer);
        assert_eq!(
            got.is_ok(),
            allowed,
            "{service:?} {j}/{role} peer={is_peer}: {got:?}"
        );
    }

    #[test]
    fn decisions() {
        check(Service::Admin, "DE", Role::Admin, false, true);
        check(Service::Admin, "DE", Role::Officer, false, false);
        check(Service::Admin, "DE", Role::Node, false, false);
        check(Service::Admin, "FR", Role::Admin, true, false);
        check(Service::Federation, "FR", Role::Node, true, true);
        check(Service::Federation, "FR", Role::Node, false, false);
        check(Service::Federation, "FR", Role::Admin, true, false);
        check(Service::Federation, "DE", Role::Node, true, false);
        check(Service::Federation, "DE", Role::Admin, false, false);
    }

    fn role() -> impl Strategy<Value = Role> {
        prop::sample::select(Role::ALL.to_vec())
    }

    fn j(s: &str) -> Jurisdiction {
        s.parse().unwrap()
    }

    #[test]
    fn exchange_roles() {
        let c = |role| caller("DE", role);
        assert!(authorize_exchange(&c(Role::Analyst), ExchangeAction::RaiseAlert).is_ok());
        assert!(authorize_exchange(&c(Role::Officer), ExchangeAction::RaiseAlert).is_err());
        assert!(authorize_exchange(&c(Role::Officer), ExchangeAction::IssueDenial).is_ok());
        assert!(authorize_exchange(&c(Role::Analyst), ExchangeAction::IssueDenial).is_err());
        assert!(authorize_exchange(&c(Role::Admin), ExchangeAction::Read).is_ok());
        assert!(authorize_exchange(&c(Role::Admin), ExchangeAction::IssueDenial).is_err());
        check(Service::Exchange, "DE", Role::Analyst, false, true);
        check(Service::Exchange, "FR", Role::Analyst, true, false);
        check(Service::Exchange, "DE", Role::Node, false, false);
        check(Service::Exchange, "DE", Role::Taskforce, false, false);
    }

    #[test]
    fn screening_roles() {
        use ScreeningAction as S;
        check(Service::Screening, "DE", Role::Analyst, false, true);
        check(Service::Screening, "DE", Role::Officer, false, true);
        check(Service::Screening, "DE", Role::Admin, false, true);
        check(Service::Screening, "FR", Role::Admin, true, false);
        check(Service::Screening, "DE", Role::Node, false, false);
        check(Service::Screening, "DE", Role::Taskforce, false, false);
        // roles: admin, officer, analyst, taskforce, node
        let roles = [Role::Admin, Role::Officer, Role::Analyst, Role::Taskforce, Role::Node];
        for (action, allowed) in [
            (S::Import, [true, false, false, false, false]),
            (S::Query, [true, true, true, false, false]),
        ] {
            for (role, ok) in roles.iter().zip(allowed) {
                let got = authorize_screening(&caller("DE", *role), action);
                assert_eq!(got.is_ok(), ok, "{action:?} by {role}: {got:?}");
            }
        }
    }

    #[test]
    fn licensing_roles() {
        use LicensingAction as L;
        let table = [
            (L::Record, [false, true, false, false, false]),
            (L::Decide, [false, true, false, false, false]),
            (L::ImportCatalog, [true, false, false, false, false]),
            (L::Configure, [true, false, false, false, false]),
            (L::Read, [true, true, true, false, false]),
        ];
        let roles = [
            Role::Admin,
            Role::Officer,
            Role::Analyst,
            Role::Taskforce,
            Role::Node,
        ];
        for (action, allowed) in table {
            for (role, allowed) in roles.iter().zip(allowed) {
                let got = authorize_licensing(&caller("DE", *role), action);
                assert_eq!(got.is_ok(), allowed, "{role} {action:?}: {got:?}");
            }
        }
        check(Service::Licensing, "DE", Role::Officer, false, true);
        check(Service::Licensing, "DE", Role::Analyst, false, true);
        check(Service::Licensing, "DE", Role::Admin, false, true);
        check(Service::Licensing, "FR", Role::Officer, true, false);
        check(Service::Licensing, "DE", Role::Node, false, false);
        check(Service::Licensing, "DE", Role::Taskforce, false, false);
    }

    #[test]
    fn distributions_resolve_to_named_peers_only() {
        let groups = BTreeMap::from([("eu".to_owned(), vec![j("DE"), j("FR"), j("IT")])]);
        let peers: BTreeSet<_> = [j("FR"), j("IT"), j("JP")].into();
        let got =
            resolve_distribution(&j("DE"), &[j("JP")], &["eu".into()], &groups, &peers).unwrap();
        assert_eq!(got, vec![j("FR"), j("IT"), j("JP")]);
        assert_eq!(
            resolve_distribution(&j("DE"), &[j("DE")], &[], &groups, &peers),
            Err(DistributionError::Empty)
        );
        assert_eq!(
            resolve_distribution(&j("DE"), &[j("US")], &[], &groups, &peers),
            Err(DistributionError::NotAPeer(j("US")))
        );
        assert!(matches!(
            resolve_distribution(&j("DE"), &[], &["nato".into()], &groups, &peers),
            Err(DistributionError::UnknownGroup(_))
        ));
    }

    fn code() -> impl Strategy<Value = Jurisdiction> {
        prop::sample::select(vec!["DE", "FR", "JP", "IT", "US", "KR", "NL", "SE"]).prop_map(j)
    }

    proptest! {
        /// Whatever the distribution, groups and peer set, a record is sent
        /// to exactly the peers its signed recipient list names, never to
        /// anyone else, and never forwarded by a node that did not issue it.
        #[test]
        fn no_record_reaches_a_node_it_does_not_name(
            own in code(),
            to in prop::collection::vec(code(), 0..5),
            group in prop::collection::vec(code(), 0..5),
            peers in prop::collection::btree_set(code(), 0..8),
            other_issuer in code(),
        ) {
            let groups = BTreeMap::from([("g".to_owned(), group.clone())]);
            match resolve_distribution(&own, &to, &["g".into()], &groups, &peers) {
                Ok(recipients) => {
                    for peer in &peers {
                        let named = to.contains(peer) || group.contains(peer);
                        prop_assert_eq!(may_send(&own, &own, &recipients, peer), named && peer != &own);
                        if other_issuer != own {
                            prop_assert!(!may_send(&own, &other_issuer, &recipients, peer));
                        }
                    }
                    prop_assert!(recipients.iter().all(|r| peers.contains(r) && r != &own));
                    prop_assert!(recipients.iter().all(|r| to.contains(r) || group.contains(r)));
                }
                Err(_) => {
                    let named: BTreeSet<_> = to.iter().chain(group.iter()).filter(|r| *r != &own).collect();
                    prop_assert!(named.is_empty() || named.iter().any(|r| !peers.contains(*r)));
                }
            }
        }

        /// No caller from another jurisdiction ever administers this node, and
        /// only registered peers' nodes reach the federation service.
        #[test]
        fn foreign_callers_never_administer(j in "[A-Z]{2}", r in role(), is_peer: bool) {
            let own: Jurisdiction = "DE".parse().unwrap();
            let c = caller(&j, r);
            let admin = authorize(Service::Admin, &c, &own, is_peer).is_ok();
            prop_assert_eq!(admin, j == "DE" && r == Role::Admin);
            let fed = authorize(Service::Federation, &c, &own, is_peer).is_ok();
            prop_assert_eq!(fed, j != "DE" && r == Role::Node && is_peer);
        }
    }
}
