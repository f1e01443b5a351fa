//! The three large result tables (`runs`, `params`, `timeseries`) as typed
//! columns: what the CSV files hold, with integers as integers and numbers
//! as `f64`, for the Parquet files and for the Python package's data
//! frames. The columns and their order are those of the CSV files
//! ([`super::csv`]); a test reads both and compares every value.
//!
//! A per-run table is built chunk by chunk of the run table
//! ([`RunTable::chunks`]), so a writer can hold one chunk's columns at a
//! time; [`runs`] and [`params`] join the chunks for callers that want the
//! whole table in memory.

use crate::report::Report;
use crate::storage::table::Chunk;
use crate::storage::RunTable;
use crate::vocab::{Metric, Variable};
use std::io;

/// A column's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Whole numbers (run and step numbers).
    Int(Vec<i64>),
    /// Numbers.
    Float(Vec<f64>),
    /// Numbers that some rows lack (a demand tier that a material does not
    /// have): an empty field in CSV, a null in Parquet, NaN in pandas.
    MaybeFloat(Vec<Option<f64>>),
    /// Text from a short list of labels (a material id, a variable's name):
    /// each row holds the index of its label.
    Text {
        /// Each row's label, an index into `labels`.
        codes: Vec<u32>,
        /// The labels.
        labels: Vec<String>,
    },
}

impl Values {
    /// Appends `other`'s rows (the same kind of column, with the same
    /// labels).
    fn append(&mut self, other: Values) {
        match (self, other) {
            (Values::Int(a), Values::Int(b)) => a.extend(b),
            (Values::Float(a), Values::Float(b)) => a.extend(b),
            (Values::MaybeFloat(a), Values::MaybeFloat(b)) => a.extend(b),
            (Values::Text { codes: a, .. }, Values::Text { codes: b, .. }) => a.extend(b),
            _ => unreachable!("chunks of one table have the same columns"),
        }
    }
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name, as in the CSV file's header.
    pub name: String,
    /// Its values.
    pub values: Values,
}

/// Columns of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The columns, in the CSV file's order.
    pub columns: Vec<Column>,
}

impl Table {
    fn push(&mut self, name: impl Into<String>, values: Values) {
        self.columns.push(Column {
            name: name.into(),
            values,
        });
    }

    /// The same columns without rows.
    pub fn empty_like(&self) -> Table {
        let columns = self
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                values: match &c.values {
                    Values::Int(_) => Values::Int(Vec::new()),
                    Values::Float(_) => Values::Float(Vec::new()),
                    Values::MaybeFloat(_) => Values::MaybeFloat(Vec::new()),
                    Values::Text { labels, .. } => Values::Text {
                        codes: Vec::new(),
                        labels: labels.clone(),
                    },
                },
            })
            .collect();
        Table { columns }
    }

    /// Appends `other`'s rows (a later chunk of the same table).
    pub fn append(&mut self, other: Table) {
        if self.columns.is_empty() {
            *self = other;
            return;
        }
        for (a, b) in self.columns.iter_mut().zip(other.columns) {
            a.values.append(b.values);
        }
    }
}

/// The columns of the per-run table (`runs.csv`): `run`, `material`, each
/// total of [`Metric::ALL`] (the counts of steps, [`Metric::is_count`], as
/// integers), and two columns per demand tier name (the union
/// over materials, in order), empty for a material without that tier.
#[derive(Debug, Clone)]
pub struct RunsLayout {
    /// Every column's name, in order.
    pub header: Vec<String>,
    /// The material ids, in the scenario's order.
    pub materials: Vec<String>,
    /// Per material, per tier column: the run table's extra column that
    /// holds it, or `None` when the material has no such tier.
    pub tier_columns: Vec<Vec<Option<usize>>>,
}

impl RunsLayout {
    /// The layout of `report`'s per-run table, whose extra columns are
    /// `table`'s.
    pub fn new(report: &Report, table: &RunTable) -> RunsLayout {
        let mut header: Vec<String> = vec!["run".into(), "material".into()];
        header.extend(Metric::ALL.iter().map(|m| m.name().to_string()));
        let mut tier_names: Vec<&str> = Vec::new();
        for t in report.materials.iter().flat_map(|m| &m.tiers) {
            if !tier_names.contains(&t.name.as_str()) {
                tier_names.push(&t.name);
            }
        }
        for name in &tier_names {
            header.push(format!("tier[{name}].shortfall_t"));
            header.push(format!("tier[{name}].shortage_cost_eur"));
        }
        let tier_columns = report
            .materials
            .iter()
            .map(|mat| {
                tier_names
                    .iter()
                    .flat_map(|name| {
                        ["shortfall_t", "shortage_cost_eur"].map(|what| {
                            let col = format!("material[{}].tier[{name}].{what}", mat.id);
                            table.extra_names().iter().position(|n| *n == col)
                        })
                    })
                    .collect()
            })
            .collect();
        RunsLayout {
            header,
            materials: report.materials.iter().map(|m| m.id.clone()).collect(),
            tier_columns,
        }
    }

