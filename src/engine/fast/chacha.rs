//! Block 0 of a stream for the [`LANES`] runs of a group at once.
//!
//! Most streams give only a few numbers per run (one parameter, or a
//! disruption's few events), yet a `ChaCha8Rng` computes four 64-byte
//! blocks on its first draw, one at a time for each stream.
//! [`StreamKey::first_blocks`] computes block 0 of the streams of [`LANES`]
//! consecutive runs at once, one vector operation for all of them, and a
//! [`FirstBlockRng`] serves a run's numbers from its block, making the real
//! generator only if the stream runs past it. The numbers are exactly those
//! of [`StreamKey::rng`].

use super::lanes::LANES;
use crate::engine::rng::StreamKey;
use rand::RngCore;
use rand_chacha::ChaCha8Rng;

impl StreamKey {
    /// Block 0 of this stream for the runs `first_run ..` `first_run +`
    /// [`LANES`] (wrapping past `u64::MAX`), `[lane][word]`: the first 16
    /// words `self.rng(first_run + lane)` gives.
    pub fn first_blocks(&self, first_run: u64) -> [Block; LANES] {
        let key = std::array::from_fn(|i| {
            u32::from_le_bytes(self.key[4 * i..4 * i + 4].try_into().expect("4 bytes"))
        });
        chacha8_first_blocks(&key, first_run)
    }

    /// The generator of this stream for run `run`, serving its first words
    /// from `block`, which must be the run's block 0 (from
    /// [`Self::first_blocks`]).
    pub fn rng_from<'a>(&'a self, run: u64, block: &'a Block) -> FirstBlockRng<'a> {
        FirstBlockRng {
            key: self,
            run,
            block,
            next: 0,
            rest: None,
        }
    }
}

/// Words in a ChaCha block.
const BLOCK_WORDS: usize = 16;

/// One ChaCha block: 16 words, in the order the generator gives them.
pub type Block = [u32; BLOCK_WORDS];

/// One state word of every lane.
type Words = [u32; LANES];

/// "expand 32-byte k", ChaCha's constant words.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// Double rounds of ChaCha8.
const DOUBLE_ROUNDS: usize = 4;

/// `a + b`, lane by lane.
#[inline(always)]
fn add(a: Words, b: Words) -> Words {
    std::array::from_fn(|l| a[l].wrapping_add(b[l]))
}

/// `(a ^ b) <<< r`, lane by lane.
#[inline(always)]
fn xor_rotate(a: Words, b: Words, r: u32) -> Words {
    std::array::from_fn(|l| (a[l] ^ b[l]).rotate_left(r))
}

/// ChaCha's quarter round on state words `a`, `b`, `c`, `d` of every lane.
#[inline(always)]
fn quarter_round(x: &mut [Words; BLOCK_WORDS], a: usize, b: usize, c: usize, d: usize) {
    x[a] = add(x[a], x[b]);
    x[d] = xor_rotate(x[d], x[a], 16);
    x[c] = add(x[c], x[d]);
    x[b] = xor_rotate(x[b], x[c], 12);
    x[a] = add(x[a], x[b]);
    x[d] = xor_rotate(x[d], x[a], 8);
    x[c] = add(x[c], x[d]);
    x[b] = xor_rotate(x[b], x[c], 7);
}

crate::simd::dispatched! {
/// Block 0 of the ChaCha8 streams `first_run ..` `first_run +` [`LANES`]
/// (wrapping) under the key words `key`, `[lane][word]`, as `ChaCha8Rng`
/// (rand_chacha 0.9) gives them after `set_stream(run)`: its state is the
/// four constant words, the eight key words (little-endian), the 64-bit
/// block counter (0 here) and the 64-bit stream number, each low word
/// first. Every state word holds all lanes, so that each operation is one
/// vector instruction for all of them; compiled for AVX-512 (which rotates
/// in one instruction), AVX2 and the x86-64 baseline, with the same bits.
fn chacha8_first_blocks(key: &[u32; 8], first_run: u64) -> [Block; LANES] {
    let runs: [u64; LANES] = std::array::from_fn(|l| first_run.wrapping_add(l as u64));
    let start: [Words; BLOCK_WORDS] = std::array::from_fn(|w| match w {
        0..4 => [SIGMA[w]; LANES],
        4..12 => [key[w - 4]; LANES],
        12 | 13 => [0; LANES],
        14 => runs.map(|r| r as u32),
        _ => runs.map(|r| (r >> 32) as u32),
    });
    let mut x = start;
    for _ in 0..DOUBLE_ROUNDS {
        quarter_round(&mut x, 0, 4, 8, 12);
        quarter_round(&mut x, 1, 5, 9, 13);
        quarter_round(&mut x, 2, 6, 10, 14);
        quarter_round(&mut x, 3, 7, 11, 15);
        quarter_round(&mut x, 0, 5, 10, 15);
        quarter_round(&mut x, 1, 6, 11, 12);
        quarter_round(&mut x, 2, 7, 8, 13);
        quarter_round(&mut x, 3, 4, 9, 14);
    }
    let out: [Words; BLOCK_WORDS] = std::array::from_fn(|w| add(x[w], start[w]));
    std::array::from_fn(|l| std::array::from_fn(|w| out[w][l]))
}
}

