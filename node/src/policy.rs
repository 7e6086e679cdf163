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
    /// Risk assessments of license applications (read-only), for the
    /// jurisdiction's own people.
    Risk,
    /// Joint task forces, for the jurisdiction's own task-force members,
    /// analysts and admins; refined by [`authorize_taskforce`].
    TaskForce,
    /// Task-force queries between nodes: registered peers' nodes only.
    TaskForcePeer,
    /// No-undercut and breach consultations, for the jurisdiction's own
    /// people; refined by [`authorize_consult`].
    Consult,
    /// The web console: the jurisdiction's own people, never a node; each
    /// page and action is refined by the same checks as the gRPC services.
    Web,
}

/// An action on one of the services whose callers are refined per action
/// (exchange, licensing, screening, consult, task forces).
pub trait Action: Copy {
    /// Whether `caller` may take this action.
    fn authorize(self, caller: &Caller) -> Result<(), Denied>;
}

/// The one check every handler of those services makes: the caller the
/// service's `Guard` admitted, refined by the action it asks for. Hands the
/// caller back, so a handler reads `let who = allowed(caller, action)?`.
pub fn allowed<A: Action>(caller: Caller, action: A) -> Result<Caller, Denied> {
    action.authorize(&caller)?;
    Ok(caller)
}

