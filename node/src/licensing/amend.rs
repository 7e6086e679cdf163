//! Correcting an application: an amendment replaces its terms with a new
//! revision (the earlier ones kept), a returned application is resubmitted.
//! The caller re-scores and re-screens it afterwards, as after submission.

use super::licenses::Decided;
use super::lifecycle::{self, LicenseAction};
use super::model::{text, Application, Decision, ItemDraft, License, Revision, MAX_TEXT};
use super::{key, Kind, Licensing};
use crate::audit::Action;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::exchange::Distribution;
use crate::identity::Caller;

/// What an amendment changes; None keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Amendment {
    pub applicant: Option<String>,
    /// Replaces every item.
    pub items: Option<Vec<ItemDraft>>,
    pub end_user: Option<String>,
    pub consignee: Option<String>,
    pub intermediaries: Option<Vec<String>>,
    pub destination: Option<String>,
    pub end_use: Option<String>,
}

impl Amendment {
    pub fn is_empty(&self) -> bool {
        *self == Amendment::default()
    }

    fn apply_to(self, l: &License) -> Application {
        Application {
            applicant: self.applicant.unwrap_or_else(|| l.applicant.clone()),
            items: self.items.unwrap_or_else(|| {
                l.items
                    .iter()
                    .map(|i| ItemDraft {
                        code: i.code.clone(),
                        description: i.description.clone(),
                        quantity: i.quantity,
                        value: i.value.clone(),
                    })
                    .collect()
            }),
            end_user: self.end_user.unwrap_or_else(|| l.end_user.clone()),
            consignee: self.consignee.unwrap_or_else(|| l.consignee.clone()),
            intermediaries: self
                .intermediaries
                .unwrap_or_else(|| l.intermediaries.clone()),
            destination: self.destination.unwrap_or_else(|| l.destination.clone()),
            end_use: self.end_use.unwrap_or_else(|| l.end_use.clone()),
        }
    }
}

impl Licensing {
    /// Amends license `id` (submitted, under review or returned): a new
    /// revision, checked like a submission, its state unchanged.
    pub async fn amend(
        &self,
        officer: &Caller,
        id: &str,
        change: Amendment,
        rationale: &str,
    ) -> Result<License> {
        text("rationale", rationale, true, MAX_TEXT).map_err(Error::InvalidArgument)?;
        if change.is_empty() {
            return Err(Error::InvalidArgument(
                "an amendment changes at least one field of the application".into(),
            ));
        }
        let n = self.number(Kind::License, id)?;
        let guard = self.writing.lock().await;
        let mut license = self.license(id)?;
        let now = now_unix_ms();
        let state = license.state_at(now);
        lifecycle::transition(id, state, LicenseAction::Amend)?;
        if let Some(p) = &license.pending {
            return Err(Error::FailedPrecondition(format!(
                "license {id} has a decision to {} pending countersignature; \
                 it is countersigned or rejected before the application changes",
                p.action
            )));
        }
        let app = change.apply_to(&license);
        let (catalog_version, items) = self.resolve(&app)?;
        let officer_id = officer.to_string();
        let before = Revision {
            revision: license.revision,
            applicant: std::mem::replace(&mut license.applicant, app.applicant),
            items: std::mem::replace(&mut license.items, items),
            end_user: std::mem::replace(&mut license.end_user, app.end_user),
            consignee: std::mem::replace(&mut license.consignee, app.consignee),
            intermediaries: std::mem::replace(&mut license.intermediaries, app.intermediaries),
            destination: std::mem::replace(&mut license.destination, app.destination),
            end_use: std::mem::replace(&mut license.end_use, app.end_use),
            catalog_version: std::mem::replace(&mut license.catalog_version, catalog_version),
            replaced_at_unix_ms: now,
            replaced_by: officer_id.clone(),
            rationale: rationale.to_owned(),
        };
        let changed = changed_fields(&before, &license);
        license.revisions.push(before);
        license.revision += 1;
        license.updated_at_unix_ms = now;
        license.history.push(Decision {
            action: LicenseAction::Amend,
            from: Some(state),
            to: state,
            officer: officer_id.clone(),
            at_unix_ms: now,
            rationale: rationale.to_owned(),
            waivers: Vec::new(),
            denial: None,
            reviewed: None,
        });
        let mut batch = self.store.batch();
        self.trees.licenses.put(&mut batch, key(n), &license)?;
        let record = format!("{id} revision {}", license.revision);
        let audit_rationale = format!("changed {}: {rationale}", changed.join(", "));
        self.commit(
            guard,
            batch,
            Action {
                actor: &officer_id,
                action: LicenseAction::Amend.audit_action(),
                record: &record,
                rationale: &audit_rationale,
            },
        )
        .await?;
        tracing::info!(officer = %officer_id, id, revision = license.revision, "license amended");
        self.license(id)
    }

    /// Resubmits a returned application: it is `submitted` again.
    pub async fn resubmit(&self, officer: &Caller, id: &str, rationale: &str) -> Result<License> {
        text("rationale", rationale, true, MAX_TEXT).map_err(Error::InvalidArgument)?;
        let n = self.number(Kind::License, id)?;
        let _guard = self.writing.lock().await;
        let license = self.license(id)?;
        let decided = Decided {
            action: LicenseAction::Resubmit,
            officer: officer.to_string(),
            at_unix_ms: now_unix_ms(),
            rationale: rationale.to_owned(),
            terms: Default::default(),
            dist: Distribution::default(),
            reviewed: None,
            actor: officer.clone(),
        };
        self.apply(n, license, decided).await
    }
}

fn changed_fields(before: &Revision, now: &License) -> Vec<&'static str> {
    let mut out = Vec::new();
    let pairs: [(&'static str, bool); 7] = [
        ("applicant", before.applicant != now.applicant),
        ("items", before.items != now.items),
        ("end user", before.end_user != now.end_user),
        ("consignee", before.consignee != now.consignee),
        (
            "intermediaries",
            before.intermediaries != now.intermediaries,
        ),
        ("destination", before.destination != now.destination),
        ("end use", before.end_use != now.end_use),
    ];
    for (name, changed) in pairs {
        if changed {
            out.push(name);
        }
    }
    if out.is_empty() {
        out.push("nothing (same terms)");
    }
    out
}
