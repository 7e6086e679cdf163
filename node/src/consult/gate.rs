//! The no-undercut gate licensing asks before every approval.
//!
//! It compares the application with every active, signature-valid denial
//! notice a *peer* issued (this node's own denials are its own business),
//! and refuses the approval while a resembling denial has no answered
//! consultation from this node about it and this license.

use std::sync::Arc;

use super::matcher::{self, Intended, ItemClass, PartyNames, Resemblance};
use super::threads::{self, consultation, Thread};
use crate::error::{Error, Result};
use crate::exchange::consultation::Consultation;
use crate::exchange::records::DenialNotice;
use crate::exchange::{Exchange, Record, RecordKind, RecordView, SignatureCheck};
use crate::identity::Jurisdiction;
use crate::licensing::{ApprovalGate, Category, License, Licensing};

/// A peer denial an approval of the license would undercut.
#[derive(Clone, Debug)]
pub struct Finding {
    pub denial: DenialNotice,
    pub resemblance: Resemblance,
    /// This node's consultations about the denial and the license, newest first.
    pub consultations: Vec<Thread>,
}

impl Finding {
    /// The consultation that releases the block, with the answer: the denying
    /// jurisdiction answered (whatever its position — the officer decides).
    pub fn released_by(&self) -> Option<(&Thread, &Consultation)> {
        self.consultations.iter().find_map(|t| {
            t.answers()
                .filter(|v| v.header.issuer == self.denial.issuer)
                .find_map(consultation)
                .map(|answer| (t, answer))
        })
    }
}

pub struct NoUndercut {
    pub(super) own: Jurisdiction,
    pub(super) exchange: Arc<Exchange>,
    /// The node's screening threshold: a party "is" the denied party from here up.
    threshold: f32,
    /// `[consult] silence_means = "no-objection"`.
    silence_is_no_objection: bool,
}

impl NoUndercut {
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    pub fn new(own: Jurisdiction, exchange: Arc<Exchange>, threshold: f32) -> Self {
        NoUndercut {
            own,
            exchange,
            threshold,
            silence_is_no_objection: false,
        }
    }

    /// Silence past a consultation's deadline releases the gate as a no-objection.
    pub fn silence_is_no_objection(mut self, yes: bool) -> Self {
        self.silence_is_no_objection = yes;
        self
    }

    /// The application as the rule compares it: party names from the
    /// registry, item categories as recorded at submission.
    pub fn intended(licensing: &Licensing, license: &License) -> Result<Intended> {
        let roles = [
            ("applicant", &license.applicant),
            ("end user", &license.end_user),
            ("consignee", &license.consignee),
        ]
        .into_iter()
        .chain(license.intermediaries.iter().map(|p| ("intermediary", p)));
        let mut parties = Vec::new();
        for (role, id) in roles {
            let p = licensing.party(id)?;
            parties.push(PartyNames {
                role,
                name: p.name,
                aliases: p.aliases,
            });
        }
        Ok(Intended {
            parties,
            items: license
                .items
                .iter()
                .map(|i| ItemClass {
                    code: i.code.clone(),
                    category: i.category,
                })
                .collect(),
            destination: license.destination.clone(),
        })
    }

    /// Every active peer denial `license` resembles, with this node's
    /// consultations about it.
    pub fn findings(&self, licensing: &Licensing, license: &License) -> Result<Vec<Finding>> {
        let intended = Self::intended(licensing, license)?;
        let categories = Categories::new(licensing);
        let category_of = |code: &str| categories.of(code);
        // Only denials to the intended destination can resemble it.
        let prepared = matcher::Prepared::new(&intended);
        let resembles = |d: &crate::exchange::records::DenialNotice| {
            d.issuer != self.own
                && prepared
                    .resemblance(d, &category_of, self.threshold)
                    .is_some()
        };
        let views = self
            .exchange
            .denials_to(&intended.destination, &resembles)?;
        self.findings_in(license, &prepared, &category_of, views)
    }

