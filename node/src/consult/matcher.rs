//! The no-undercut rule as a pure function: does an intended approval
//! resemble a denial closely enough that the denying jurisdiction must be
//! consulted first?
//!
//! "Essentially identical" (shared/DOMAIN.md section 3) means all three of:
//! the same destination; an item with the same control-list code, or of the
//! same catalog category (military, dual-use) as a denied item; and a
//! license party (any role) whose name or alias matches the denied party's
//! by the screening scorer at or above the node's screening threshold.

use std::fmt;

use crate::exchange::records::DenialNotice;
use crate::licensing::Category;
use crate::screening::normalize::tokens;
use crate::screening::score::{score, Tok};

/// A license party as the matcher sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyNames {
    /// applicant, end user, consignee, intermediary
    pub role: &'static str,
    pub name: String,
    pub aliases: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemClass {
    pub code: String,
    pub category: Category,
}

/// The parts of a license application the rule compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intended {
    pub parties: Vec<PartyNames>,
    pub items: Vec<ItemClass>,
    pub destination: String,
}

/// How the items overlap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemOverlap {
    /// The same control-list code.
    Code(String),
    /// Different codes of the same catalog category: (denied code, license code, category).
    Category(String, String, Category),
}

/// Why an intended approval resembles a denial.
#[derive(Clone, Debug, PartialEq)]
pub struct Resemblance {
    pub role: &'static str,
    /// The license party's name.
    pub party: String,
    /// The denied party's name or alias that matched.
    pub denied_party: String,
    pub score: f32,
    pub item: ItemOverlap,
    pub destination: String,
}

impl fmt::Display for Resemblance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?} matches denied party {:?} (score {:.2}), ",
            self.role, self.party, self.denied_party, self.score
        )?;
        match &self.item {
            ItemOverlap::Code(c) => write!(f, "same item {c}")?,
            ItemOverlap::Category(denied, ours, cat) => {
                write!(f, "item {ours} is {cat} like denied {denied}")?
            }
        }
        write!(f, ", same destination {}", self.destination)
    }
}

/// How `intended` resembles `denial`, if it does. `category_of` looks a
/// denied item's code up in this node's catalog (None: not listed here).
pub fn resemblance(
    intended: &Intended,
    denial: &DenialNotice,
    category_of: &dyn Fn(&str) -> Option<Category>,
    threshold: f32,
) -> Option<Resemblance> {
    Prepared::new(intended).resemblance(denial, category_of, threshold)
}

/// Tokens of a name as the screening scorer reads them.
fn toks(name: &str) -> Vec<Tok> {
    tokens(name).iter().map(Tok::new).collect()
}

/// An intended approval with its party names tokenized once, for checking
/// it against many denials (the gate reads every denial to a destination).
pub struct Prepared<'a> {
    intended: &'a Intended,
    names: Vec<(&'a PartyNames, Vec<Tok>)>,
}