macro_rules! action {
    ($action:ty, $decide:ident) => {
        impl Action for $action {
            fn authorize(self, caller: &Caller) -> Result<(), Denied> {
                $decide(caller, self)
            }
        }
    };
}
action!(ExchangeAction, authorize_exchange);
action!(LicensingAction, authorize_licensing);
action!(ScreeningAction, authorize_screening);
action!(ConsultAction, authorize_consult);
action!(TaskForceAction, authorize_taskforce);

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
    #[error(
        "{checker} cannot countersign a decision made by {maker}: four eyes need a second \
         person (another officer of the jurisdiction, not the same name under another certificate)"
    )]
    SamePerson { maker: String, checker: String },
    #[error("{caller} may announce only its own jurisdiction's bundle, not {bundle}'s")]
    ForeignBundle {
        caller: String,
        bundle: Jurisdiction,
    },
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
        Service::Federation | Service::TaskForcePeer => {
            require_role(Role::Node)?;
            if &caller.jurisdiction == own || !is_peer {
                return Err(Denied::NotAPeer {
                    caller: caller.to_string(),
                });
            }
            Ok(())
        }
        Service::Exchange
        | Service::Licensing
        | Service::Screening
        | Service::Risk
        | Service::Consult => {
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
        Service::Web => {
            if &caller.jurisdiction != own {
                return Err(Denied::ForeignCaller {
                    service,
                    own: own.clone(),
                    caller: caller.to_string(),
                });
            }
            match caller.role {
                Role::Officer | Role::Analyst | Role::Admin | Role::Taskforce => Ok(()),
                actual => Err(Denied::WrongRole {
                    service,
                    caller: caller.to_string(),
                    required: Role::Officer,
                    actual,
                }),
            }
        }
        Service::TaskForce => {
            if &caller.jurisdiction != own {
                return Err(Denied::ForeignCaller {
                    service,
                    own: own.clone(),
                    caller: caller.to_string(),
                });
            }
            match caller.role {
                Role::Taskforce | Role::Analyst | Role::Admin => Ok(()),
                actual => Err(Denied::WrongRole {
                    service,
                    caller: caller.to_string(),
                    required: Role::Taskforce,
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

/// May `checker` countersign (or reject) a decision made by the identity
/// `maker` (e.g. `DE/officer/olivia`)? Only an officer of the same
/// jurisdiction who is another person: the name decides, not the
/// certificate, so a second certificate of the same person (under any role)
/// is still the maker.
pub fn may_countersign(maker: &str, checker: &Caller) -> Result<(), Denied> {
    authorize_licensing(checker, LicensingAction::Decide)?;
    let mut parts = maker.split('/');
    let (jurisdiction, name) = (parts.next().unwrap_or(""), parts.nth(1).unwrap_or(""));
    let same_name = name.eq_ignore_ascii_case(&checker.name);
    if same_name || name.is_empty() || jurisdiction != checker.jurisdiction.as_str() {
        return Err(Denied::SamePerson {
            maker: maker.to_owned(),
            checker: checker.to_string(),
        });
    }
    Ok(())
}

/// What a caller wants to do on the screening service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScreeningAction {
    /// Replace or remove an imported watchlist.
    Import,
    /// Screen names, list the lists, show one entry.
    Query,
}

/// Which of the screening service's actions a (local, admitted) caller may
/// take: admins import and remove lists; analysts, officers and admins
/// screen and read entries.
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

/// What a caller wants to do on the consult service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsultAction {
    /// Consult the denying jurisdiction before approving (no undercut).
    RequestUndercut,
    /// Open a multilateral consultation on a suspected breach.
    RequestBreach,
    /// Answer a consultation addressed to this node.
    Respond,
    /// Share a licence with partners, or decide whether to recognise a
    /// partner's: licence decisions are officers'.
    Recognition,
    Read,
}

/// Which of the consult service's actions a (local, admitted) caller may
/// take: officers, who decide licenses, consult before approving; analysts
/// open breach consultations; officers and analysts answer; all three read.
pub fn authorize_consult(caller: &Caller, action: ConsultAction) -> Result<(), Denied> {
    let (allowed, required) = match action {
        ConsultAction::RequestUndercut | ConsultAction::Recognition => {
            (caller.role == Role::Officer, Role::Officer)
        }
        ConsultAction::RequestBreach => (caller.role == Role::Analyst, Role::Analyst),
        ConsultAction::Respond => (
            matches!(caller.role, Role::Officer | Role::Analyst),
            Role::Officer,
        ),
        ConsultAction::Read => (
            matches!(caller.role, Role::Officer | Role::Analyst | Role::Admin),
            Role::Analyst,
        ),
    };
    if allowed {
        return Ok(());
    }
    Err(Denied::WrongRole {
        service: Service::Consult,
        caller: caller.to_string(),
        required,
        actual: caller.role,
    })
}

/// What a caller wants to do on the task-force service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskForceAction {
    /// Register or close a task force on this node.
    Register,
    /// List and show task forces.
    Read,
    /// Query the federation; request and fetch details.
    Query,
    /// List, approve and decline detail requests made to this node.
    Review,
}

/// Which of the task-force service's actions a (local, admitted) caller may
/// take: admins register, members query, analysts review detail requests,
/// all three read.
pub fn authorize_taskforce(caller: &Caller, action: TaskForceAction) -> Result<(), Denied> {
    let (allowed, required) = match action {
        TaskForceAction::Register => (caller.role == Role::Admin, Role::Admin),
        TaskForceAction::Read => (
            matches!(caller.role, Role::Admin | Role::Analyst | Role::Taskforce),
            Role::Taskforce,
        ),
        TaskForceAction::Query => (caller.role == Role::Taskforce, Role::Taskforce),
        TaskForceAction::Review => (caller.role == Role::Analyst, Role::Analyst),
    };
    if allowed {
        return Ok(());
    }
    Err(Denied::WrongRole {
        service: Service::TaskForce,
        caller: caller.to_string(),
        required,
        actual: caller.role,
    })
}

/// How much a node reveals in a task-force answer. Ordered: `Hit` < `Summary` < `Full`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum DisclosureLevel {
    /// Only whether something matches, plus one opaque reference.
    Hit,
    /// Per match: record kind, issuer, date, category, match score.
    Summary,
    /// The records themselves, as their issuers signed them.
    Full,
}

impl DisclosureLevel {
    pub const ALL: [DisclosureLevel; 3] = [
        DisclosureLevel::Hit,
        DisclosureLevel::Summary,
        DisclosureLevel::Full,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DisclosureLevel::Hit => "hit",
            DisclosureLevel::Summary => "summary",
            DisclosureLevel::Full => "full",
        }
    }
}