    /// Like [`NoUndercut::findings`], among the denials `candidates` (issuer,
    /// id) only: for a view that knows which denials name the application's
    /// parties (the risk sets), so it need not read every denial to the
    /// destination.
    pub fn findings_among(
        &self,
        licensing: &Licensing,
        license: &License,
        candidates: &[(String, String)],
    ) -> Result<Vec<Finding>> {
        let intended = Self::intended(licensing, license)?;
        let prepared = matcher::Prepared::new(&intended);
        let categories = Categories::new(licensing);
        let category_of = |code: &str| categories.of(code);
        let now = crate::clock::now_unix_ms();
        let mut views = Vec::new();
        for (issuer, id) in candidates {
            if issuer == self.own.as_str() {
                continue;
            }
            let current = match self.exchange.history(RecordKind::Denial, id) {
                Ok(mut versions) => versions.pop(),
                Err(crate::error::Error::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            if let Some(view) = current.filter(|v| v.is_active(now)) {
                views.push(view);
            }
        }
        self.findings_in(license, &prepared, &category_of, views)
    }

    /// The findings among `views`: peer denials, signature valid, that
    /// resemble the application, with this node's consultations about them.
    fn findings_in(
        &self,
        license: &License,
        prepared: &matcher::Prepared<'_>,
        category_of: &dyn Fn(&str) -> Option<Category>,
        views: Vec<RecordView>,
    ) -> Result<Vec<Finding>> {
        let mut found = Vec::new();
        for view in views {
            if view.header.issuer == self.own || view.signature != SignatureCheck::Valid {
                continue;
            }
            let Record::Denial(denial) = view.record else {
                continue;
            };
            if let Some(resemblance) = prepared.resemblance(&denial, category_of, self.threshold) {
                found.push((denial, resemblance));
            }
        }
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let mine: Vec<Thread> = threads::threads(&self.exchange)?
            .into_iter()
            .filter(|t| t.request.header.issuer == self.own)
            .collect();
        Ok(found
            .into_iter()
            .map(|(denial, resemblance)| {
                let consultations = mine
                    .iter()
                    .filter(|t| {
                        t.asked().is_some_and(|r| {
                            r.denial
                                .as_ref()
                                .is_some_and(|d| d.id == denial.id && d.issuer == denial.issuer)
                                && r.intended
                                    .as_ref()
                                    .is_some_and(|i| i.license_id == license.id)
                        })
                    })
                    .cloned()
                    .collect();
                Finding {
                    denial,
                    resemblance,
                    consultations,
                }
            })
            .collect())
    }
}

impl NoUndercut {
    /// For each resembling denial, a notice to its issuer and every
    /// jurisdiction it was addressed to that `license` was granted, with why.
    fn grant_notices(
        &self,
        licensing: &Licensing,
        license: &License,
        rationale: &str,
    ) -> Result<Vec<crate::licensing::ApprovalNotice>> {
        use crate::exchange::consultation::{ConsultationBody, DenialRef, GrantNotice};
        let peers = self.exchange.peers().current();
        let mut out = Vec::new();
        for f in self.findings(licensing, license)? {
            let Some(denial) = self
                .exchange
                .history(RecordKind::Denial, &f.denial.id)?
                .pop()
            else {
                continue;
            };
            let mut to: Vec<Jurisdiction> = denial
                .header
                .recipients
                .iter()
                .chain(std::iter::once(&f.denial.issuer))
                .filter(|j| **j != self.own && peers.contains_key(*j))
                .cloned()
                .collect();
            to.sort();
            to.dedup();
            if to.is_empty() {
                continue;
            }
            let names: Vec<&str> = to.iter().map(|j| j.as_str()).collect();
            let why = format!(
                "granted {} despite denial {}; told {}",
                license.id,
                f.denial.id,
                names.join(", ")
            );
            out.push(crate::licensing::ApprovalNotice {
                body: ConsultationBody::Grant(GrantNotice {
                    denial: DenialRef {
                        id: f.denial.id.clone(),
                        issuer: f.denial.issuer.clone(),
                        version: f.denial.version,
                    },
                    license_id: license.id.clone(),
                    rationale: rationale
                        .chars()
                        .take(crate::exchange::records::MAX_TEXT)
                        .collect(),
                }),
                dist: crate::exchange::Distribution {
                    to,
                    groups: Vec::new(),
                },
                action: "consult.grant-notice",
                why,
            });
        }
        Ok(out)
    }
}

/// Catalog categories of control-list codes, each read once: thousands of
/// denials go to one destination and name a few dozen codes between them.
pub(super) struct Categories<'a> {
    licensing: &'a Licensing,
    seen: std::cell::RefCell<std::collections::HashMap<String, Option<Category>>>,
}

impl<'a> Categories<'a> {
    pub(super) fn new(licensing: &'a Licensing) -> Self {
        Categories {
            licensing,
            seen: Default::default(),
        }
    }