impl<'a> Prepared<'a> {
    pub fn new(intended: &'a Intended) -> Prepared<'a> {
        let names = intended
            .parties
            .iter()
            .flat_map(|p| {
                std::iter::once(&p.name)
                    .chain(&p.aliases)
                    .map(move |n| (p, toks(n)))
            })
            .collect();
        Prepared { intended, names }
    }

    /// As [`resemblance`].
    pub fn resemblance(
        &self,
        denial: &DenialNotice,
        category_of: &dyn Fn(&str) -> Option<Category>,
        threshold: f32,
    ) -> Option<Resemblance> {
        let codes: Vec<&str> = denial.items.iter().map(|i| i.code.as_str()).collect();
        let names: Vec<&str> = std::iter::once(&denial.party.name)
            .chain(&denial.party.aliases)
            .map(String::as_str)
            .collect();
        self.resembles(&denial.destination, &codes, &names, category_of, threshold)
    }

    /// The same rule against any other decision's destination, control-list
    /// codes and party names (a partner's licence, say).
    pub fn resembles(
        &self,
        destination: &str,
        codes: &[&str],
        names: &[&str],
        category_of: &dyn Fn(&str) -> Option<Category>,
        threshold: f32,
    ) -> Option<Resemblance> {
        let intended = self.intended;
        if !intended
            .destination
            .trim()
            .eq_ignore_ascii_case(destination.trim())
        {
            return None;
        }
        let item = item_overlap(intended, codes, category_of)?;
        let (score, party, denied) = self.best_party(names, threshold)?;
        Some(Resemblance {
            role: party.role,
            party: party.name.clone(),
            denied_party: denied.to_string(),
            score,
            item,
            destination: destination.to_owned(),
        })
    }

    /// The best-scoring pair of one of the application's names and one of
    /// `names`, at or above `threshold`.
    fn best_party<'n>(
        &self,
        names: &[&'n str],
        threshold: f32,
    ) -> Option<(f32, &'a PartyNames, &'n str)> {
        let theirs: Vec<(&str, Vec<Tok>)> = names.iter().map(|n| (*n, toks(n))).collect();
        let mut best: Option<(f32, &PartyNames, &str)> = None;
        for (party, ours) in &self.names {
            let ours: Vec<&Tok> = ours.iter().collect();
            for (name, theirs) in &theirs {
                let theirs: Vec<&Tok> = theirs.iter().collect();
                let score = score(&ours, &theirs).score;
                if score >= threshold && best.is_none_or(|(b, _, _)| score > b) {
                    best = Some((score, party, name));
                }
            }
        }
        best
    }
}

/// How well `name` matches the best of `names` by the screening scorer, at
/// or above `threshold`: (score, the name of `names` that matched).
pub fn name_match<'n>(name: &str, names: &[&'n str], threshold: f32) -> Option<(f32, &'n str)> {
    let ours = toks(name);
    let ours: Vec<&Tok> = ours.iter().collect();
    let mut best: Option<(f32, &str)> = None;
    for n in names {
        let theirs = toks(n);
        let theirs: Vec<&Tok> = theirs.iter().collect();
        let s = score(&ours, &theirs).score;
        if s >= threshold && best.is_none_or(|(b, _)| s > b) {
            best = Some((s, n));
        }
    }
    best
}