/// A stream's generator for one run that gives the words of its block 0,
/// computed beforehand ([`StreamKey::first_blocks`]), and makes the real
/// `ChaCha8Rng` only when a draw needs a word past them (or bytes): the
/// same numbers as [`StreamKey::rng`] for any sequence of calls.
#[derive(Debug)]
pub struct FirstBlockRng<'a> {
    key: &'a StreamKey,
    run: u64,
    block: &'a Block,
    /// The next word of `block` to give; [`BLOCK_WORDS`] once `rest` is
    /// made.
    next: usize,
    /// The real generator, from the word `block` could not give on.
    rest: Option<ChaCha8Rng>,
}

impl FirstBlockRng<'_> {
    /// The real generator, made at the next word on first use; every later
    /// word comes from it.
    fn rest(&mut self) -> &mut ChaCha8Rng {
        let (key, run, next) = (self.key, self.run, self.next);
        self.next = BLOCK_WORDS;
        self.rest.get_or_insert_with(|| positioned(key, run, next))
    }
}

/// The generator of `key` for run `run`, at word `word` of its stream.
#[cold]
fn positioned(key: &StreamKey, run: u64, word: usize) -> ChaCha8Rng {
    let mut rng = key.rng(run);
    rng.set_word_pos(word as u128);
    rng
}

