//! The per-run table: every material's per-run totals and the numbers drawn
//! once per run, for every run, in run order.
//!
//! It is the one part of a study whose memory grows with the number of runs
//! (runs x columns x 8 bytes), so a large table is kept in an unnamed
//! temporary file instead of in memory ([`Spill`]). Either way the layout is
//! the same: runs are grouped in chunks of [`CHUNK_RUNS`], and within a chunk
//! each column's values are contiguous, so a column is read with one read per
//! chunk and a chunk of rows with one read.
//!
//! Reading a spilled table can fail (a disk error): every reader returns an
//! [`io::Result`], and its callers pass the error on, so that no result is
//! written from values that could not be read.

use crate::vocab::{Metric, N_METRICS};
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::sync::Mutex;

/// Runs per chunk: a multiple of the engine's blocks, large enough that a
/// column of a million runs takes a few hundred reads.
pub const CHUNK_RUNS: usize = 4096;

/// Tables larger than this (in bytes) are kept in a temporary file when a
/// place for one is given.
pub const SPILL_ABOVE_BYTES: u64 = 256 << 20;

/// Where a large table is kept: an unnamed temporary file, gone when it is
/// closed or the process ends, however it ends.
#[derive(Debug)]
pub struct Spill {
    file: File,
    /// Tables above this many bytes go to the file.
    above: u64,
}

impl Spill {
    /// A new temporary file in `dir`, for tables above
    /// [`SPILL_ABOVE_BYTES`].
    ///
    /// # Errors
    /// What the file system reports.
    pub fn new_in(dir: &std::path::Path) -> io::Result<Spill> {
        Ok(Spill {
            file: tempfile::tempfile_in(dir)?,
            above: SPILL_ABOVE_BYTES,
        })
    }

    /// The same, for tables above `bytes` (0: every table), e.g. to test the
    /// file store with small tables.
    pub fn above(self, bytes: u64) -> Spill {
        Spill {
            above: bytes,
            ..self
        }
    }
}

/// The shape of a table: which runs, and which columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Layout {
    first_run: u64,
    runs: usize,
    materials: usize,
    param_names: Vec<String>,
    /// The per-run values kept beside the metrics (demand tiers, stocks'
    /// fill dates and year-end levels), after the parameters.
    #[serde(default)]
    extra_names: Vec<String>,
}

impl Layout {
    fn columns(&self) -> usize {
        self.materials * N_METRICS + self.param_names.len() + self.extra_names.len()
    }

    /// Column of extra value `k`.
    fn extra(&self, k: usize) -> usize {
        self.materials * N_METRICS + self.param_names.len() + k
    }

    fn chunks(&self) -> usize {
        self.runs.div_ceil(CHUNK_RUNS)
    }

    /// Runs in chunk `k`.
    fn chunk_runs(&self, k: usize) -> usize {
        (self.runs - k * CHUNK_RUNS).min(CHUNK_RUNS)
    }

    /// Position (in values) of chunk `k`.
    fn chunk_start(&self, k: usize) -> usize {
        k * CHUNK_RUNS * self.columns()
    }

    fn bytes(&self) -> u64 {
        (self.runs as u64).saturating_mul(self.columns() as u64 * 8)
    }
}

#[derive(Debug)]
enum Store {
    Memory(Vec<f64>),
    File(File),
}

/// Per-run totals of every material, in run order, and the numbers drawn
/// once per run (see the module docs for where they are kept).
#[derive(Debug)]
pub struct RunTable {
    layout: Layout,
    store: Store,
}

/// One chunk of consecutive runs, read whole: rows are cheap to get.
#[derive(Debug)]
pub struct Chunk<'a> {
    layout: &'a Layout,
    /// Index (within the table) of the chunk's first run.
    first: usize,
    runs: usize,
    /// Borrowed from a table in memory, read from a table in a file.
    values: Cow<'a, [f64]>,
}

