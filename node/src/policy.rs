//! Authorization: which caller may use which service. Pure functions over a
//! [`Caller`], no I/O, so every decision can be tested exhaustively.
//!
//! Need-to-know decisions for shared records will live here too.

use crate::identity::{Caller, Jurisdiction, Role};

/// A gRPC service of the node, as policy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Admin,
    Federation,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Denied {
    #[error("{service:?} service requires role {required}, caller {caller} has role {actual}")]
    WrongRole { service: Service, caller: String, required: Role, actual: Role },
    #[error("{service:?} service is only for callers of jurisdiction {own}, caller is {caller}")]
    ForeignCaller { service: Service, own: Jurisdiction, caller: String },
    #[error("{caller} is not a registered peer")]
    NotAPeer { caller: String },
}

/// May `caller` use `service` on the node of jurisdiction `own`?
/// `is_peer` tells whether the caller's jurisdiction is a registered peer.
pub fn authorize(service: Service, caller: &Caller, own: &Jurisdiction, is_peer: bool) -> Result<(), Denied> {
    let require_role = |required: Role| {
        if caller.role == required {
            Ok(())
        } else {
            Err(Denied::WrongRole { service, caller: caller.to_string(), required, actual: caller.role })
        }
    };
    match service {
        Service::Admin => {
            if &caller.jurisdiction != own {
                return Err(Denied::ForeignCaller { service, own: own.clone(), caller: caller.to_string() });
            }
            require_role(Role::Admin)
        }
        Service::Federation => {
            require_role(Role::Node)?;
            if &caller.jurisdiction == own || !is_peer {
                return Err(Denied::NotAPeer { caller: caller.to_string() });
            }
            Ok(())
        }
    }
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
        assert_eq!(got.is_ok(), allowed, "{service:?} {j}/{role} peer={is_peer}: {got:?}");
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

    proptest! {
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