    pub(super) fn of(&self, code: &str) -> Option<Category> {
        if let Some(c) = self.seen.borrow().get(code) {
            return *c;
        }
        let c = self
            .licensing
            .catalog_entry_history(code)
            .ok()
            .and_then(|h| h.last().map(|(_, e)| e.category));
        self.seen.borrow_mut().insert(code.to_owned(), c);
        c
    }
}

impl ApprovalGate for NoUndercut {
    fn approval_notices(
        &self,
        licensing: &Licensing,
        license: &License,
        rationale: &str,
    ) -> Result<Vec<crate::licensing::ApprovalNotice>> {
        self.grant_notices(licensing, license, rationale)
    }

    fn revocation_notices(
        &self,
        licensing: &Licensing,
        license: &License,
        rationale: &str,
    ) -> Result<Vec<crate::licensing::ApprovalNotice>> {
        self.notice_withdrawals(licensing, license, rationale)
    }

    fn check_approval(&self, licensing: &Licensing, license: &License) -> Result<Vec<String>> {
        let findings = self.findings(licensing, license)?;
        let mut blocked = Vec::new();
        let mut notes = Vec::new();
        for f in &findings {
            let silent = || {
                let now = crate::clock::now_unix_ms();
                f.consultations
                    .iter()
                    .find(|t| self.silence_is_no_objection && t.overdue(now))
            };
            match f.released_by() {
                None if silent().is_some() => {
                    let thread = silent().map(Thread::id).unwrap_or_default();
                    notes.push(format!(
                        "No undercut: {} consulted on denial {} in {thread}, gave no answer by the \
                         deadline; this node counts silence as no objection \
                         ([consult] silence_means).",
                        f.denial.issuer, f.denial.id
                    ));
                }
                Some((thread, answer)) => {
                    let position = answer
                        .response()
                        .map(|r| r.position.as_str())
                        .unwrap_or_default();
                    notes.push(format!(
                        "No undercut: {} consulted on denial {} in {}, answered {} ({position}).",
                        f.denial.issuer,
                        f.denial.id,
                        thread.id(),
                        answer.id
                    ));
                }
                None => blocked.push(refusal(&license.id, f)),
            }
        }
        if blocked.is_empty() {
            Ok(notes)
        } else {
            Err(Error::FailedPrecondition(blocked.join("; ")))
        }
    }
}

/// Why one denial blocks the approval, and what to do about it.
fn refusal(license: &str, f: &Finding) -> String {
    let d = &f.denial;
    let pending = match f.consultations.first() {
        Some(t) => format!(
            "consultation {} with {} is {}; approval waits for {}'s answer",
            t.id(),
            d.issuer,
            t.status(),
            d.issuer
        ),
        None => format!(
            "consult {} first: concord consult request --license {license} --denial {} --text ...",
            d.issuer, d.id
        ),
    };
    format!(
        "approving {license} would undercut active denial {} by {} ({}); {pending}",
        d.id, d.issuer, f.resemblance
    )
}