fn item_overlap(
    intended: &Intended,
    codes: &[&str],
    category_of: &dyn Fn(&str) -> Option<Category>,
) -> Option<ItemOverlap> {
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    for denied in codes {
        if let Some(ours) = intended.items.iter().find(|i| same(&i.code, denied)) {
            return Some(ItemOverlap::Code(ours.code.clone()));
        }
    }
    for denied in codes {
        let Some(category) = category_of(denied.trim()) else {
            continue;
        };
        if let Some(ours) = intended.items.iter().find(|i| i.category == category) {
            return Some(ItemOverlap::Category(
                (*denied).to_owned(),
                ours.code.clone(),
                category,
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::records::{DenialState, DeniedItem, Party};

    const THRESHOLD: f32 = 0.85;

    fn denial(party: &str, codes: &[&str], destination: &str) -> DenialNotice {
        DenialNotice {
            id: "FR-D-1".into(),
            issuer: "FR".parse().unwrap(),
            version: 1,
            state: DenialState::Active,
            party: Party {
                name: party.into(),
                aliases: vec![],
                country: "AE".into(),
                address: String::new(),
            },
            items: codes
                .iter()
                .map(|c| DeniedItem {
                    code: c.to_string(),
                    description: String::new(),
                })
                .collect(),
            destination: destination.into(),
            end_use: String::new(),
            reason: "diversion risk".into(),
            decision_date_unix_ms: 1,
            valid_until_unix_ms: None,
            change_reason: String::new(),
        }
    }

    fn intended(end_user: &str, items: &[(&str, Category)], destination: &str) -> Intended {
        Intended {
            parties: vec![
                PartyNames {
                    role: "applicant",
                    name: "Nordwerk Defence GmbH".into(),
                    aliases: vec![],
                },
                PartyNames {
                    role: "end user",
                    name: end_user.into(),
                    aliases: vec![],
                },
            ],
            items: items
                .iter()
                .map(|(c, k)| ItemClass {
                    code: c.to_string(),
                    category: *k,
                })
                .collect(),
            destination: destination.into(),
        }
    }

    /// The catalog of the tests: ML codes military, the rest dual-use.
    fn catalog(code: &str) -> Option<Category> {
        if code.starts_with("ML") {
            Some(Category::Military)
        } else if code.starts_with(|c: char| c.is_ascii_digit()) {
            Some(Category::DualUse)
        } else {
            None
        }
    }

    fn check(intended: &Intended, denial: &DenialNotice, blocks: bool) {
        let got = resemblance(intended, denial, &catalog, THRESHOLD);
        assert_eq!(got.is_some(), blocks, "{got:?}");
    }

    #[test]
    fn the_same_party_item_and_destination_block() {
        let d = denial("Acme Trading FZE", &["3A001"], "AE");
        let i = intended("ACME TRADING FZE", &[("3A001", Category::DualUse)], "AE");
        let r = resemblance(&i, &d, &catalog, THRESHOLD).unwrap();
        assert_eq!(r.role, "end user");
        assert_eq!(r.item, ItemOverlap::Code("3A001".into()));
        assert!(r.to_string().contains("same destination AE"), "{r}");
    }

    #[test]
    fn a_party_written_differently_still_blocks() {
        let d = denial("Acme Trading FZE", &["3A001"], "AE");
        // Another company form, word order, case and accents do not hide it.
        for name in ["Acme Trading LLC", "TRADING ACME", "Âcme Tradíng F.Z.E."] {
            check(
                &intended(name, &[("3A001", Category::DualUse)], "AE"),
                &d,
                true,
            );
        }
    }

    #[test]
    fn company_form_words_alone_do_not_make_a_match() {
        let d = denial("Acme Trading FZE", &["3A001"], "AE");
        check(
            &intended("Orion Avionics FZE", &[("3A001", Category::DualUse)], "AE"),
            &d,
            false,
        );
        let d = denial("Gulf Logistics LLC", &["3A001"], "AE");
        check(
            &intended("Desert Freight LLC", &[("3A001", Category::DualUse)], "AE"),
            &d,
            false,
        );
    }

    #[test]
    fn another_destination_does_not_block() {
        let d = denial("Acme Trading FZE", &["3A001"], "AE");
        check(
            &intended("Acme Trading FZE", &[("3A001", Category::DualUse)], "OM"),
            &d,
            false,
        );
    }

    #[test]
    fn items_block_by_code_or_category_only() {
        let d = denial("Acme Trading FZE", &["3A001"], "AE");
        // Another dual-use code: same category.
        let r = resemblance(
            &intended("Acme Trading FZE", &[("5A002", Category::DualUse)], "AE"),
            &d,
            &catalog,
            THRESHOLD,
        )
        .unwrap();
        assert_eq!(
            r.item,
            ItemOverlap::Category("3A001".into(), "5A002".into(), Category::DualUse)
        );
        // Military goods are unrelated to a dual-use denial.
        check(
            &intended("Acme Trading FZE", &[("ML4", Category::Military)], "AE"),
            &d,
            false,
        );
        // A denied code this node's catalog does not list matches by code only.
        let d = denial("Acme Trading FZE", &["ZZ999"], "AE");
        check(
            &intended("Acme Trading FZE", &[("5A002", Category::DualUse)], "AE"),
            &d,
            false,
        );
        check(
            &intended("Acme Trading FZE", &[("zz999", Category::DualUse)], "AE"),
            &d,
            true,
        );
    }

    #[test]
    fn any_role_and_any_alias_counts() {
        let mut d = denial("Falcon Aero Parts", &["ML10"], "PK");
        d.party.aliases = vec!["Shaheen Components".into()];
        let mut i = intended("Unrelated End User", &[("ML10", Category::Military)], "PK");
        i.parties.push(PartyNames {
            role: "intermediary",
            name: "Shaheen Components Ltd".into(),
            aliases: vec![],
        });
        let r = resemblance(&i, &d, &catalog, THRESHOLD).unwrap();
        assert_eq!(
            (r.role, r.denied_party.as_str()),
            ("intermediary", "Shaheen Components")
        );
    }
}