impl RngCore for FirstBlockRng<'_> {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        match self.block.get(self.next) {
            Some(&w) => {
                self.next += 1;
                w
            }
            None => self.rest().next_u32(),
        }
    }

    /// Two words, the first one low, as rand_core's `BlockRng` combines
    /// them.
    #[inline]
    fn next_u64(&mut self) -> u64 {
        match self.block.get(self.next..self.next + 2) {
            Some(&[lo, hi]) => {
                self.next += 2;
                (u64::from(hi) << 32) | u64::from(lo)
            }
            _ => self.rest().next_u64(),
        }
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.rest().fill_bytes(dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A key from a random seed and a random name of 0 to 20 characters.
    fn random_key(rng: &mut impl Rng) -> StreamKey {
        let len = rng.random_range(0..=20);
        let name: String = (0..len)
            .map(|_| char::from(rng.random_range(b' '..=b'~')))
            .collect();
        StreamKey::new(rng.random(), &name)
    }

    /// First runs of a group: small, random, not multiples of [`LANES`],
    /// where the stream's low word carries into its high word, and at the
    /// end of the range, where the group wraps to run 0.
    fn first_runs(rng: &mut impl Rng) -> Vec<u64> {
        let mut runs = vec![
            0,
            1,
            LANES as u64 - 1,
            3001,
            (1 << 32) - 3,
            (1 << 33) + 5,
            u64::MAX - LANES as u64 + 1,
            u64::MAX - 3,
            u64::MAX,
        ];
        runs.extend((0..4).map(|_| rng.random::<u64>()));
        runs.extend((0..4).map(|_| rng.random_range(0..1_000_000)));
        runs
    }

    #[test]
    fn first_blocks_are_the_first_words_of_each_runs_stream() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for k in 0..300 {
            let key = if k == 0 {
                StreamKey::new(42, "world/disruption/x/events")
            } else {
                random_key(&mut rng)
            };
            for first in first_runs(&mut rng) {
                let blocks = key.first_blocks(first);
                for (l, block) in blocks.iter().enumerate() {
                    let mut real = key.rng(first.wrapping_add(l as u64));
                    let words: Block = std::array::from_fn(|_| real.next_u32());
                    assert_eq!(*block, words, "key {k}, run {first} + {l}");
                }
            }
        }
    }

    /// One call of the generator's interface.
    #[derive(Debug, Clone, Copy)]
    enum Call {
        U32,
        U64,
        Bytes(usize),
    }

    /// What `call` gives from `rng`.
    fn make(call: Call, rng: &mut impl RngCore) -> Vec<u8> {
        match call {
            Call::U32 => rng.next_u32().to_le_bytes().to_vec(),
            Call::U64 => rng.next_u64().to_le_bytes().to_vec(),
            Call::Bytes(n) => {
                let mut v = vec![0; n];
                rng.fill_bytes(&mut v);
                v
            }
        }
    }

    /// Checks that the first-block generator of `key` for each run of the
    /// group from `first` gives what `key.rng(run)` gives for `calls`.
    fn check_calls(key: &StreamKey, first: u64, calls: &[Call]) {
        let blocks = key.first_blocks(first);
        for (l, block) in blocks.iter().enumerate() {
            let run = first.wrapping_add(l as u64);
            let mut real = key.rng(run);
            let mut fast = key.rng_from(run, block);
            for (i, &call) in calls.iter().enumerate() {
                assert_eq!(
                    make(call, &mut fast),
                    make(call, &mut real),
                    "run {run}, call {i} ({call:?}) of {calls:?}"
                );
            }
        }
    }

    #[test]
    fn first_block_generator_gives_the_streams_numbers_at_the_block_end() {
        use Call::*;
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut cases = vec![
            // A u64 from words 15 and 16, and one from 16 and 17.
            [vec![U32; 15], vec![U64, U64, U32]].concat(),
            [vec![U32; 16], vec![U64, U32]].concat(),
            [vec![U64; 7], vec![U32, U64, U64]].concat(),
            [vec![U64; 8], vec![U32, U64]].concat(),
            // Bytes first, within the block, across it, and nothing.
            vec![Bytes(3), U32, U64, U32],
            vec![Bytes(0), U64, U32],
            vec![U32, Bytes(5), U64, U32],
            vec![U64, Bytes(60), U64, U32],
            [vec![U32; 13], vec![Bytes(7), U64]].concat(),
            // Past the real generator's four-block buffer, a u64 from its
            // last word and the next buffer's first, and well beyond.
            [vec![U32; 15], vec![U64; 40], vec![U32; 3]].concat(),
            [vec![U32; 63], vec![U64, U64, U32]].concat(),
            [vec![U32; 15], vec![U32; 48], vec![U64, U32]].concat(),
            [vec![U64; 9], vec![Bytes(250), U64, Bytes(1), U32, U64]].concat(),
            [vec![U32; 3], vec![U64; 100]].concat(),
        ];
        // Random mixes, most of them only words, some long.
        for _ in 0..300 {
            let n = rng.random_range(1..=120);
            let bytes = rng.random_bool(0.3);
            cases.push(
                (0..n)
                    .map(|_| match rng.random_range(0..if bytes { 5 } else { 4 }) {
                        0 | 1 => U32,
                        2 | 3 => U64,
                        _ => Bytes(rng.random_range(0..=70)),
                    })
                    .collect(),
            );
        }
        for (c, calls) in cases.iter().enumerate() {
            let key = random_key(&mut rng);
            let runs = first_runs(&mut rng);
            for first in [runs[c % runs.len()], rng.random()] {
                check_calls(&key, first, calls);
            }
        }
    }

    #[test]
    fn first_block_generator_serves_distributions_as_the_stream_does() {
        use crate::sampling::{standard_exponential, standard_normal};
        let key = StreamKey::new(7, "world/material/x/demand_growth");
        let blocks = key.first_blocks(5);
        let (mut real, mut fast) = (key.rng(6), key.rng_from(6, &blocks[1]));
        for _ in 0..40 {
            let a = standard_exponential(&mut fast);
            let b = standard_normal(&mut fast);
            let c: f64 = fast.random();
            let expected = (
                standard_exponential(&mut real),
                standard_normal(&mut real),
                real.random(),
            );
            assert_eq!((a, b, c), expected);
        }
    }
}
