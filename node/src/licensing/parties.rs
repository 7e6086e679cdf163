//! Parties: creation (refused, unless overridden, when the node already
//! holds a party of a matching name in the same country), updates with
//! their history kept, reads.

use super::model::{text, Party, PartyDraft, PartyVersion, MAX_TEXT};
use super::{key, Kind, Licensing, PartyFilter};
use crate::audit::Action;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::identity::Caller;
use crate::screening::score::score_names;

impl Licensing {
    /// Creates a party. Unless `allow_similar`, refuses (AlreadyExists) when
    /// a party of the same country has a name or alias matching one of the
    /// new one's at the screening threshold, naming it: officers should
    /// reuse it rather than split one firm's history over two records.
    pub async fn create_party(
        &self,
        officer: &Caller,
        draft: PartyDraft,
        allow_similar: bool,
    ) -> Result<Party> {
        draft.validate()?;
        let guard = self.writing.lock().await;
        if !allow_similar {
            if let Some((existing, score)) = self.look_alike(&draft, None)? {
                return Err(Error::AlreadyExists(format!(
                    "party {} {:?} ({}) matches {:?} at {score:.2}; use it, or create this \
                     one anyway with --allow-similar",
                    existing.id, existing.name, existing.country, draft.name
                )));
            }
        }
        let mut batch = self.store.batch();
        let (n, id) = self.next_id(&mut batch, Kind::Party)?;
        let party = Party {
            id: id.clone(),
            name: draft.name,
            aliases: draft.aliases,
            country: draft.country,
            address: draft.address,
            identifiers: draft.identifiers,
            created_at_unix_ms: now_unix_ms(),
            created_by: officer.to_string(),
            revision: 1,
            history: Vec::new(),
        };
        self.trees.parties.put(&mut batch, key(n), &party)?;
        let rationale = if allow_similar {
            format!("{} (created despite a look-alike)", party.name)
        } else {
            party.name.clone()
        };
        self.commit(
            guard,
            batch,
            Action {
                actor: &party.created_by,
                action: "party.create",
                record: &id,
                rationale: &rationale,
            },
        )
        .await?;
        Ok(party)
    }

    /// Replaces party `id`'s details with `draft`, keeping the earlier
    /// version in its history. The caller re-scores the applications naming it.
    pub async fn update_party(
        &self,
        officer: &Caller,
        id: &str,
        draft: PartyDraft,
        rationale: &str,
    ) -> Result<Party> {
        draft.validate()?;
        text("rationale", rationale, true, MAX_TEXT).map_err(Error::InvalidArgument)?;
        let n = self.number(Kind::Party, id)?;
        let guard = self.writing.lock().await;
        let mut party = self.party(id)?;
        if party.name == draft.name
            && party.aliases == draft.aliases
            && party.country == draft.country
            && party.address == draft.address
            && party.identifiers == draft.identifiers
        {
            return Err(Error::InvalidArgument(format!(
                "party {id}: the update changes nothing"
            )));
        }
        let now = now_unix_ms();
        let officer_id = officer.to_string();
        let before = PartyVersion {
            revision: party.revision,
            name: std::mem::replace(&mut party.name, draft.name),
            aliases: std::mem::replace(&mut party.aliases, draft.aliases),
            country: std::mem::replace(&mut party.country, draft.country),
            address: std::mem::replace(&mut party.address, draft.address),
            identifiers: std::mem::replace(&mut party.identifiers, draft.identifiers),
            replaced_at_unix_ms: now,
            replaced_by: officer_id.clone(),
            rationale: rationale.to_owned(),
        };
        let audit_rationale = format!(
            "{:?} ({}) -> {:?} ({}): {rationale}",
            before.name, before.country, party.name, party.country
        );
        party.history.push(before);
        party.revision += 1;
        let mut batch = self.store.batch();
        self.trees.parties.put(&mut batch, key(n), &party)?;
        let record = format!("{id} revision {}", party.revision);
        self.commit(
            guard,
            batch,
            Action {
                actor: &officer_id,
                action: "party.update",
                record: &record,
                rationale: &audit_rationale,
            },
        )
        .await?;
        Ok(party)
    }

    /// The held party (other than `except`) of `draft`'s country whose name
    /// or alias best matches one of `draft`'s at or above the threshold.
    fn look_alike(&self, draft: &PartyDraft, except: Option<&str>) -> Result<Option<(Party, f32)>> {
        let threshold = self.settings.similar_party_score;
        let ours: Vec<&String> = std::iter::once(&draft.name).chain(&draft.aliases).collect();
        let mut best: Option<(Party, f32)> = None;
        for item in self.trees.parties.each(false) {
            let p = item?;
            if p.country != draft.country || except == Some(p.id.as_str()) {
                continue;
            }
            let score = std::iter::once(&p.name)
                .chain(&p.aliases)
                .flat_map(|theirs| ours.iter().map(move |o| score_names(o, theirs)))
                .fold(0.0f32, f32::max);
            if score >= threshold && best.as_ref().is_none_or(|(_, b)| score > *b) {
                best = Some((p, score));
            }
        }
        Ok(best)
    }

    pub fn party(&self, id: &str) -> Result<Party> {
        let n = self.number(Kind::Party, id)?;
        self.trees
            .parties
            .get(key(n))?
            .ok_or_else(|| Error::NotFound(format!("no party {id}")))
    }

    /// Parties matching `filter`, newest first.
    pub fn parties(&self, filter: &PartyFilter) -> Result<Vec<Party>> {
        let needle = filter.name.as_deref().map(str::to_lowercase);
        let mut out = Vec::new();
        for item in self.trees.parties.each(true) {
            let p = item?;
            if filter.country.as_deref().is_some_and(|c| c != p.country) {
                continue;
            }
            if let Some(n) = &needle {
                let hit = std::iter::once(&p.name)
                    .chain(&p.aliases)
                    .any(|name| name.to_lowercase().contains(n.as_str()));
                if !hit {
                    continue;
                }
            }
            out.push(p);
            if filter.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
    }
}
