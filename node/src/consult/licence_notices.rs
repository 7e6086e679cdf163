//! Mutual recognition of licences: a jurisdiction shares an approved
//! licence with chosen partners as a signed licence notice (its parties,
//! items, destination, validity and conditions; never the internal file),
//! and each partner records whether it recognises it. Recognised licences
//! in force are shown to officers screening a party the licence names and
//! deciding an application that resembles it (never as a clearance: they
//! release no block and lower no score).
//!
//! A notice is an exchange record (a consultation body), so it is signed,
//! delivered need-to-know through the outbox and catch-up, and audited at
//! both ends. Revoking the licence withdraws each of its notices in the
//! revocation's own batch (the first) or right after; the sweep
//! ([`Consult::follow`]) withdraws what a crash left, and notices of
//! licences past their validity.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::gate::{Categories, NoUndercut};
use super::matcher::{self, Prepared};
use super::threads::consultation;
use super::Consult;
use crate::error::{Error, Result};
use crate::exchange::consultation::{
    ConsultationBody, LicenceNotice, LicenceWithdrawal, LicensedItem, LicensedParty,
};
use crate::exchange::records::Party as NoticeParty;
use crate::exchange::{Distribution, RecordKind, RecordView, SignatureCheck};
use crate::identity::{Caller, Jurisdiction, Role};
use crate::licensing::{ApprovalNotice, License, LicenseState, Licensing, Recognition};

/// How often the sweep looks for notices of licences that ran out.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

crate::kebab::kebab_enum!(
    /// Where a licence notice stands at the node reading it.
    NoticeStanding {
        InForce = "in-force",
        Expired = "expired",
        Withdrawn = "withdrawn",
    }
);

/// A licence notice held here, with its withdrawal and this jurisdiction's
/// decision on it (partners' notices only).
#[derive(Clone, Debug)]
pub struct HeldNotice {
    pub view: RecordView,
    pub notice: LicenceNotice,
    pub withdrawal: Option<RecordView>,
    pub recognition: Option<Recognition>,
}

impl HeldNotice {
    pub fn id(&self) -> &str {
        &self.view.header.record_id
    }

    pub fn issuer(&self) -> &Jurisdiction {
        &self.view.header.issuer
    }

    pub fn standing(&self, now_unix_ms: i64) -> NoticeStanding {
        if self.withdrawal.is_some() {
            NoticeStanding::Withdrawn
        } else if self.notice.valid_until_unix_ms <= now_unix_ms {
            NoticeStanding::Expired
        } else {
            NoticeStanding::InForce
        }
    }

    /// recognised, declined or undecided; empty for this node's own.
    pub fn decision(&self, own: &Jurisdiction) -> &'static str {
        if self.issuer() == own {
            ""
        } else {
            self.recognition
                .as_ref()
                .map_or("undecided", Recognition::decision)
        }
    }

    /// A partner's notice this jurisdiction recognised, verified and in force.
    fn counts(&self, own: &Jurisdiction, now_unix_ms: i64) -> bool {
        self.issuer() != own
            && self.view.signature == SignatureCheck::Valid
            && self.recognition.as_ref().is_some_and(|r| r.recognised)
            && self.standing(now_unix_ms) == NoticeStanding::InForce
    }

    fn names(p: &LicensedParty) -> Vec<&str> {
        std::iter::once(p.party.name.as_str())
            .chain(p.party.aliases.iter().map(String::as_str))
            .collect()
    }
}

/// A recognised partner licence that names a party or resembles an application.
#[derive(Clone, Debug)]
pub struct PartnerLicenceMatch {
    pub notice: HeldNotice,
    pub role: String,
    pub party: String,
    pub matched_name: String,
    pub score: f32,
    /// For applications: how the licence resembles it.
    pub resemblance: String,
}

/// What [`Consult::licence_notices`] lists; `None` admits everything.
#[derive(Clone, Debug, Default)]
pub struct NoticeFilter {
    pub issuer: Option<Jurisdiction>,
    pub license_id: Option<String>,
    /// recognised, declined, undecided
    pub decision: Option<String>,
    pub standing: Option<NoticeStanding>,
}

/// Every licence notice held, newest first, read once per change.
#[derive(Default)]
pub(super) struct NoticeCache {
    /// Bumped by every consultation record stored and every decision.
    generation: AtomicU64,
    held: std::sync::Mutex<Option<(u64, Arc<Vec<HeldNotice>>)>>,
}

