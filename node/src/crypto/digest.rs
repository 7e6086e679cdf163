//! Incremental SHA-256, for checksums over data too large to hold at once
//! (backup files).

/// A SHA-256 computation fed piece by piece.
#[derive(Clone)]
pub struct Sha256(ring::digest::Context);

impl Default for Sha256 {
    fn default() -> Self {
        Sha256(ring::digest::Context::new(&ring::digest::SHA256))
    }
}

impl Sha256 {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_one_shot_digest() {
        let mut h = Sha256::new();
        h.update(b"concord ");
        h.update(b"backup");
        assert_eq!(h.finish(), super::super::sha256(b"concord backup"));
    }
}
