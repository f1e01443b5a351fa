//! The one place random number generators are made.
//!
//! Every draw comes from a ChaCha8 stream keyed by (seed, a stable name of what
//! is drawn) and positioned on the run's own stream number. A run therefore
//! sees the same numbers whatever thread runs it and whatever else the scenario
//! draws: adding a stockpile or a refinery (policy) leaves every world stream
//! (disruptions, demand, lifetimes) untouched. ChaCha8 is portable and its
//! output is fixed by its specification, unlike `StdRng`.
//!
//! What makes drawing fast (block 0 of the streams of a group of runs
//! computed side by side) lives in `super::fast`, and serves exactly the
//! numbers [`StreamKey::rng`] gives.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A named stream family: the key for one thing drawn, for every run.
#[derive(Debug, Clone)]
pub struct StreamKey {
    pub(super) key: [u8; 32],
}

/// FNV-1a, 64 bits: a stable hash of a stream name (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64: spreads a 64-bit state into well-mixed words.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl StreamKey {
    /// The key of the stream `name` under `seed`.
    pub fn new(seed: u64, name: &str) -> StreamKey {
        let mut s = seed;
        let mixed_seed = splitmix64(&mut s);
        let mut state = mixed_seed ^ fnv1a(name.as_bytes());
        let mut key = [0u8; 32];
        for chunk in key.chunks_exact_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        StreamKey { key }
    }

    /// The generator of this stream for run `run`.
    pub fn rng(&self, run: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_stream(run);
        rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_by_name_seed_and_run_and_repeat_exactly() {
        let draw = |seed, name: &str, run| StreamKey::new(seed, name).rng(run).random::<u64>();
        let a = draw(42, "disruption/x/events", 7);
        assert_eq!(a, draw(42, "disruption/x/events", 7));
        assert_ne!(a, draw(43, "disruption/x/events", 7));
        assert_ne!(a, draw(42, "disruption/y/events", 7));
        assert_ne!(a, draw(42, "disruption/x/events", 8));
    }

    /// FNV-1a reference values from the algorithm's published test vectors.
    #[test]
    fn fnv1a_matches_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
