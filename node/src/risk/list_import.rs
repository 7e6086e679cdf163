//! What a list import means for the node's own parties: which of them newly
//! match an entry the import added or changed (at the node's screening
//! threshold, under any of their names), with the applications awaiting a
//! decision that name them. Those applications are re-scored before the
//! import is answered, so their hits are open when the administrator reads
//! the answer, not only after the background pass.

use std::collections::{BTreeMap, HashSet};

use super::{is_open, Risk};
use crate::error::{Error, Result};
use crate::licensing::{LicenseFilter, PartyFilter};
use crate::screening::{
    Filter, IndexedEntry, ListDiff, ListIndex, PreparedQuery, ScreenRequest, MAX_LIMIT,
};

/// One party of the node's that matches an entry it did not match before.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMatch {
    pub party_id: String,
    pub party_name: String,
    /// The party's name or alias that matched.
    pub matched_by: String,
    pub source_id: String,
    /// The entry's primary name.
    pub listed_name: String,
    pub score: f32,
    /// Applications awaiting a decision that name the party, in any role.
    pub applications: Vec<String>,
}

/// What an import did beyond the list itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportEffects {
    pub newly_matching: Vec<NewMatch>,
    /// Applications awaiting a decision, all re-scored against the new list
    /// before the import is answered (the background pass may have stored
    /// the changed ones first).
    pub rescored: usize,
}

impl Risk {
    /// Screens every party against the entries `diff` added or changed in
    /// `list`, then re-scores the applications awaiting a decision.
    pub async fn after_import(&self, list: &str, diff: &ListDiff) -> Result<ImportEffects> {
        let newly_matching = self.newly_matching(list, diff).await?;
        let rescored = self
            .rescore_known_counted(&format!("list import {list}"))
            .await?
            .scored;
        if !newly_matching.is_empty() {
            tracing::warn!(
                %list,
                parties = newly_matching.len(),
                "parties of this node newly match an imported list"
            );
        }
        Ok(ImportEffects {
            newly_matching,
            rescored,
        })
    }

    async fn newly_matching(&self, list: &str, diff: &ListDiff) -> Result<Vec<NewMatch>> {
        if diff.added.is_empty() && diff.changed.is_empty() {
            return Ok(Vec::new());
        }
        let (licensing, screening) = (self.licensing.clone(), self.screening.clone());
        let (list, diff, threshold) = (list.to_owned(), diff.clone(), self.hit_threshold);
        let mut found = tokio::task::spawn_blocking(move || -> Result<Vec<NewMatch>> {
            let targets: HashSet<&str> = diff
                .added
                .iter()
                .chain(&diff.changed)
                .map(String::as_str)
                .collect();
            // The changed entries as they were: a party that matched the
            // old version does not newly match the new one.
            let before = ListIndex::build(
                &list,
                diff.before
                    .iter()
                    .cloned()
                    .map(IndexedEntry::from)
                    .collect(),
            );
            let no_filter = Filter {
                countries: &[],
                now_unix_ms: 0,
            };
            let mut out: BTreeMap<(String, String), NewMatch> = BTreeMap::new();
            for party in licensing.parties(&PartyFilter::default())? {
                for name in std::iter::once(&party.name).chain(&party.aliases) {
                    let request = ScreenRequest {
                        name: name.clone(),
                        limit: MAX_LIMIT,
                        threshold: Some(threshold),
                        countries: Vec::new(),
                        lists: vec![list.clone()],
                    };
                    let Ok(result) = screening.query(&request) else {
                        // A stored name the screener refuses (none should
                        // be) cannot match; the assessment reports it.
                        continue;
                    };
                    let q = PreparedQuery::new(name);
                    let matched_before: HashSet<String> = before
                        .search(&q, MAX_LIMIT, threshold, &no_filter)
                        .into_iter()
                        .map(|h| h.entry.entry.source_id.clone())
                        .collect();
                    for m in result.matches {
                        if !targets.contains(m.source_id.as_str())
                            || matched_before.contains(&m.source_id)
                        {
                            continue;
                        }
                        let key = (party.id.clone(), m.source_id.clone());
                        if out.get(&key).is_some_and(|best| best.score >= m.score) {
                            continue;
                        }
                        out.insert(
                            key,
                            NewMatch {
                                party_id: party.id.clone(),
                                party_name: party.name.clone(),
                                matched_by: name.clone(),
                                source_id: m.source_id,
                                listed_name: m.name,
                                score: m.score,
                                applications: Vec::new(),
                            },
                        );
                    }
                }
            }
            Ok(out.into_values().collect())
        })
        .await
        .map_err(|e| Error::Internal(format!("screening parties against a new list: {e}")))??;
        for m in &mut found {
            let filter = LicenseFilter {
                party: Some(m.party_id.clone()),
                ..Default::default()
            };
            m.applications = self
                .licensing
                .licenses(&filter)?
                .into_iter()
                .filter(|l| is_open(l.state))
                .map(|l| l.id)
                .collect();
        }
        Ok(found)
    }
}