impl Chunk<'_> {
    /// Index, within the table, of the chunk's first run.
    pub fn first(&self) -> usize {
        self.first
    }

    /// Number of runs in the chunk.
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// The total `metric` of material `m` in the chunk's `i`-th run.
    pub fn get(&self, i: usize, m: usize, metric: Metric) -> f64 {
        self.values[(m * N_METRICS + metric as usize) * self.runs + i]
    }

    /// Extra value `k` of the chunk's `i`-th run.
    pub fn extra(&self, i: usize, k: usize) -> f64 {
        self.values[self.layout.extra(k) * self.runs + i]
    }

    /// Drawn parameter `p` of the chunk's `i`-th run.
    pub fn param(&self, i: usize, p: usize) -> f64 {
        self.values[(self.layout.materials * N_METRICS + p) * self.runs + i]
    }
}

fn to_bytes(values: &[f64], bytes: &mut Vec<u8>) {
    bytes.clear();
    bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
}

#[cfg(unix)]
fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_write(buf, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_read(buf, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

impl RunTable {
    /// Number of runs held.
    pub fn runs(&self) -> usize {
        self.layout.runs
    }

    /// Index of the first run held.
    pub fn first_run(&self) -> u64 {
        self.layout.first_run
    }

    /// Number of materials.
    pub fn materials(&self) -> usize {
        self.layout.materials
    }

    /// Names (field paths) of the uncertain numbers drawn once per run.
    pub fn param_names(&self) -> &[String] {
        &self.layout.param_names
    }

    /// Names of the per-run values kept beside the metrics (e.g.
    /// `material[x].tier[defence].shortfall_t`).
    pub fn extra_names(&self) -> &[String] {
        &self.layout.extra_names
    }

    /// Extra value `k`'s column over all runs, in run order.
    ///
    /// # Errors
    /// What reading a spilled table reported.
    pub fn extra_column(&self, k: usize) -> io::Result<Vec<f64>> {
        self.read_column(self.layout.extra(k))
    }

    /// Whether the table is kept in a temporary file.
    pub fn is_spilled(&self) -> bool {
        matches!(self.store, Store::File(_))
    }

    /// Reads `out.len()` values from position `at` (in values).
    fn read(&self, at: usize, out: &mut [f64], bytes: &mut Vec<u8>) -> io::Result<()> {
        match &self.store {
            Store::Memory(v) => out.copy_from_slice(&v[at..at + out.len()]),
            Store::File(file) => {
                bytes.resize(out.len() * 8, 0);
                read_exact_at(file, bytes, at as u64 * 8)?;
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                    *o = f64::from_le_bytes(b.try_into().expect("8 bytes"));
                }
            }
        }
        Ok(())
    }

    /// Column `c` over all runs, in run order.
    fn read_column(&self, c: usize) -> io::Result<Vec<f64>> {
        let l = &self.layout;
        let mut out = vec![0.0; l.runs];
        let mut bytes = Vec::new();
        for k in 0..l.chunks() {
            let n = l.chunk_runs(k);
            let start = k * CHUNK_RUNS;
            self.read(
                l.chunk_start(k) + c * n,
                &mut out[start..start + n],
                &mut bytes,
            )?;
        }
        Ok(out)
    }

    /// One column: `metric` of material `m` over all runs, in run order.
    ///
    /// # Errors
    /// What reading a spilled table reported.
    pub fn column(&self, m: usize, metric: Metric) -> io::Result<Vec<f64>> {
        self.read_column(m * N_METRICS + metric as usize)
    }

    /// One parameter's drawn values over all runs, in run order.
    ///
    /// # Errors
    /// What reading a spilled table reported.
    pub fn param_column(&self, p: usize) -> io::Result<Vec<f64>> {
        self.read_column(self.layout.materials * N_METRICS + p)
    }

    /// The total `metric` of material `m` in the `i`-th run held (one read
    /// when spilled: for many values, use [`Self::chunks`]).
    ///
    /// # Errors
    /// What reading a spilled table reported.
    pub fn get(&self, i: usize, m: usize, metric: Metric) -> io::Result<f64> {
        self.value(i, m * N_METRICS + metric as usize)
    }

    /// The drawn values of the `i`-th run held, in [`Self::param_names`]
    /// order.
    ///
    /// # Errors
    /// What reading a spilled table reported.
    pub fn params(&self, i: usize) -> io::Result<Vec<f64>> {
        let base = self.layout.materials * N_METRICS;
        (0..self.layout.param_names.len())
            .map(|p| self.value(i, base + p))
            .collect()
    }

    fn value(&self, i: usize, c: usize) -> io::Result<f64> {
        let l = &self.layout;
        let (k, r) = (i / CHUNK_RUNS, i % CHUNK_RUNS);
        let mut v = [0.0];
        self.read(
            l.chunk_start(k) + c * l.chunk_runs(k) + r,
            &mut v,
            &mut Vec::new(),
        )?;
        Ok(v[0])
    }

    /// A chunk of no runs (for the columns of a table without rows).
    pub fn empty_chunk(&self) -> Chunk<'_> {
        Chunk {
            layout: &self.layout,
            first: 0,
            runs: 0,
            values: Cow::Borrowed(&[]),
        }
    }

    /// The table's chunks in run order, each read whole (a table in
    /// memory lends them, without a copy); a chunk of a spilled table that
    /// cannot be read is an error, and the caller is to stop there.
    pub fn chunks(&self) -> impl Iterator<Item = io::Result<Chunk<'_>>> + Send + '_ {
        let l = &self.layout;
        let mut bytes = Vec::new();
        (0..l.chunks()).map(move |k| {
            let runs = l.chunk_runs(k);
            let (start, len) = (l.chunk_start(k), runs * l.columns());
            let values = match &self.store {
                Store::Memory(v) => Cow::Borrowed(&v[start..start + len]),
                Store::File(_) => {
                    let mut values = vec![0.0; len];
                    self.read(start, &mut values, &mut bytes)?;
                    Cow::Owned(values)
                }
            };
            Ok(Chunk {
                layout: l,
                first: k * CHUNK_RUNS,
                runs,
                values,
            })
        })
    }

    /// Every value, in storage order.
    ///
    /// # Errors
    /// What reading a spilled table reported.
    fn all_values(&self) -> io::Result<Vec<f64>> {
        let mut out = vec![0.0; self.layout.runs * self.layout.columns()];
        self.read(0, &mut out, &mut Vec::new())?;
        Ok(out)
    }
}

