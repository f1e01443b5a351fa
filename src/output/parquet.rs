//! `runs.parquet`, `params.parquet` and `timeseries.parquet`: the tables of
//! [`super::columns`] as Parquet files (`run --format parquet`).
//!
//! Whole numbers are `INT64`, numbers `DOUBLE` (a tier column that some
//! materials lack is `OPTIONAL DOUBLE`, null where the CSV field is empty),
//! labels `BYTE_ARRAY` strings, dictionary encoded; every column chunk is
//! compressed with zstd. A per-run table is written a row group per
//! [`ROW_GROUP_RUNS`] runs, from the run table's chunks, so memory holds one
//! row group's columns at a time. The columns of a row group are encoded
//! and compressed side by side on the rayon pool, each into a buffer of its
//! own, and then written in column order, so the bytes do not depend on
//! the number of threads.

use super::columns::{self, RunsLayout, Table, Values};
use crate::report::Report;
use crate::storage::RunTable;
use bytes::Bytes;
use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical, ZstdLevel};
use parquet::column::writer::{get_column_writer, get_typed_column_writer, ColumnCloseResult};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::{WriterProperties, WriterPropertiesPtr};
use parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use parquet::schema::types::{ColumnDescPtr, Type};
use rayon::prelude::*;
use std::io::{self, Write};
use std::sync::Arc;

/// Runs per row group of the per-run tables (a multiple of the run table's
/// chunk): large enough for compression and readers' speed, small enough
/// that one group's columns stay a few tens of megabytes.
pub const ROW_GROUP_RUNS: usize = 16 * crate::storage::table::CHUNK_RUNS;

/// zstd's level: the fastest of its levels, which still compresses the
/// per-run tables to about a fifth of their CSV (docs/performance.md).
const ZSTD_LEVEL: i32 = 1;

fn parquet_error(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e)
}

/// The file schema of `table`'s columns.
fn schema(table: &Table) -> parquet::errors::Result<Arc<Type>> {
    let fields = table
        .columns
        .iter()
        .map(|c| {
            let (physical, repetition, logical) = match c.values {
                Values::Int(_) => (Physical::INT64, Repetition::REQUIRED, None),
                Values::Float(_) => (Physical::DOUBLE, Repetition::REQUIRED, None),
                Values::MaybeFloat(_) => (Physical::DOUBLE, Repetition::OPTIONAL, None),
                Values::Text { .. } => (
                    Physical::BYTE_ARRAY,
                    Repetition::REQUIRED,
                    Some(LogicalType::String),
                ),
            };
            Type::primitive_type_builder(&c.name, physical)
                .with_repetition(repetition)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
        })
        .collect::<parquet::errors::Result<Vec<_>>>()?;
    Ok(Arc::new(
        Type::group_type_builder("schema")
            .with_fields(fields)
            .build()?,
    ))
}

/// One column chunk encoded and compressed into memory: its bytes, and
/// what the file's metadata needs to know of them.
fn encode(
    descr: ColumnDescPtr,
    props: WriterPropertiesPtr,
    values: &Values,
) -> parquet::errors::Result<(Bytes, ColumnCloseResult)> {
    let mut sink = TrackedWrite::new(Vec::new());
    let close = {
        let pages = Box::new(SerializedPageWriter::new(&mut sink));
        let column = get_column_writer(descr, props, pages);
        match values {
            Values::Int(v) => {
                let mut w = get_typed_column_writer::<Int64Type>(column);
                w.write_batch(v, None, None)?;
                w.close()?
            }
            Values::Float(v) => {
                let mut w = get_typed_column_writer::<DoubleType>(column);
                w.write_batch(v, None, None)?;
                w.close()?
            }
            Values::MaybeFloat(v) => {
                let present: Vec<f64> = v.iter().flatten().copied().collect();
                let levels: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
                let mut w = get_typed_column_writer::<DoubleType>(column);
                w.write_batch(&present, Some(&levels), None)?;
                w.close()?
            }
            Values::Text { codes, labels } => {
                let labels: Vec<ByteArray> =
                    labels.iter().map(|l| ByteArray::from(l.as_str())).collect();
                let values: Vec<ByteArray> =
                    codes.iter().map(|&c| labels[c as usize].clone()).collect();
                let mut w = get_typed_column_writer::<ByteArrayType>(column);
                w.write_batch(&values, None, None)?;
                w.close()?
            }
        }
    };
    Ok((Bytes::from(sink.into_inner()?), close))
}

