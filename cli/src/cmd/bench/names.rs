//! Synthetic party names and queries (deterministic), typos and rotations.

use concord_node::screening::{EntityType, WatchlistEntry};

/// splitmix64: a small deterministic generator, so every run screens the
/// same list with the same names.
pub struct Rng(u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

pub const SYLLABLES: [&str; 32] = [
    "ka", "ro", "mi", "ta", "an", "el", "bar", "zu", "no", "ri", "sha", "dov", "lin", "mar", "tek",
    "vo", "ha", "sel", "ku", "ir", "des", "ol", "pra", "gan", "ve", "tro", "ya", "lem", "os", "fi",
    "rud", "za",
];
pub const GIVEN: [&str; 32] = [
    "Ahmad", "Ali", "Hassan", "Mohammad", "Reza", "Sergei", "Dmitri", "Ivan", "Olga", "Elena",
    "Kim", "Li", "Wei", "Chen", "Jose", "Maria", "Carlos", "Fatima", "Omar", "Yusuf", "Anna",
    "Pavel", "Nikolai", "Hamid", "Karim", "Leila", "Viktor", "Igor", "Hyun", "Jin", "Sara", "Ana",
];
pub const GENERIC: [&str; 12] = [
    "Trading",
    "Industrial",
    "Shipping",
    "Electronics",
    "Technology",
    "Supply",
    "Engineering",
    "Logistics",
    "Holding",
    "Import Export",
    "Machinery",
    "Aviation",
];
pub const FORMS: [&str; 8] = ["LLC", "Ltd", "FZE", "GmbH", "Co.", "SA", "JSC", "Group"];
pub const COUNTRIES: [&str; 12] = [
    "IR", "KP", "SY", "RU", "BY", "CU", "VE", "AE", "CN", "TR", "LB", "IQ",
];

pub fn word(rng: &mut Rng) -> String {
    let n = 2 + rng.below(3);
    let w: String = (0..n).map(|_| rng.pick(&SYLLABLES)).collect();
    let mut chars = w.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// One party: (type, primary name, aliases).
pub fn party(rng: &mut Rng) -> (EntityType, String, Vec<String>) {
    match rng.below(10) {
        0..=4 => {
            let given = rng.pick(&GIVEN);
            let mut surname = word(rng);
            if rng.below(3) == 0 {
                surname = format!("{surname} {}", word(rng));
            }
            let aliases = if rng.below(3) == 0 {
                vec![format!("{}, {given}", surname.to_uppercase())]
            } else {
                vec![]
            };
            (
                EntityType::Individual,
                format!("{given} {surname}"),
                aliases,
            )
        }
        5..=8 => {
            let core = word(rng);
            let name = format!("{core} {} {}", rng.pick(&GENERIC), rng.pick(&FORMS));
            let aliases = if rng.below(3) == 0 {
                vec![format!("{core} {}", rng.pick(&FORMS))]
            } else {
                vec![]
            };
            (EntityType::Entity, name, aliases)
        }
        _ => (
            EntityType::Vessel,
            format!("{} {}", word(rng), word(rng)),
            vec![],
        ),
    }
}

/// The deterministic synthetic watchlist `--local` imports by default.
pub fn synthetic_list(n: usize) -> Vec<WatchlistEntry> {
    let mut rng = Rng(0x00C0_4C04_D000_0001);
    (0..n)
        .map(|i| {
            let (kind, name, aliases) = party(&mut rng);
            let mut e = WatchlistEntry::new(format!("B{i}"), kind, name);
            e.aliases = aliases;
            e.countries = vec![rng.pick(&COUNTRIES).to_owned()];
            e.programs = vec!["BENCH".to_owned()];
            e
        })
        .collect()
}

/// `n` names to screen: a quarter each listed names as listed, with one
/// typo, with their words rotated, and unlisted names (all unlisted when
/// `listed` is empty).
pub fn synthetic_queries(listed: &[String], n: usize) -> Vec<String> {
    let mut rng = Rng(0x00C0_4C04_D000_0002);
    (0..n)
        .map(|i| {
            if listed.is_empty() || i % 4 == 3 {
                return party(&mut rng).1;
            }
            let name = &listed[rng.below(listed.len())];
            match i % 4 {
                0 => name.clone(),
                1 => typo(name, &mut rng),
                _ => rotate(name),
            }
        })
        .collect()
}

/// One letter of the longest word replaced (first letter kept).
pub fn typo(name: &str, rng: &mut Rng) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let Some((at, longest)) = words
        .iter()
        .enumerate()
        .max_by_key(|(_, w)| w.chars().count())
    else {
        return name.to_owned();
    };
    let mut chars: Vec<char> = longest.chars().collect();
    if chars.len() < 4 {
        return name.to_owned();
    }
    let pos = 1 + rng.below(chars.len() - 1);
    if !chars[pos].is_ascii_alphabetic() {
        return name.to_owned();
    }
    let lower = chars[pos].is_ascii_lowercase();
    let mut c = (b'a' + rng.below(26) as u8) as char;
    if c == chars[pos].to_ascii_lowercase() {
        c = if c == 'z' { 'a' } else { (c as u8 + 1) as char };
    }
    chars[pos] = if lower { c } else { c.to_ascii_uppercase() };
    let changed: String = chars.into_iter().collect();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| if i == at { changed.as_str() } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first word moved to the end.
pub fn rotate(name: &str) -> String {
    let mut words: Vec<&str> = name.split_whitespace().collect();
    if !words.is_empty() {
        words.rotate_left(1);
    }
    words.join(" ")
}

/// `names` repeated or cut to exactly `n`.
pub fn cycle(names: Vec<String>, n: usize) -> Vec<String> {
    names.iter().cycle().take(n).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_list_is_deterministic_and_valid() {
        let a = synthetic_list(3000);
        assert_eq!(a, synthetic_list(3000));
        for e in &a {
            e.validate().unwrap();
        }
        let names: Vec<String> = a.iter().map(|e| e.name.clone()).collect();
        let q = synthetic_queries(&names, 400);
        assert_eq!(q.len(), 400);
        assert_eq!(q[0..4], synthetic_queries(&names, 4)[..]);
        assert!(names.contains(&q[0]));
        assert!(q.iter().all(|n| !n.trim().is_empty()));
    }

    #[test]
    fn typos_change_one_letter() {
        let mut rng = Rng(7);
        for _ in 0..100 {
            let t = typo("Ahmad Karoshamar", &mut rng);
            assert_ne!(t, "Ahmad Karoshamar");
            let diff = t
                .chars()
                .zip("Ahmad Karoshamar".chars())
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(diff, 1, "{t}");
        }
        assert_eq!(rotate("a b c"), "b c a");
        assert_eq!(cycle(vec!["x".into(), "y".into()], 3), ["x", "y", "x"]);
    }
}