impl NoticeCache {
    pub(super) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// Every licence notice held, with withdrawals by their issuer and decisions.
fn read_notices(
    exchange: &crate::exchange::Exchange,
    licensing: &Licensing,
) -> Result<Vec<HeldNotice>> {
    let mut notices = Vec::new();
    // Keyed by (issuer, notice id): only a notice's issuer withdraws it.
    let mut withdrawals: BTreeMap<(Jurisdiction, String), RecordView> = BTreeMap::new();
    for view in exchange.list(RecordKind::Consultation, &Default::default())? {
        let Some(c) = consultation(&view) else {
            continue;
        };
        match &c.body {
            ConsultationBody::LicenceNotice(n) => {
                let n = n.clone();
                notices.push((view, n));
            }
            ConsultationBody::LicenceWithdrawal(w) if view.signature == SignatureCheck::Valid => {
                withdrawals.insert((view.header.issuer.clone(), w.notice_id.clone()), view);
            }
            _ => {}
        }
    }
    let recognitions: BTreeMap<String, Recognition> = licensing
        .recognitions()?
        .into_iter()
        .map(|r| (r.notice_id.clone(), r))
        .collect();
    let mut out: Vec<HeldNotice> = notices
        .into_iter()
        .map(|(view, notice)| {
            let key = (view.header.issuer.clone(), view.header.record_id.clone());
            HeldNotice {
                withdrawal: withdrawals.remove(&key),
                recognition: recognitions
                    .get(&view.header.record_id)
                    .filter(|r| r.issuer == view.header.issuer)
                    .cloned(),
                view,
                notice,
            }
        })
        .collect();
    out.sort_by_key(|n| std::cmp::Reverse(n.view.header.issued_at_unix_ms));
    Ok(out)
}

/// The withdrawal of each notice of `license` still standing, to its recipients.
fn withdrawals_of(
    held: &[HeldNotice],
    own: &Jurisdiction,
    license: &License,
    reason: &str,
    rationale: &str,
) -> Vec<ApprovalNotice> {
    held.iter()
        .filter(|n| {
            n.issuer() == own && n.withdrawal.is_none() && n.notice.license_id == license.id
        })
        .map(|n| ApprovalNotice {
            body: ConsultationBody::LicenceWithdrawal(LicenceWithdrawal {
                notice_id: n.id().to_owned(),
                license_id: license.id.clone(),
                reason: reason.to_owned(),
                rationale: rationale
                    .chars()
                    .take(crate::exchange::records::MAX_TEXT)
                    .collect(),
            }),
            dist: Distribution {
                to: crate::policy::withdrawal_recipients(&n.view.header.recipients),
                groups: Vec::new(),
            },
            action: "license.notice-withdraw",
            why: format!(
                "licence {} {reason}: notice {} withdrawn from {}",
                license.id,
                n.id(),
                n.view
                    .header
                    .recipients
                    .iter()
                    .map(|j| j.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
        .collect()
}

impl NoUndercut {
    /// The withdrawals revoking `license` sends (see [`crate::licensing::ApprovalGate`]).
    pub(super) fn notice_withdrawals(
        &self,
        licensing: &Licensing,
        license: &License,
        rationale: &str,
    ) -> Result<Vec<ApprovalNotice>> {
        let held = read_notices(&self.exchange, licensing)?;
        Ok(withdrawals_of(
            &held, &self.own, license, "revoked", rationale,
        ))
    }
}

impl Consult {
    /// Every licence notice held, newest first (cached until a consultation
    /// record is stored or a decision made).
    fn held_notices(&self) -> Result<Arc<Vec<HeldNotice>>> {
        let generation = self.notices.generation.load(Ordering::SeqCst);
        if let Ok(guard) = self.notices.held.lock() {
            if let Some((g, held)) = guard.as_ref() {
                if *g == generation {
                    return Ok(held.clone());
                }
            }
        }
        let held = Arc::new(read_notices(&self.exchange, &self.licensing)?);
        if let Ok(mut guard) = self.notices.held.lock() {
            *guard = Some((generation, held.clone()));
        }
        Ok(held)
    }

    /// The notices `filter` admits, newest first.
    pub fn licence_notices(&self, filter: &NoticeFilter) -> Result<Vec<HeldNotice>> {
        let now = crate::clock::now_unix_ms();
        Ok(self
            .held_notices()?
            .iter()
            .filter(|n| filter.issuer.as_ref().is_none_or(|j| n.issuer() == j))
            .filter(|n| {
                filter
                    .license_id
                    .as_ref()
                    .is_none_or(|l| &n.notice.license_id == l)
            })
            .filter(|n| {
                filter
                    .decision
                    .as_ref()
                    .is_none_or(|d| n.decision(&self.own) == d)
            })
            .filter(|n| filter.standing.is_none_or(|s| n.standing(now) == s))
            .cloned()
            .collect())
    }

    /// One notice by its id.
    pub fn licence_notice(&self, id: &str) -> Result<HeldNotice> {
        self.held_notices()?
            .iter()
            .find(|n| n.id() == id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no licence notice {id:?} held")))
    }

    /// Shares approved licence `license_id` with `to` as a signed notice.
    pub async fn share_licence(
        &self,
        officer: &Caller,
        license_id: &str,
        to: Vec<Jurisdiction>,
        text: String,
    ) -> Result<HeldNotice> {
        let _writing = self.writing.lock().await;
        let now = crate::clock::now_unix_ms();
        let license = self.licensing.license(license_id)?;
        let state = license.state_at(now);
        let terms = match (&license.terms, state) {
            (Some(t), LicenseState::Approved) => t.clone(),
            _ => {
                return Err(Error::FailedPrecondition(format!(
                    "licence {license_id} is {state}: only an approved licence in force is shared"
                )))
            }
        };
        if to.is_empty() {
            return Err(Error::InvalidArgument(
                "name the partners to share it with (--to FR,JP)".into(),
            ));
        }
        if to.contains(&self.own) {
            return Err(Error::InvalidArgument(format!(
                "{} is this node's own jurisdiction",
                self.own
            )));
        }
        let held = self.held_notices()?;
        for j in &to {
            if let Some(n) = held.iter().find(|n| {
                n.issuer() == &self.own
                    && n.withdrawal.is_none()
                    && n.notice.license_id == license.id
                    && crate::policy::may_receive(&n.view.header.recipients, j)
            }) {
                return Err(Error::AlreadyExists(format!(
                    "licence {license_id} is already shared with {j} in notice {}",
                    n.id()
                )));
            }
        }
        let intended = NoUndercut::intended(&self.licensing, &license)?;
        let mut parties = Vec::new();
        let roles = [&license.applicant, &license.end_user, &license.consignee]
            .into_iter()
            .chain(&license.intermediaries);
        for (id, named) in roles.zip(&intended.parties) {
            let p = self.licensing.party(id)?;
            parties.push(LicensedParty {
                role: named.role.to_owned(),
                party: NoticeParty {
                    name: p.name,
                    aliases: p.aliases,
                    country: p.country,
                    address: p.address,
                },
            });
        }
        let body = ConsultationBody::LicenceNotice(LicenceNotice {
            license_id: license.id.clone(),
            parties,
            items: license
                .items
                .iter()
                .map(|i| LicensedItem {
                    code: i.code.clone(),
                    description: i.description.clone(),
                    quantity: i.quantity,
                })
                .collect(),
            destination: license.destination.clone(),
            end_use: license.end_use.clone(),
            valid_from_unix_ms: terms.valid_from_unix_ms,
            valid_until_unix_ms: terms.valid_until_unix_ms,
            conditions: terms.conditions.clone(),
            text,
        });
        let names: Vec<&str> = to.iter().map(|j| j.as_str()).collect();
        let why = format!("licence {license_id} shared with {}", names.join(", "));
        let dist = Distribution {
            to,
            groups: Vec::new(),
        };
        let view = self
            .exchange
            .issue_consultation(officer, body, dist, "license.share", why)
            .await?;
        self.notices.changed();
        tracing::info!(%officer, license = license_id, notice = %view.header.record_id, "licence shared");
        self.licence_notice(&view.header.record_id)
    }

    /// Records whether this jurisdiction recognises partner notice `id`.
    pub async fn decide_licence_notice(
        &self,
        officer: &Caller,
        id: &str,
        recognise: bool,
        rationale: String,
    ) -> Result<HeldNotice> {
        let held = self.licence_notice(id)?;
        if held.issuer() == &self.own {
            return Err(Error::FailedPrecondition(format!(
                "{id} is this node's own notice; partners decide whether they recognise it"
            )));
        }
        if held.view.signature != SignatureCheck::Valid {
            return Err(Error::FailedPrecondition(format!(
                "notice {id} does not verify against {}'s keys",
                held.issuer()
            )));
        }
        let standing = held.standing(crate::clock::now_unix_ms());
        if recognise && standing != NoticeStanding::InForce {
            return Err(Error::FailedPrecondition(format!(
                "notice {id} is {standing}: only a licence in force is recognised"
            )));
        }
        self.licensing
            .decide_recognition(Recognition {
                notice_id: id.to_owned(),
                issuer: held.issuer().clone(),
                license_id: held.notice.license_id.clone(),
                recognised: recognise,
                rationale,
                by: officer.to_string(),
                at_unix_ms: crate::clock::now_unix_ms(),
            })
            .await?;
        self.notices.changed();
        self.licence_notice(id)
    }

    /// Recognised partner licences in force naming a party that matches
    /// `name` at or above `threshold`, best first.
    pub fn recognised_naming(
        &self,
        name: &str,
        threshold: f32,
    ) -> Result<Vec<PartnerLicenceMatch>> {
        let now = crate::clock::now_unix_ms();
        let mut out = Vec::new();
        for n in self
            .held_notices()?
            .iter()
            .filter(|n| n.counts(&self.own, now))
        {
            let best = n
                .notice
                .parties
                .iter()
                .filter_map(|p| {
                    let names = HeldNotice::names(p);
                    matcher::name_match(name, &names, threshold)
                        .map(|(score, m)| (score, p, m.to_owned()))
                })
                .max_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((score, p, matched_name)) = best {
                out.push(PartnerLicenceMatch {
                    notice: n.clone(),
                    role: p.role.clone(),
                    party: p.party.name.clone(),
                    matched_name,
                    score,
                    resemblance: String::new(),
                });
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(out)
    }

    /// Recognised partner licences in force that resemble application
    /// `license_id` by the no-undercut rule (destination, item code or
    /// category, a party at or above the screening threshold).
    pub fn recognised_resembling(&self, license_id: &str) -> Result<Vec<PartnerLicenceMatch>> {
        let license = self.licensing.license(license_id)?;
        let now = crate::clock::now_unix_ms();
        let counting: Vec<HeldNotice> = self
            .held_notices()?
            .iter()
            .filter(|n| n.counts(&self.own, now))
            .cloned()
            .collect();
        if counting.is_empty() {
            return Ok(Vec::new());
        }
        let intended = NoUndercut::intended(&self.licensing, &license)?;
        let prepared = Prepared::new(&intended);
        let categories = Categories::new(&self.licensing);
        let category_of = |code: &str| categories.of(code);
        let mut out = Vec::new();
        for n in counting {
            let codes: Vec<&str> = n.notice.items.iter().map(|i| i.code.as_str()).collect();
            let best = n
                .notice
                .parties
                .iter()
                .filter_map(|p| {
                    let names = HeldNotice::names(p);
                    prepared
                        .resembles(
                            &n.notice.destination,
                            &codes,
                            &names,
                            &category_of,
                            self.threshold(),
                        )
                        .map(|r| (p, r))
                })
                .max_by(|a, b| a.1.score.total_cmp(&b.1.score));
            if let Some((p, r)) = best {
                let item = match &r.item {
                    matcher::ItemOverlap::Code(c) => format!("same item {c}"),
                    matcher::ItemOverlap::Category(theirs, ours, cat) => {
                        format!("item {ours} is {cat} like licensed {theirs}")
                    }
                };
                out.push(PartnerLicenceMatch {
                    resemblance: format!(
                        "{} {:?} matches {} {:?} on {}'s licence {} (score {:.2}), {item}, same destination {}",
                        r.role, r.party, p.role, r.denied_party, n.issuer(), n.notice.license_id, r.score, r.destination
                    ),
                    role: p.role.clone(),
                    party: p.party.name.clone(),
                    matched_name: r.denied_party.clone(),
                    score: r.score,
                    notice: n,
                });
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(out)
    }

    /// Withdraws every notice this node shared whose licence is revoked or
    /// past its validity; the number withdrawn.
    pub async fn withdraw_lapsed_notices(&self) -> Result<usize> {
        let _writing = self.writing.lock().await;
        let now = crate::clock::now_unix_ms();
        let held = self.held_notices()?;
        let system = Caller {
            jurisdiction: self.own.clone(),
            role: Role::Node,
            name: "system".into(),
        };
        let mut done = 0;
        let mut licences: Vec<&str> = held
            .iter()
            .filter(|n| n.issuer() == &self.own && n.withdrawal.is_none())
            .map(|n| n.notice.license_id.as_str())
            .collect();
        licences.sort_unstable();
        licences.dedup();
        for id in licences {
            let license = match self.licensing.license(id) {
                Ok(l) => l,
                Err(Error::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let reason = match license.state_at(now) {
                LicenseState::Revoked => "revoked",
                LicenseState::Expired => "expired",
                _ => continue,
            };
            let rationale = format!("licence {id} is {reason}");
            for w in withdrawals_of(&held, &self.own, &license, reason, &rationale) {
                self.exchange
                    .issue_consultation(&system, w.body, w.dist, w.action, w.why)
                    .await?;
                done += 1;
            }
        }
        if done > 0 {
            self.notices.changed();
            tracing::info!(
                notices = done,
                "licence notices of revoked or expired licences withdrawn"
            );
        }
        Ok(done)
    }

    /// Keeps the notice cache current and withdraws lapsed notices, at start
    /// and then every [`SWEEP_EVERY`], until `stopping`.
    pub async fn follow(self: Arc<Self>, stopping: tokio::sync::watch::Receiver<bool>) {
        let mut stored = self.exchange.watch();
        let stop = crate::shutdown::requested(stopping);
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(error) = self.withdraw_lapsed_notices().await {
                        tracing::error!(%error, "cannot withdraw the notices of lapsed licences");
                    }
                }
                got = stored.recv() => match got {
                    Ok(view) if view.header.kind == RecordKind::Consultation => self.notices.changed(),
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => self.notices.changed(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = &mut stop => return,
            }
        }
    }
}