/// Writes a Parquet file of `shape`'s columns, a row group per table that
/// `groups` yields (each with `shape`'s columns), to `w`.
fn write_groups(
    w: &mut (dyn Write + Send),
    shape: &Table,
    groups: impl Iterator<Item = io::Result<Table>>,
) -> io::Result<()> {
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(ZSTD_LEVEL).map_err(parquet_error)?,
            ))
            .set_created_by(format!("crmsim {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let mut writer =
        SerializedFileWriter::new(w, schema(shape).map_err(parquet_error)?, props.clone())
            .map_err(parquet_error)?;
    let columns: Vec<ColumnDescPtr> = writer.schema_descr().columns().to_vec();
    for group in groups {
        let group = group?;
        let encoded = group
            .columns
            .par_iter()
            .zip(&columns)
            .map(|(c, descr)| encode(descr.clone(), props.clone(), &c.values))
            .collect::<parquet::errors::Result<Vec<_>>>()
            .map_err(parquet_error)?;
        drop(group);
        let mut rg = writer.next_row_group().map_err(parquet_error)?;
        for (bytes, close) in encoded {
            rg.append_column(&bytes, close).map_err(parquet_error)?;
        }
        rg.close().map_err(parquet_error)?;
    }
    writer.close().map_err(parquet_error)?;
    Ok(())
}

/// Joins the run table's chunks into groups of [`ROW_GROUP_RUNS`] runs,
/// each made by `make` from one chunk.
fn chunk_groups<'a>(
    table: &'a RunTable,
    make: impl Fn(&crate::storage::table::Chunk) -> Table + 'a,
) -> impl Iterator<Item = io::Result<Table>> + 'a {
    let per_group = ROW_GROUP_RUNS / crate::storage::table::CHUNK_RUNS;
    let mut chunks = table.chunks().peekable();
    std::iter::from_fn(move || {
        chunks.peek()?;
        let mut group = Table::default();
        for _ in 0..per_group {
            match chunks.next() {
                Some(Ok(chunk)) => group.append(make(&chunk)),
                Some(Err(e)) => return Some(Err(e)),
                None => break,
            }
        }
        Some(Ok(group))
    })
}

/// Writes `runs.parquet`: the columns and values of `runs.csv`.
///
/// # Errors
/// What `w` reports, or what reading a spilled table reported.
pub fn runs_to(w: &mut (dyn Write + Send), report: &Report, table: &RunTable) -> io::Result<()> {
    let layout = RunsLayout::new(report, table);
    let shape = layout.chunk(table, &table.empty_chunk());
    write_groups(
        w,
        &shape,
        chunk_groups(table, |chunk| layout.chunk(table, chunk)),
    )
}

/// Writes `params.parquet`: the columns and values of `params.csv`.
///
/// # Errors
/// What `w` reports, or what reading a spilled table reported.
pub fn params_to(w: &mut (dyn Write + Send), table: &RunTable) -> io::Result<()> {
    let shape = columns::params_chunk(table, &table.empty_chunk());
    write_groups(
        w,
        &shape,
        chunk_groups(table, |chunk| columns::params_chunk(table, chunk)),
    )
}

/// Renders `timeseries.parquet`: the columns and values of
/// `timeseries.csv`, one row group.
pub fn timeseries(report: &Report) -> io::Result<Vec<u8>> {
    let table = columns::timeseries(report);
    let mut out = Vec::new();
    write_groups(&mut out, &table.empty_like(), std::iter::once(Ok(table)))?;
    Ok(out)
}
