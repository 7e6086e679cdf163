//! Every watchlist import parser (`concord screen import --format ...`): the
#[path = "../entry_points.rs"]
mod entry_points;

fn main() {
    afl::fuzz!(|data: &[u8]| entry_points::watchlist_import(data));
}