impl std::str::FromStr for DisclosureLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DisclosureLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown level {s:?}; expected hit, summary or full"))
    }
}

impl std::fmt::Display for DisclosureLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered task force as policy sees it.
#[derive(Clone, Copy, Debug)]
pub struct TaskForceTerms<'a> {
    pub name: &'a str,
    pub members: &'a [Jurisdiction],
    pub ends_at_unix_ms: i64,
    pub closed: bool,
}

/// Why a task-force question is not answered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TaskForceRefusal {
    #[error("task force {name} was closed")]
    Closed { name: String },
    #[error("task force {name} has ended (its end date passed)")]
    Expired { name: String },
    #[error("{jurisdiction} is not a member of task force {name} on this node")]
    NotAMember {
        name: String,
        jurisdiction: Jurisdiction,
    },
    #[error("node {node} asked on behalf of {asker}: a node asks only for its own jurisdiction's task-force members")]
    ForeignAsker { node: Jurisdiction, asker: String },
}

/// May a member of `asker` ask task force `terms` at time `now`? Only while
/// it is open and before its end date, and only members' jurisdictions.
pub fn authorize_taskforce_member(
    asker: &Jurisdiction,
    terms: &TaskForceTerms<'_>,
    now_unix_ms: i64,
) -> Result<(), TaskForceRefusal> {
    let name = terms.name.to_owned();
    if terms.closed {
        return Err(TaskForceRefusal::Closed { name });
    }
    if now_unix_ms >= terms.ends_at_unix_ms {
        return Err(TaskForceRefusal::Expired { name });
    }
    if !terms.members.contains(asker) {
        return Err(TaskForceRefusal::NotAMember {
            name,
            jurisdiction: asker.clone(),
        });
    }
    Ok(())
}

/// A peer node relays questions of its own task-force members only.
pub fn authorize_peer_asker(node: &Jurisdiction, asker: &Caller) -> Result<(), TaskForceRefusal> {
    if &asker.jurisdiction == node && asker.role == Role::Taskforce {
        Ok(())
    } else {
        Err(TaskForceRefusal::ForeignAsker {
            node: node.clone(),
            asker: asker.to_string(),
        })
    }
}

/// Need-to-know for task forces: may node `answering` reveal — at any level,
/// even as a bare hit — a record issued by `issuer` with the signed
/// `recipients` to a member of `asker`?
///
/// To its own jurisdiction's members a node reveals what it holds (its own
/// records and those naming it). To another jurisdiction's members it
/// reveals only its own records, and only those naming that jurisdiction:
/// never one whose distribution excludes the asker, and never another
/// issuer's record (nodes do not forward; the issuer answers for its own).
pub fn may_disclose(
    answering: &Jurisdiction,
    asker: &Jurisdiction,
    issuer: &Jurisdiction,
    recipients: &[Jurisdiction],
) -> bool {
    if asker == answering {
        return issuer == answering || may_receive(recipients, answering);
    }
    may_send(answering, issuer, recipients, asker)
}