impl PartialEq for RunTable {
    /// Equal layouts and bit-for-bit equal values; a table that cannot be
    /// read is equal to none.
    fn eq(&self, other: &RunTable) -> bool {
        if self.layout != other.layout {
            return false;
        }
        match (self.all_values(), other.all_values()) {
            (Ok(a), Ok(b)) => a.iter().zip(&b).all(|(a, b)| a.to_bits() == b.to_bits()),
            _ => false,
        }
    }
}

impl Serialize for RunTable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// The values, chunk after chunk, read one chunk at a time.
        struct Values<'a>(&'a RunTable);
        impl Serialize for Values<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let l = &self.0.layout;
                let mut seq = s.serialize_seq(Some(l.runs * l.columns()))?;
                for chunk in self.0.chunks() {
                    let chunk = chunk.map_err(serde::ser::Error::custom)?;
                    for v in chunk.values.iter() {
                        seq.serialize_element(v)?;
                    }
                }
                seq.end()
            }
        }
        let mut st = s.serialize_struct("RunTable", 2)?;
        st.serialize_field("layout", &self.layout)?;
        st.serialize_field("values", &Values(self))?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for RunTable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RunTable, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename = "RunTable")]
        struct Raw {
            layout: Layout,
            values: Vec<f64>,
        }
        let raw = Raw::deserialize(d)?;
        if raw.values.len() != raw.layout.runs * raw.layout.columns() {
            return Err(serde::de::Error::custom(
                "a per-run table of the wrong size",
            ));
        }
        Ok(RunTable {
            layout: raw.layout,
            store: Store::Memory(raw.values),
        })
    }
}

/// Fills a [`RunTable`] from blocks of rows that arrive in any order, from
/// any thread.
#[derive(Debug)]
pub struct TableBuilder {
    layout: Layout,
    state: Mutex<Building>,
}