    /// The rows of one chunk: for each run, a row per material.
    pub fn chunk(&self, table: &RunTable, chunk: &Chunk) -> Table {
        let n_mat = self.materials.len();
        let rows = chunk.runs() * n_mat;
        let first_run = table.first_run() as i64 + chunk.first() as i64;
        let mut out = Table::default();
        out.push(
            "run",
            Values::Int(
                (0..rows)
                    .map(|r| first_run + (r / n_mat.max(1)) as i64)
                    .collect(),
            ),
        );
        out.push(
            "material",
            Values::Text {
                codes: (0..rows).map(|r| (r % n_mat.max(1)) as u32).collect(),
                labels: self.materials.clone(),
            },
        );
        let each = |f: &dyn Fn(usize, usize) -> f64| -> Vec<f64> {
            (0..chunk.runs())
                .flat_map(|i| (0..n_mat).map(move |m| (i, m)))
                .map(|(i, m)| f(i, m))
                .collect()
        };
        for metric in Metric::ALL {
            let values = each(&|i, m| chunk.get(i, m, metric));
            let values = if metric.is_count() {
                // Whole numbers of steps, exact in an i64.
                Values::Int(values.into_iter().map(|x| x as i64).collect())
            } else {
                Values::Float(values)
            };
            out.push(metric.name(), values);
        }
        for (k, name) in self.header[2 + Metric::ALL.len()..].iter().enumerate() {
            let values = (0..chunk.runs())
                .flat_map(|i| (0..n_mat).map(move |m| (i, m)))
                .map(|(i, m)| self.tier_columns[m][k].map(|col| chunk.extra(i, col)))
                .collect();
            out.push(name.clone(), Values::MaybeFloat(values));
        }
        out
    }
}

/// The whole per-run table (`runs.csv`) in memory.
///
/// # Errors
/// What reading a spilled table reported.
pub fn runs(report: &Report, table: &RunTable) -> io::Result<Table> {
    let layout = RunsLayout::new(report, table);
    let mut out = Table::default();
    for chunk in table.chunks() {
        out.append(layout.chunk(table, &chunk?));
    }
    if out.columns.is_empty() {
        out = layout.chunk(table, &table.empty_chunk());
    }
    Ok(out)
}

/// The columns of `params.csv` for one chunk: `run`, then each drawn
/// number ([`RunTable::param_names`] order).
pub fn params_chunk(table: &RunTable, chunk: &Chunk) -> Table {
    let first_run = table.first_run() as i64 + chunk.first() as i64;
    let mut out = Table::default();
    out.push(
        "run",
        Values::Int((0..chunk.runs() as i64).map(|i| first_run + i).collect()),
    );
    for (p, name) in table.param_names().iter().enumerate() {
        out.push(
            name.clone(),
            Values::Float((0..chunk.runs()).map(|i| chunk.param(i, p)).collect()),
        );
    }
    out
}

/// The whole `params.csv` table in memory.
///
/// # Errors
/// What reading a spilled table reported.
pub fn params(table: &RunTable) -> io::Result<Table> {
    let mut out = Table::default();
    for chunk in table.chunks() {
        out.append(params_chunk(table, &chunk?));
    }
    if out.columns.is_empty() {
        out = params_chunk(table, &table.empty_chunk());
    }
    Ok(out)
}

/// `timeseries.csv`: per material, step and variable, the mean and the 5,
/// 25, 50, 75 and 95th percentiles over runs.
pub fn timeseries(report: &Report) -> Table {
    let rows = report.materials.len() * report.steps * Variable::ALL.len();
    let mut material = Vec::with_capacity(rows);
    let mut step = Vec::with_capacity(rows);
    let mut time = Vec::with_capacity(rows);
    let mut variable = Vec::with_capacity(rows);
    let mut stats: [Vec<f64>; 6] = std::array::from_fn(|_| Vec::with_capacity(rows));
    for m in 0..report.materials.len() {
        for t in 0..report.steps {
            for (v, var) in Variable::ALL.into_iter().enumerate() {
                let row = report.step_row(m, var, t);
                material.push(m as u32);
                step.push(t as i64);
                time.push(report.times[t]);
                variable.push(v as u32);
                stats[0].push(row.mean);
                for (k, p) in row.p.iter().enumerate() {
                    stats[k + 1].push(*p);
                }
            }
        }
    }
    let mut out = Table::default();
    out.push(
        "material",
        Values::Text {
            codes: material,
            labels: report.materials.iter().map(|m| m.id.clone()).collect(),
        },
    );
    out.push("step", Values::Int(step));
    out.push("time", Values::Float(time));
    out.push(
        "variable",
        Values::Text {
            codes: variable,
            labels: Variable::ALL.iter().map(|v| v.name().to_string()).collect(),
        },
    );
    let [mean, p5, p25, p50, p75, p95] = stats;
    for (name, values) in [
        ("mean", mean),
        ("p5", p5),
        ("p25", p25),
        ("p50", p50),
        ("p75", p75),
        ("p95", p95),
    ] {
        out.push(name, Values::Float(values));
    }
    out
}