/// The level a node answers at: its own setting for the task force, but a
/// blind (keyed-hash) question gets hit/no-hit only.
pub fn answer_level(configured: DisclosureLevel, blind: bool) -> DisclosureLevel {
    if blind {
        DisclosureLevel::Hit
    } else {
        configured
    }
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
/// A record withdrawing another of this node's (a licence notice's
/// withdrawal) goes to exactly the recipients of what it withdraws: no one
/// new learns of it, and no one who held it is left unaware.
pub fn withdrawal_recipients(withdrawn: &[Jurisdiction]) -> Vec<Jurisdiction> {
    withdrawn.to_vec()
}

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

/// May a record issued by `issuer` be accepted from the node of `sender`?
/// Only from its issuer: nodes never forward another's records.
pub fn may_accept_from(issuer: &Jurisdiction, sender: &Jurisdiction) -> bool {
    issuer == sender
}

/// May a held record that a task-force answer carries be shown at the
/// asking member's node, of jurisdiction `asker`? Only one its issuer
/// addressed to that jurisdiction, or the asker's own.
pub fn may_release_to(
    issuer: &Jurisdiction,
    recipients: &[Jurisdiction],
    asker: &Jurisdiction,
) -> bool {
    issuer == asker || may_receive(recipients, asker)
}

/// Who this node's answer to a consultation goes to: a no-undercut answer
/// back to the requester only; a breach (multilateral) answer to the
/// request's participants (its requester and recipients) that this node has
/// as peers, never itself and never beyond them. Sorted, without repeats.
pub fn response_recipients(
    multilateral: bool,
    requester: &Jurisdiction,
    recipients: &[Jurisdiction],
    own: &Jurisdiction,
    is_peer: impl Fn(&Jurisdiction) -> bool,
) -> Vec<Jurisdiction> {
    if !multilateral {
        return vec![requester.clone()];
    }
    let mut to: Vec<Jurisdiction> = recipients
        .iter()
        .chain(std::iter::once(requester))
        .filter(|j| *j != own && is_peer(j))
        .cloned()
        .collect();
    to.sort();
    to.dedup();
    to
}

/// May `caller` (a peer's node) announce a trust bundle of `bundle`'s
/// jurisdiction? Only its own.
pub fn may_announce(caller: &Caller, bundle: &Jurisdiction) -> Result<(), Denied> {
    if &caller.jurisdiction == bundle {
        return Ok(());
    }
    Err(Denied::ForeignBundle {
        caller: caller.to_string(),
        bundle: bundle.clone(),
    })
}

/// Why a peer's announced bundle is not taken without an admin.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("this node takes {peer}'s new bundle only from its admin (`concord peer update`)")]
pub struct AnnouncedKeysOff {
    pub peer: Jurisdiction,
}

/// May a changed bundle `peer` announced be taken without an admin? Only
/// where the node's admin allowed it (`accept_announced_keys`); the key
/// chain itself is checked by `PeerDirectory::update`.
pub fn may_take_announced(
    accept_announced_keys: bool,
    peer: &Jurisdiction,
) -> Result<(), AnnouncedKeysOff> {
    if accept_announced_keys {
        return Ok(());
    }
    Err(AnnouncedKeysOff { peer: peer.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn announced_bundles_are_taken_only_where_the_admin_allowed_it() {
        assert_eq!(may_take_announced(true, &j("FR")), Ok(()));
        let refused = may_take_announced(false, &j("FR")).unwrap_err();
        assert_eq!(refused.peer, j("FR"));
        assert!(
            refused.to_string().contains("concord peer update"),
            "{refused}"
        );
    }

    #[test]
    fn records_are_accepted_only_from_their_issuer_and_released_only_to_recipients() {
        let (de, fr, jp) = (j("DE"), j("FR"), j("JP"));
        assert!(may_accept_from(&fr, &fr));
        assert!(!may_accept_from(&fr, &jp), "nodes never forward");
        assert!(may_release_to(&fr, std::slice::from_ref(&de), &de));
        assert!(may_release_to(&de, &[], &de), "the asker's own record");
        assert!(!may_release_to(&fr, std::slice::from_ref(&jp), &de));
    }

    #[test]
    fn consultation_answers_go_back_to_the_participants_only() {
        let (de, fr, jp, it) = (j("DE"), j("FR"), j("JP"), j("IT"));
        let peers = [fr.clone(), jp.clone()];
        let is_peer = |x: &Jurisdiction| peers.contains(x);
        let recipients = [de.clone(), jp.clone(), it.clone(), jp.clone()];
        assert_eq!(
            response_recipients(false, &fr, &recipients, &de, is_peer),
            std::slice::from_ref(&fr)
        );
        // Breach: the requester and the other recipients this node reaches,
        // never itself, never IT (not a peer), once each.
        assert_eq!(
            response_recipients(true, &fr, &recipients, &de, is_peer),
            [fr.clone(), jp.clone()]
        );
    }

    #[test]
    fn a_node_announces_only_its_own_bundle() {
        let fr_node = caller("FR", Role::Node);
        assert!(may_announce(&fr_node, &j("FR")).is_ok());
        let refused = may_announce(&fr_node, &j("DE")).unwrap_err();
        assert_eq!(
            refused.to_string(),
            format!("{fr_node} may announce only its own jurisdiction's bundle, not DE's")
        );
    }

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
    fn risk_roles() {
        check(Service::Risk, "DE", Role::Officer, false, true);
        check(Service::Risk, "DE", Role::Analyst, false, true);
        check(Service::Risk, "DE", Role::Admin, false, true);
        check(Service::Risk, "FR", Role::Officer, true, false);
        check(Service::Risk, "DE", Role::Node, false, false);
        check(Service::Risk, "DE", Role::Taskforce, false, false);
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
        let roles = [
            Role::Admin,
            Role::Officer,
            Role::Analyst,
            Role::Taskforce,
            Role::Node,
        ];
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
    fn the_web_console_admits_own_people_and_no_node() {
        for role in [Role::Admin, Role::Officer, Role::Analyst, Role::Taskforce] {
            check(Service::Web, "DE", role, false, true);
            check(Service::Web, "FR", role, true, false);
        }
        check(Service::Web, "DE", Role::Node, false, false);
        check(Service::Web, "FR", Role::Node, true, false);
    }

    #[test]
    fn consult_roles() {
        use ConsultAction as C;
        check(Service::Consult, "DE", Role::Officer, false, true);
        check(Service::Consult, "FR", Role::Officer, true, false);
        check(Service::Consult, "DE", Role::Node, false, false);
        // roles: admin, officer, analyst, taskforce, node
        let roles = [
            Role::Admin,
            Role::Officer,
            Role::Analyst,
            Role::Taskforce,
            Role::Node,
        ];
        for (action, allowed) in [
            (C::RequestUndercut, [false, true, false, false, false]),
            (C::RequestBreach, [false, false, true, false, false]),
            (C::Respond, [false, true, true, false, false]),
            (C::Recognition, [false, true, false, false, false]),
            (C::Read, [true, true, true, false, false]),
        ] {
            for (role, ok) in roles.iter().zip(allowed) {
                let got = authorize_consult(&caller("DE", *role), action);
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

    #[test]
    fn taskforce_roles() {
        use TaskForceAction as T;
        check(Service::TaskForce, "DE", Role::Taskforce, false, true);
        check(Service::TaskForce, "DE", Role::Analyst, false, true);
        check(Service::TaskForce, "DE", Role::Admin, false, true);
        check(Service::TaskForce, "DE", Role::Officer, false, false);
        check(Service::TaskForce, "DE", Role::Node, false, false);
        check(Service::TaskForce, "FR", Role::Taskforce, true, false);
        check(Service::TaskForcePeer, "FR", Role::Node, true, true);
        check(Service::TaskForcePeer, "FR", Role::Node, false, false);
        check(Service::TaskForcePeer, "FR", Role::Taskforce, true, false);
        check(Service::TaskForcePeer, "DE", Role::Node, true, false);
        let roles = [
            Role::Admin,
            Role::Officer,
            Role::Analyst,
            Role::Taskforce,
            Role::Node,
        ];
        for (action, allowed) in [
            (T::Register, [true, false, false, false, false]),
            (T::Read, [true, false, true, true, false]),
            (T::Query, [false, false, false, true, false]),
            (T::Review, [false, false, true, false, false]),
        ] {
            for (role, ok) in roles.iter().zip(allowed) {
                let got = authorize_taskforce(&caller("DE", *role), action);
                assert_eq!(got.is_ok(), ok, "{action:?} by {role}: {got:?}");
            }
        }
        let de = j("DE");
        assert!(authorize_peer_asker(&de, &caller("DE", Role::Taskforce)).is_ok());
        assert!(authorize_peer_asker(&de, &caller("FR", Role::Taskforce)).is_err());
        assert!(authorize_peer_asker(&de, &caller("DE", Role::Admin)).is_err());
    }

    #[test]
    fn taskforce_terms() {
        let members = [j("DE"), j("FR")];
        let terms = |closed| TaskForceTerms {
            name: "ops",
            members: &members,
            ends_at_unix_ms: 1_000,
            closed,
        };
        assert_eq!(
            authorize_taskforce_member(&j("FR"), &terms(false), 999),
            Ok(())
        );
        assert!(matches!(
            authorize_taskforce_member(&j("FR"), &terms(false), 1_000),
            Err(TaskForceRefusal::Expired { .. })
        ));
        assert!(matches!(
            authorize_taskforce_member(&j("FR"), &terms(true), 0),
            Err(TaskForceRefusal::Closed { .. })
        ));
        assert!(matches!(
            authorize_taskforce_member(&j("JP"), &terms(false), 0),
            Err(TaskForceRefusal::NotAMember { .. })
        ));
        assert_eq!(
            answer_level(DisclosureLevel::Full, true),
            DisclosureLevel::Hit
        );
        assert_eq!(
            answer_level(DisclosureLevel::Summary, false),
            DisclosureLevel::Summary
        );
        for l in DisclosureLevel::ALL {
            assert_eq!(l.as_str().parse::<DisclosureLevel>(), Ok(l));
        }
        assert!("Full".parse::<DisclosureLevel>().is_err());
    }

    proptest! {
        /// Whatever the node, asker, issuer and distribution: a record is
        /// revealed to a task-force member only if the member's
        /// jurisdiction issued it or is named in its signed recipient list,
        /// and another jurisdiction's node reveals only its own records.
        #[test]
        fn taskforce_answers_never_reveal_outside_the_distribution(
            answering in code(),
            asker in code(),
            issuer in code(),
            recipients in prop::collection::vec(code(), 0..6),
        ) {
            let revealed = may_disclose(&answering, &asker, &issuer, &recipients);
            if revealed {
                prop_assert!(asker == issuer || recipients.contains(&asker));
                if asker != answering {
                    prop_assert_eq!(&issuer, &answering);
                } else {
                    // What a node shows its own members, it lawfully holds.
                    prop_assert!(issuer == answering || recipients.contains(&answering));
                }
            }
            // The issuer answering a member of a named recipient always may.
            if issuer == answering && recipients.contains(&asker) {
                prop_assert!(revealed);
            }
        }

        /// Only members' jurisdictions, only before the end date, only while open.
        #[test]
        fn taskforce_membership(
            asker in code(),
            members in prop::collection::vec(code(), 0..5),
            ends in 0i64..2_000,
            now in 0i64..2_000,
            closed: bool,
        ) {
            let terms = TaskForceTerms { name: "t", members: &members, ends_at_unix_ms: ends, closed };
            let ok = authorize_taskforce_member(&asker, &terms, now).is_ok();
            prop_assert_eq!(ok, !closed && now < ends && members.contains(&asker));
        }

        /// Task forces are for the own jurisdiction's people; the peer half
        /// for registered peers' nodes only.
        #[test]
        fn taskforce_services(j in "[A-Z]{2}", r in role(), is_peer: bool) {
            let own: Jurisdiction = "DE".parse().unwrap();
            let c = caller(&j, r);
            let local = authorize(Service::TaskForce, &c, &own, is_peer).is_ok();
            prop_assert_eq!(local, j == "DE" && matches!(r, Role::Taskforce | Role::Analyst | Role::Admin));
            let peer = authorize(Service::TaskForcePeer, &c, &own, is_peer).is_ok();
            prop_assert_eq!(peer, j != "DE" && r == Role::Node && is_peer);
        }
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