#[derive(Debug)]
enum Building {
    Memory(Vec<f64>),
    File {
        file: File,
        /// Chunks being filled, with the runs they have so far.
        open: BTreeMap<usize, (Vec<f64>, usize)>,
        /// Buffers of written chunks, for reuse.
        free: Vec<Vec<f64>>,
        bytes: Vec<u8>,
        error: Option<io::Error>,
    },
}

impl TableBuilder {
    /// A builder of the table of `runs` runs from `first_run`, with
    /// `materials` materials and the drawn parameters `param_names`; kept in
    /// `spill` when given and the table is larger than [`SPILL_ABOVE_BYTES`].
    pub fn with_shape(
        first_run: u64,
        runs: usize,
        materials: usize,
        param_names: Vec<String>,
        spill: Option<Spill>,
    ) -> TableBuilder {
        TableBuilder::with_extras(first_run, runs, materials, param_names, Vec::new(), spill)
    }

    /// The same, with the extra per-run values `extra_names` after the
    /// parameters.
    pub fn with_extras(
        first_run: u64,
        runs: usize,
        materials: usize,
        param_names: Vec<String>,
        extra_names: Vec<String>,
        spill: Option<Spill>,
    ) -> TableBuilder {
        TableBuilder::new(
            Layout {
                first_run,
                runs,
                materials,
                param_names,
                extra_names,
            },
            spill,
        )
    }

    fn new(layout: Layout, spill: Option<Spill>) -> TableBuilder {
        let state = match spill {
            Some(Spill { file, above }) if layout.bytes() > above => Building::File {
                file,
                open: BTreeMap::new(),
                free: Vec::new(),
                bytes: Vec::new(),
                error: None,
            },
            _ => Building::Memory(vec![0.0; layout.runs * layout.columns()]),
        };
        TableBuilder {
            layout,
            state: Mutex::new(state),
        }
    }

    /// Number of materials of the table being built.
    pub fn materials(&self) -> usize {
        self.layout.materials
    }

    /// Names of the drawn parameters of the table being built.
    pub fn param_names(&self) -> &[String] {
        &self.layout.param_names
    }

    /// Names of the extra per-run values of the table being built.
    pub fn extra_names(&self) -> &[String] {
        &self.layout.extra_names
    }

    /// Number of values in one row: every material's totals, then the
    /// drawn parameters, then the extra values.
    pub fn row_len(&self) -> usize {
        self.layout.columns()
    }

    /// Puts consecutive rows from the `at`-th run of the table on: `rows`
    /// holds whole rows of [`Self::row_len`] values, for any runs not put
    /// before (rows may span chunks).
    pub fn put_rows(&self, at: usize, rows: &[f64]) {
        let cols = self.layout.columns().max(1);
        let mut at = at;
        let mut rows = rows;
        while !rows.is_empty() {
            // The rows that fall in the chunk of run `at`.
            let room = CHUNK_RUNS - at % CHUNK_RUNS;
            let n = (rows.len() / cols).min(room);
            let (here, rest) = rows.split_at(n * cols);
            self.put_in_chunk(at, here);
            at += n;
            rows = rest;
        }
    }

    /// Copies every run of `table` in, its first run at the `at`-th run of
    /// this table.
    ///
    /// # Errors
    /// What reading `table` reported.
    pub fn put_table(&self, at: usize, table: &RunTable) -> io::Result<()> {
        let cols = self.layout.columns();
        debug_assert_eq!(cols, table.layout.columns());
        let mut rows = Vec::new();
        for chunk in table.chunks() {
            let chunk = chunk?;
            rows.clear();
            for i in 0..chunk.runs {
                rows.extend((0..cols).map(|c| chunk.values[c * chunk.runs + i]));
            }
            self.put_rows(at + chunk.first, &rows);
        }
        Ok(())
    }

