//! Envelope decoding and verification, as a receiver runs it on pushed bytes.
use concord_node::exchange::envelope::{SignedEnvelope, SignedReceipt};

const KEY: [u8; 32] = [7; 32];

fn main() {
    afl::fuzz!(|data: &[u8]| {
        // Split the input into the three parts a Push message carries.
        let a = data.len() / 3;
        let e = SignedEnvelope { header: data[..a].to_vec(), body: data[a..2 * a].to_vec(), signature: data[2 * a..].to_vec() };
        let _ = e.peek_header();
        let _ = e.open(&KEY);
        let _ = e.digest();
        let _ = SignedReceipt { body: data.to_vec(), signature: vec![0; 64] }.verify(&KEY);
        let _ = concord_node::audit::Checkpoint::from_bytes(data);
    });
}
