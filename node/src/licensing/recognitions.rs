//! This jurisdiction's decisions on partners' licence notices (mutual
//! recognition): recognised or declined, by whom, when and why.
//!
//! Licensing keeps only the decision, keyed by the notice id; the notice
//! itself is a signed exchange record that `consult` reads and checks.

use serde::{Deserialize, Serialize};

use super::model::MAX_TEXT;
use super::Licensing;
use crate::audit::Action;
use crate::error::{Error, Result};
use crate::identity::Jurisdiction;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recognition {
    /// The licence notice, `<ISSUER>-C-<n>`.
    pub notice_id: String,
    pub issuer: Jurisdiction,
    /// The issuer's licence id.
    pub license_id: String,
    pub recognised: bool,
    pub rationale: String,
    /// The certificate identity that decided, e.g. `DE/officer/olivia`.
    pub by: String,
    pub at_unix_ms: i64,
}

impl Recognition {
    pub fn decision(&self) -> &'static str {
        if self.recognised {
            "recognised"
        } else {
            "declined"
        }
    }
}

impl Licensing {
    /// Records `r` (replacing an earlier decision on the same notice) with its
    /// audit entry in one batch.
    pub async fn decide_recognition(&self, r: Recognition) -> Result<Recognition> {
        crate::fields::text("rationale", &r.rationale, true, MAX_TEXT)
            .map_err(Error::InvalidArgument)?;
        let guard = self.writing.lock().await;
        let earlier = self.trees.recognitions.get(&r.notice_id)?;
        let mut batch = self.store.batch();
        batch.put(&self.trees.recognitions, &r.notice_id, &r)?;
        let rationale = format!(
            "{} licence {} of {}{}: {}",
            r.decision(),
            r.license_id,
            r.issuer,
            earlier
                .filter(|e| e.recognised != r.recognised)
                .map(|e| format!(" (was {})", e.decision()))
                .unwrap_or_default(),
            r.rationale
        );
        self.commit(
            guard,
            batch,
            Action {
                actor: &r.by,
                action: if r.recognised {
                    "license.recognise"
                } else {
                    "license.decline"
                },
                record: &r.notice_id,
                rationale: &rationale,
            },
        )
        .await?;
        tracing::info!(notice = %r.notice_id, license = %r.license_id, issuer = %r.issuer, decision = r.decision(), by = %r.by, "partner licence decided");
        Ok(r)
    }

    /// The decision on licence notice `notice_id`, if one was made.
    pub fn recognition(&self, notice_id: &str) -> Result<Option<Recognition>> {
        Ok(self.trees.recognitions.get(notice_id)?)
    }

    /// Every decision on a partner's licence notice.
    pub fn recognitions(&self) -> Result<Vec<Recognition>> {
        Ok(self
            .trees
            .recognitions
            .iter()?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }
}