    /// [`Self::put_rows`] for rows within one chunk.
    fn put_in_chunk(&self, at: usize, rows: &[f64]) {
        let l = &self.layout;
        let cols = l.columns();
        let n = rows.len() / cols.max(1);
        if n == 0 {
            return;
        }
        let (k, r0) = (at / CHUNK_RUNS, at % CHUNK_RUNS);
        let chunk_runs = l.chunk_runs(k);
        debug_assert!(r0 + n <= chunk_runs, "rows stay within one chunk");
        // Column by column: each column's values land side by side.
        let fill = |chunk: &mut [f64]| {
            for (c, column) in chunk.chunks_exact_mut(chunk_runs).enumerate() {
                for (slot, row) in column[r0..r0 + n].iter_mut().zip(rows.chunks_exact(cols)) {
                    *slot = row[c];
                }
            }
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *state {
            Building::Memory(values) => {
                let start = l.chunk_start(k);
                fill(&mut values[start..start + chunk_runs * cols]);
            }
            Building::File {
                file,
                open,
                free,
                bytes,
                error,
            } => {
                let entry = open.entry(k).or_insert_with(|| {
                    let mut buf = free.pop().unwrap_or_default();
                    buf.resize(chunk_runs * cols, 0.0);
                    (buf, 0)
                });
                fill(&mut entry.0);
                entry.1 += n;
                if entry.1 == chunk_runs {
                    let (buf, _) = open.remove(&k).expect("the chunk is open");
                    // Written under the lock: a chunk is written once per
                    // CHUNK_RUNS runs, a small share of their time.
                    to_bytes(&buf, bytes);
                    if error.is_none() {
                        if let Err(e) = write_all_at(file, bytes, l.chunk_start(k) as u64 * 8) {
                            *error = Some(e);
                        }
                    }
                    free.push(buf);
                }
            }
        }
    }

    /// The filled table.
    ///
    /// # Errors
    /// What writing a spilled table reported, or rows left unfilled.
    pub fn finish(self) -> io::Result<RunTable> {
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        let store = match state {
            Building::Memory(values) => Store::Memory(values),
            Building::File {
                file, open, error, ..
            } => {
                if let Some(e) = error {
                    return Err(e);
                }
                if !open.is_empty() {
                    return Err(io::Error::other("runs missing from the per-run table"));
                }
                Store::File(file)
            }
        };
        Ok(RunTable {
            layout: self.layout,
            store,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of `runs` runs whose value in column c of run i is
    /// `i * 1000 + c`, built from blocks of 64 rows in a scrambled order.
    fn table(runs: usize, first_run: u64, spill: bool) -> RunTable {
        let names = vec!["a".to_string(), "b".to_string()];
        let spill = spill.then(|| Spill::new_in(&std::env::temp_dir()).unwrap().above(0));
        let b = TableBuilder::with_shape(first_run, runs, 2, names, spill);
        let cols = b.row_len();
        let blocks: Vec<usize> = (0..runs.div_ceil(64)).collect();
        // Odd blocks first, then even ones, to arrive out of order.
        for &k in blocks
            .iter()
            .filter(|k| *k % 2 == 1)
            .chain(blocks.iter().filter(|k| *k % 2 == 0))
        {
            let rows: Vec<f64> = (k * 64..(k * 64 + 64).min(runs))
                .flat_map(|i| (0..cols).map(move |c| (i * 1000 + c) as f64))
                .collect();
            b.put_rows(k * 64, &rows);
        }
        b.finish().unwrap()
    }

    #[test]
    fn columns_rows_and_chunks_read_back_what_was_put() {
        // One run short of 3 chunks, in memory (far below the threshold).
        let runs = 3 * CHUNK_RUNS - 1;
        let t = table(runs, 128, false);
        assert!(!t.is_spilled());
        let cols = 2 * N_METRICS + 2;
        assert_eq!(t.runs(), runs);
        assert_eq!(t.first_run(), 128);
        let col = t.column(1, Metric::ShortfallT).unwrap();
        let c = N_METRICS + Metric::ShortfallT as usize;
        assert!(col
            .iter()
            .enumerate()
            .all(|(i, &v)| v == (i * 1000 + c) as f64));
        let p = t.param_column(1).unwrap();
        assert!(p
            .iter()
            .enumerate()
            .all(|(i, &v)| v == (i * 1000 + cols - 1) as f64));
        assert_eq!(t.get(5000, 0, Metric::DemandT).unwrap(), 5_000_000.0);
        assert_eq!(
            t.params(7).unwrap(),
            vec![(7000 + cols - 2) as f64, (7000 + cols - 1) as f64]
        );
        let mut seen = 0;
        for chunk in t.chunks() {
            let chunk = chunk.unwrap();
            assert_eq!(chunk.first(), seen);
            for i in 0..chunk.runs() {
                let run = chunk.first() + i;
                assert_eq!(chunk.get(i, 0, Metric::SupplyT), (run * 1000 + 1) as f64);
                assert_eq!(chunk.param(i, 0), (run * 1000 + cols - 2) as f64);
            }
            seen += chunk.runs();
        }
        assert_eq!(seen, runs);
    }

    #[test]
    fn a_spilled_table_reads_the_same_as_one_in_memory() {
        // 2.5 chunks of 60 columns, kept in a file whatever their size.
        let runs = 10_000;
        let names: Vec<String> = (0..60 - 2 * N_METRICS).map(|p| format!("p{p}")).collect();
        let build = |spill: Option<Spill>| {
            let b = TableBuilder::with_shape(0, runs, 2, names.clone(), spill);
            let cols = b.row_len();
            for k in (0..runs.div_ceil(64)).rev() {
                let rows: Vec<f64> = (k * 64..(k * 64 + 64).min(runs))
                    .flat_map(|i| (0..cols).map(move |c| (i * 100 + c) as f64 + 0.5))
                    .collect();
                b.put_rows(k * 64, &rows);
            }
            b.finish().unwrap()
        };
        let mem = build(None);
        let file = build(Some(Spill::new_in(&std::env::temp_dir()).unwrap().above(0)));
        assert!(file.is_spilled() && !mem.is_spilled());
        assert_eq!(
            file.column(1, Metric::ReleaseT).unwrap(),
            mem.column(1, Metric::ReleaseT).unwrap()
        );
        assert_eq!(file.param_column(3).unwrap(), mem.param_column(3).unwrap());
        assert_eq!(file.get(9_999, 0, Metric::DemandT).unwrap(), 999_900.5);
        assert!(file == mem);
    }

    #[test]
    fn tables_put_whole_land_at_their_runs_across_chunks() {
        // Parts whose boundaries fall inside chunks of the whole, the whole
        // kept in a file, the parts put out of order, one of them spilled.
        let parts = [
            (0, table(4100, 0, false)),
            (4100, table(5000, 4100, true)),
            (9100, table(60, 9100, false)),
        ];
        let names = vec!["a".to_string(), "b".to_string()];
        let spill = Spill::new_in(&std::env::temp_dir()).unwrap().above(0);
        let whole = TableBuilder::with_shape(0, 9160, 2, names, Some(spill));
        for (at, part) in parts.iter().rev() {
            whole.put_table(*at, part).unwrap();
        }
        let joined = whole.finish().unwrap();
        assert!(joined.is_spilled());
        let col = joined.param_column(1).unwrap();
        let expect = |i: usize| {
            let local = if i < 4100 {
                i
            } else if i < 9100 {
                i - 4100
            } else {
                i - 9100
            };
            (local * 1000 + 2 * N_METRICS + 1) as f64
        };
        assert!(col.iter().enumerate().all(|(i, &v)| v == expect(i)));
    }

    #[test]
    fn a_table_whose_file_cannot_be_read_gives_errors_not_values() {
        // A file opened for writing only: every read of it fails.
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("table")).unwrap();
        let t = RunTable {
            layout: Layout {
                first_run: 0,
                runs: 100,
                materials: 1,
                param_names: vec!["a".into()],
                extra_names: Vec::new(),
            },
            store: Store::File(file),
        };
        assert!(t.column(0, Metric::ShortfallT).is_err());
        assert!(t.param_column(0).is_err());
        assert!(t.get(3, 0, Metric::DemandT).is_err());
        assert!(t.params(3).is_err());
        assert!(t.chunks().next().unwrap().is_err());
        let whole = TableBuilder::with_shape(0, 100, 1, vec!["a".into()], None);
        assert!(whole.put_table(0, &t).is_err());
        assert!(postcard::to_stdvec(&t).is_err());
    }
}
