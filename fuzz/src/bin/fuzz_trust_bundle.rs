//! Trust bundle files as `concord peer add --trust` reads them.
#[path = "../entry_points.rs"]
mod entry_points;

fn main() {
    afl::fuzz!(|data: &[u8]| entry_points::trust_bundle(data));
}
