//! Name normalization and scoring on arbitrary text: tokenizing, folding
#[path = "../entry_points.rs"]
mod entry_points;

fn main() {
    afl::fuzz!(|data: &[u8]| entry_points::name_normalize(data));
}
