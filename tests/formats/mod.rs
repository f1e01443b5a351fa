//! `--format parquet`: the Parquet tables hold the CSV tables' columns and
//! values, typed, and a merge of shards writes the same files as one run.

#![cfg(feature = "parquet")]

use crate::util::{crmsim, read_csv, root, temp_dir};
use parquet::basic::{LogicalType, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use std::path::Path;

/// A column's name, physical type and whether it holds strings.
type ColumnType = (String, Physical, bool);

/// A Parquet file's column names and physical types, and its rows.
fn read_parquet(path: &Path) -> (Vec<ColumnType>, Vec<Vec<Field>>) {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let columns = schema
        .columns()
        .iter()
        .map(|c| {
            let text = c.logical_type_ref() == Some(&LogicalType::String);
            (c.name().to_string(), c.physical_type(), text)
        })
        .collect();
    let rows = reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(_, f)| f.clone())
                .collect()
        })
        .collect();
    (columns, rows)
}

/// Every field of the CSV file equals the Parquet file's value in the same
/// row and column: integers as INT64, numbers as DOUBLE (the CSV's digits
/// read back to the same bits), text as strings, an empty field as null.
fn assert_same_table(csv_path: &Path, parquet_path: &Path) -> usize {
    let (header, rows) = read_csv(csv_path);
    let (columns, values) = read_parquet(parquet_path);
    let names: Vec<&str> = columns.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, header, "{}", parquet_path.display());
    assert_eq!(values.len(), rows.len(), "{}", parquet_path.display());
    for (r, (row, got)) in rows.iter().zip(&values).enumerate() {
        for (c, (field, value)) in row.iter().zip(got).enumerate() {
            let at = format!("{} row {r} column {}", parquet_path.display(), header[c]);
            match value {
                Field::Long(i) => assert_eq!(field.parse::<i64>().unwrap(), *i, "{at}"),
                Field::Double(x) => {
                    let want: f64 = field.parse().unwrap();
                    assert_eq!(want.to_bits(), x.to_bits(), "{at}");
                }
                Field::Str(s) => assert_eq!(field, s, "{at}"),
                Field::Null => assert_eq!(field, "", "{at}"),
                other => panic!("{at}: unexpected {other:?}"),
            }
        }
    }
    rows.len()
}

/// The defence scenario (six materials, four with civil and defence tiers) and
/// one material without tiers, whose tier columns are empty.
fn scenario(dir: &Path) -> std::path::PathBuf {
    let mut text = std::fs::read_to_string(root().join("scenarios/defence-supply.toml")).unwrap();
    text.push_str(
        "\n[[material]]\nid = \"plain\"\ndemand_tpy = 10\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 5000\n[[material.source]]\nregion = \"CN\"\nshare = 1\n",
    );
    let path = dir.join("tiers-and-plain.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run(scenario: &Path, dir: &Path, format: &str, extra: &[&str]) {
    crmsim()
        .arg("run")
        .arg(scenario)
        .args(["--runs", "4200", "--seed", "5"])
        .args(["--no-charts", "--quiet", "--format", format, "--out"])
        .arg(dir)
        .args(extra)
        .assert()
        .success();
}

#[test]
fn parquet_tables_hold_the_csv_values_typed() {
    let tmp = temp_dir();
    let s = scenario(tmp.path());
    let (csv_dir, pq_dir) = (tmp.path().join("csv"), tmp.path().join("parquet"));
    run(&s, &csv_dir, "csv", &[]);
    run(&s, &pq_dir, "parquet", &[]);
    // 4,200 runs of seven materials (the scenario's six and plain): two
    // chunks of the per-run table, one row group.
    for (name, rows) in [("runs", 4200 * 7), ("params", 4200), ("timeseries", 0)] {
        let n = assert_same_table(
            &csv_dir.join(format!("{name}.csv")),
            &pq_dir.join(format!("{name}.parquet")),
        );
        if rows > 0 {
            assert_eq!(n, rows, "{name}");
        }
        assert!(!pq_dir.join(format!("{name}.csv")).exists());
    }
    // The types: run and the counts of steps INT64, material a string, the
    // other totals DOUBLE; the tier columns are null for the materials
    // without that tier.
    let (columns, rows) = read_parquet(&pq_dir.join("runs.parquet"));
    assert_eq!(columns[0], ("run".into(), Physical::INT64, false));
    assert_eq!(columns[1], ("material".into(), Physical::BYTE_ARRAY, true));
    for (name, physical, _) in &columns[2..] {
        let count = name == "shortfall_steps" || name == "longest_shortfall_steps";
        let want = if count {
            Physical::INT64
        } else {
            Physical::DOUBLE
        };
        assert_eq!(*physical, want, "{name}");
    }
    let tier = columns
        .iter()
        .position(|c| c.0.starts_with("tier["))
        .unwrap();
    assert!(rows.iter().any(|r| r[tier] == Field::Null));
    assert!(rows.iter().any(|r| matches!(r[tier], Field::Double(_))));
    // The columns are encoded side by side: one thread writes the same bytes.
    let one = tmp.path().join("one-thread");
    run(&s, &one, "parquet", &["--threads", "1"]);
    for name in ["runs.parquet", "params.parquet", "timeseries.parquet"] {
        assert_eq!(
            std::fs::read(one.join(name)).unwrap(),
            std::fs::read(pq_dir.join(name)).unwrap(),
            "{name}"
        );
    }
    // The rest of the folder is the same.
    for name in [
        "summary.json",
        "stocks.csv",
        "scenario.toml",
        "resolved.txt",
    ] {
        assert_eq!(
            std::fs::read(csv_dir.join(name)).unwrap(),
            std::fs::read(pq_dir.join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn merged_shards_write_the_parquet_files_of_one_run() {
    let tmp = temp_dir();
    let s = scenario(tmp.path());
    let whole = tmp.path().join("whole");
    run(&s, &whole, "parquet", &[]);
    let mut partials = Vec::new();
    for k in 0..3 {
        let dir = tmp.path().join(format!("shard{k}"));
        run(&s, &dir, "csv", &["--shard", &format!("{k}/3")]);
        partials.push(dir);
    }
    let merged = tmp.path().join("merged");
    crmsim()
        .args([
            "merge",
            "--no-charts",
            "--quiet",
            "--format",
            "parquet",
            "--out",
        ])
        .arg(&merged)
        .args(&partials)
        .assert()
        .success();
    for name in [
        "runs.parquet",
        "params.parquet",
        "timeseries.parquet",
        "summary.json",
    ] {
        assert_eq!(
            std::fs::read(whole.join(name)).unwrap(),
            std::fs::read(merged.join(name)).unwrap(),
            "{name}"
        );
    }
}
