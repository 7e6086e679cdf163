//! Name normalization and scoring on arbitrary text: tokenizing, folding
//! scripts and accents, spelling variants, skeletons, and the pairwise score
//! (two names split on the first newline). Scores must stay in [0, 1].
use concord_node::screening::{normalize, score};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let (a, b) = text.split_once('\n').unwrap_or((text, text));
        for name in [a, b] {
            let _ = normalize::tokens(name);
            let _ = normalize::canonical(name);
            let _ = normalize::spelling(name);
            let folded = normalize::fold(name);
            for word in folded.split_whitespace() {
                let _ = normalize::skeleton(word);
            }
            let self_score = score::score_names(name, name);
            assert!((0.0..=1.0).contains(&self_score), "self score {self_score}");
        }
        let s = score::score_names(a, b);
        assert!((0.0..=1.0).contains(&s), "score {s} for {a:?} / {b:?}");
    });
}
