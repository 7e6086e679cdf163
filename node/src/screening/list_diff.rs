//! What a re-import changes in a list: entries added, removed and changed,
//! by source id. Kept with the previous versions of the changed entries,
//! so that who newly matches can be told from who matched before.

use std::collections::HashMap;

use super::entry::WatchlistEntry;

/// The difference between a list as held and as imported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListDiff {
    /// Source ids, in order.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Ids whose entry differs in any field (names, countries, details …).
    pub changed: Vec<String>,
    /// The entries `changed` names, as they were before the import.
    pub before: Vec<WatchlistEntry>,
}

impl ListDiff {
    /// `old` as the store held it, `new` as imported.
    pub fn between(old: Vec<WatchlistEntry>, new: &[WatchlistEntry]) -> ListDiff {
        let mut old: HashMap<String, WatchlistEntry> =
            old.into_iter().map(|e| (e.source_id.clone(), e)).collect();
        let mut diff = ListDiff::default();
        for e in new {
            match old.remove(&e.source_id) {
                None => diff.added.push(e.source_id.clone()),
                Some(was) if was != *e => {
                    diff.changed.push(e.source_id.clone());
                    diff.before.push(was);
                }
                Some(_) => {}
            }
        }
        diff.removed = old.into_keys().collect();
        diff.added.sort();
        diff.removed.sort();
        diff.before.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        diff.changed = diff.before.iter().map(|e| e.source_id.clone()).collect();
        diff
    }

    /// One line for the audit trail and the log.
    pub fn summary(&self) -> String {
        format!(
            "{} added, {} removed, {} changed",
            self.added.len(),
            self.removed.len(),
            self.changed.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screening::EntityType;

    fn entry(id: &str, name: &str) -> WatchlistEntry {
        WatchlistEntry {
            source_id: id.into(),
            entity_type: EntityType::Entity,
            name: name.into(),
            aliases: vec![],
            countries: vec![],
            addresses: vec![],
            programs: vec![],
            details: Default::default(),
        }
    }

    #[test]
    fn added_removed_and_changed_by_id() {
        let old = vec![entry("1", "A"), entry("2", "B"), entry("3", "C")];
        let mut c2 = entry("3", "C");
        c2.details.dates_of_birth.push("1970".into());
        let new = vec![entry("4", "D"), entry("1", "A"), c2];
        let d = ListDiff::between(old, &new);
        assert_eq!(d.added, ["4"]);
        assert_eq!(d.removed, ["2"]);
        assert_eq!(d.changed, ["3"]);
        assert_eq!(d.before, [entry("3", "C")]);
        assert_eq!(d.summary(), "1 added, 1 removed, 1 changed");
    }

    #[test]
    fn a_new_list_is_all_added() {
        let d = ListDiff::between(vec![], &[entry("1", "A")]);
        assert_eq!((d.added.len(), d.removed.len(), d.changed.len()), (1, 0, 0));
    }
}
