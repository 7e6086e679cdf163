//! Envelope decoding and verification, as a receiver runs it on pushed bytes.
#[path = "../entry_points.rs"]
mod entry_points;

fn main() {
    afl::fuzz!(|data: &[u8]| entry_points::envelope(data));
}
