//! `crmsim catalogue`: the rates it prints for the catalogue shipped in
//! `data/disruptions.csv`, checked against counts made by hand from that
//! file, and its errors (a bad `--until`, a malformed catalogue): exit code
//! 2, with the option, or the file, line and field.

use crate::util::{root, stderr, stdout};
use std::fs;

/// The binary, run from the project's root (where `data/` is).
fn crmsim() -> assert_cmd::Command {
    let mut c = crate::util::crmsim();
    c.current_dir(root());
    c
}

/// The fields of the table line of one (region, kind) pair.
fn pair_line(table: &str, pair: &str) -> Vec<String> {
    let lines: Vec<&str> = table
        .lines()
        .filter(|l| l.trim_start().starts_with(pair))
        .collect();
    assert_eq!(lines.len(), 1, "one line for {pair}:\n{table}");
    lines[0][pair.len()..]
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// The ids of the rows of `data/disruptions.csv` of region CN, kind
/// export_control, that remove physical supply, and of those the ones that
/// name gallium: the rows the counts below were made from.
fn cn_export_control_rows() -> (Vec<String>, Vec<String>) {
    let mut reader = csv::Reader::from_path(root().join("data/disruptions.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id, materials, region, kind, physical) = (
        col("id"),
        col("materials"),
        col("region"),
        col("kind"),
        col("physical"),
    );
    let mut all = Vec::new();
    let mut gallium = Vec::new();
    for r in reader.records() {
        let r = r.unwrap();
        if &r[region] == "CN" && &r[kind] == "export_control" && &r[physical] != "no" {
            all.push(r[id].to_string());
            if r[materials].split(';').any(|m| m == "gallium") {
                gallium.push(r[id].to_string());
            }
        }
    }
    (all, gallium)
}

/// Counted by hand from data/disruptions.csv:
///
/// - Exposure runs from 2005-01 to the newest month in the file, 2026-01
///   (the `as_of` of redsea-houthi-diversions-2023 and
///   br-vanadium-us-tariff-2025): 21 x 12 + 1 = 253 months, T = 253/12 =
///   21.083 years.
/// - Rows of region CN that name gallium: cn-ga-ge-licensing-2023 (from
///   2023-08, ongoing, as_of 2025-11) and cn-us-ban-ga-ge-sb-2024 (2024-12 to
///   2025-11), both export_control. No CN outage or sanction row names
///   gallium, and the rows of `materials = all` are routes (Suez, RedSea,
///   Panama), not CN. So one pair, CN export_control, with n = 2 events.
/// - Jeffreys posterior: Gamma(shape = n + 1/2, scale = 1/T) = Gamma(2.5,
///   12/253 = 0.0474308), mean 2.5 x 12/253 = 30/253 = 0.11858 per year.
/// - Durations: 2023-08 to 2025-11 is 28 months (censored, still in force),
///   2024-12 to 2025-11 is 12: mean 20.
///
/// Without --material, CN export_control has 13 rows: cn-ds394-raw-materials-2009,
/// cn-re-export-quota-cut-2010, cn-re-japan-halt-2010, cn-ds431-w-mo-2012,
/// cn-ga-ge-licensing-2023, cn-ge-licensing-2023, cn-graphite-permits-2023, cn-sb-controls-2024,
/// cn-us-ban-ga-ge-sb-2024, cn-graphite-us-enduser-2024,
/// cn-w-te-bi-mo-in-2025, cn-re-medium-heavy-2025 and
/// cn-re-battery-measures-oct-2025. cn-ds431-w-mo-2012 has `same_event_as =
/// cn-re-export-quota-cut-2010` (one WTO case) and cn-ge-licensing-2023 has
/// `same_event_as = cn-ga-ge-licensing-2023` (one announcement, a row per
/// material for its own severity), so each pair counts once: n = 11,
/// Gamma(11.5, 0.0474308), mean 11.5 x 12/253 = 138/253 = 0.54545 per year.
#[test]
fn the_fitted_rate_is_the_count_of_the_catalogue_rows() {
    let (all, gallium) = cn_export_control_rows();
    assert_eq!(
        gallium,
        ["cn-ga-ge-licensing-2023", "cn-us-ban-ga-ge-sb-2024"],
        "data/disruptions.csv changed: count again (see this test's comment)"
    );
    assert_eq!(
        all.len(),
        13,
        "data/disruptions.csv changed: count again (see this test's comment)"
    );

    let o = crmsim()
        .args(["catalogue", "--material", "gallium", "--region", "CN"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(
        table.contains("exposure 2005-01 to 2026-01") && table.contains("21.08 years"),
        "{table}"
    );
    // events, rate (mean), p5, p95, months mean, sd, censored, ...
    let cn = pair_line(&table, "CN export_control");
    assert_eq!(cn[0], "2", "{table}");
    assert_eq!(cn[1], "0.1186", "30/253 = 0.11858\n{table}");
    assert_eq!(cn[4], "20", "(28 + 12) / 2\n{table}");
    assert_eq!(cn[6], "1", "one censored\n{table}");
    assert!(!table.contains("CN outage"), "{table}");
    let mean: f64 = cn[1].parse().unwrap();
    assert!((mean - 30.0 / 253.0).abs() < 5e-5);

    let o = crmsim()
        .args([
            "catalogue",
            "--material",
            "gallium",
            "--region",
            "CN",
            "--toml",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let toml = stdout(&o);
    assert!(
        toml.contains("rate_per_year = { dist = \"gamma\", shape = 2.5, scale = 0.0474308 }"),
        "{toml}"
    );
    assert!(toml.contains("materials = [\"gallium\"]"), "{toml}");
    assert!(toml.contains("region = \"CN\""), "{toml}");
    // What it prints is a scenario's [[disruption]] table: it parses as TOML.
    let doc: toml::Table = toml.parse().unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(doc["disruption"].as_array().unwrap().len(), 1, "{toml}");

    // All CN rows: 11 export-control events from 13 rows.
    let o = crmsim()
        .args(["catalogue", "--region", "CN"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    let cn = pair_line(&table, "CN export_control");
    assert_eq!(cn[0], "11", "{table}");
    assert_eq!(cn[1], "0.5455", "138/253 = 0.54545\n{table}");
    let o = crmsim()
        .args(["catalogue", "--region", "CN", "--toml"])
        .output()
        .unwrap();
    assert!(
        stdout(&o)
            .contains("rate_per_year = { dist = \"gamma\", shape = 11.5, scale = 0.0474308 }"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_bad_until_exits_2_with_a_message() {
    for (until, expect) in [
        ("2025-13", "\"2025-13\" is not a month: write YYYY-MM"),
        ("2025/11", "\"2025/11\" is not a month: write YYYY-MM"),
        (
            "2004-12",
            "--until 2004-12: must not be before 2005-01, when exposure starts",
        ),
    ] {
        let o = crmsim()
            .args(["catalogue", "--until", until])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{until}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{until}: {}", stderr(&o));
        assert!(stderr(&o).contains("--until"), "{until}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{until}: {}", stdout(&o));
    }
    // A good one: events are counted to its month.
    let o = crmsim()
        .args(["catalogue", "--region", "CN", "--until", "2019-12"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("exposure 2005-01 to 2019-12"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_malformed_catalogue_exits_2_naming_file_line_and_field() {
    let text = fs::read_to_string(root().join("data/disruptions.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[3].starts_with("cn-re-japan-halt-2010,"),
        "line 4 moved"
    );
    let dir = tempfile::tempdir().unwrap();
    let with_line_4 = |new: String| {
        let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        l[3] = new;
        l.join("\n") + "\n"
    };
    let cases = [
        // A value that is not one: the row, the field, what is valid.
        (
            with_line_4(lines[3].replace(",export_control,", ",embargo,")),
            ":4: row[cn-re-japan-halt-2010].kind: \"embargo\" is not a kind",
        ),
        (
            with_line_4(lines[3].replace(",2010-11,", ",2010-13,")),
            ":4: row[cn-re-japan-halt-2010].end: \"2010-13\" is not a month",
        ),
        // A row cut short: the line and the count of fields.
        (
            with_line_4("cn-re-japan-halt-2010,rare_earths,CN".to_string()),
            ":4: 3 fields, but the header has 14",
        ),
    ];
    for (i, (text, expect)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad-{i}.csv"));
        fs::write(&path, text).unwrap();
        let o = crmsim()
            .args(["catalogue", "--data"])
            .arg(&path)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{expect}: {err}");
        assert!(
            err.contains(&format!("{}{expect}", path.display())),
            "expected {}{expect}, got: {err}",
            path.display()
        );
        assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    }
    // A catalogue that is not there: exit 2, naming it.
    let missing = dir.path().join("none.csv");
    let o = crmsim()
        .args(["catalogue", "--data"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&missing.display().to_string()),
        "{}",
        stderr(&o)
    );
}

/// South Africa's platinum outages, fitted for platinum: the four sourced
/// shares of world supply (data/disruptions.csv: 0.15, 0.115, 0.4, 0.028)
/// are divided by South Africa's share of world mine production before
/// each event (data/materials.csv, beside the catalogue, has 2023 and 2024:
/// the 2012 and 2014 events take the earliest, the 2024 one the year
/// before; 69.8 % in 2023 for all four): 0.15 / 0.698 = 0.2149, 0.115 /
/// 0.698 = 0.164756, 0.4 / 0.698 = 0.573066, 0.028 / 0.698 = 0.0401146.
/// New Caledonia's 2024 nickel unrest, 0.032 of world supply, at its 6.16 %
/// of 2023: 0.519481, the 52 % fall of its 2024 output that USGS MCS 2025
/// gives (p. 125). Another table of shares is taken with --shares, and one
/// that cannot be read is an error (exit 2, the file named).
#[test]
fn world_supply_severities_are_divided_by_the_regions_share() {
    let toml = |material: &str, region: &str| {
        let out = crmsim()
            .args([
                "catalogue",
                "--material",
                material,
                "--region",
                region,
                "--toml",
            ])
            .assert()
            .success()
            .get_output()
            .clone();
        stdout(&out)
    };
    let text = toml("platinum", "ZA");
    for (row, world, flows) in [
        ("za-implats-rustenburg-strike-2012", "0.15", "0.2149"),
        ("za-lonmin-marikana-strike-2012", "0.115", "0.164756"),
        ("za-platinum-strike-2014", "0.4", "0.573066"),
        ("za-pgm-output-decline-2024", "0.028", "0.0401146"),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("#   {row}:")))
            .unwrap_or_else(|| panic!("{row} in\n{text}"));
        let want = format!(
            "severity {world} of world supply, {flows} of ZA's flows \
             (69.8 % of world mine production in 2023, line "
        );
        assert!(line.contains(&want), "{line}");
    }
    // The table says which severities were divided.
    let out = crmsim()
        .args(["catalogue", "--material", "platinum", "--region", "ZA"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        stdout(&out)
            .contains("severities of ZA: shares of world supply divided by the region's share"),
        "{}",
        stdout(&out)
    );
    let text = toml("nickel", "NC");
    let want = "severity 0.032 of world supply, 0.519481 of NC's flows \
                (6.16 % of world mine production in 2023, line ";
    assert!(text.contains(want), "{text}");

    // A table in which South Africa has half of world platinum.
    let dir = tempfile::tempdir().unwrap();
    let shares = dir.path().join("shares.csv");
    fs::write(
        &shares,
        "material,field,value,unit,year\nplatinum,mine_production_share:ZA,50,%,2024\n",
    )
    .unwrap();
    let out = crmsim()
        .args([
            "catalogue",
            "--material",
            "platinum",
            "--region",
            "ZA",
            "--toml",
            "--shares",
        ])
        .arg(&shares)
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(
        text.contains("severity 0.4 of world supply, 0.8 of ZA's flows"),
        "{text}"
    );
    assert!(
        text.contains(&format!("--shares {}", shares.display())),
        "{text}"
    );

    let out = crmsim()
        .args(["catalogue", "--material", "platinum", "--shares"])
        .arg(dir.path().join("none.csv"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(
        stderr(&out).contains("none.csv: cannot read the table of shares of world production"),
        "{}",
        stderr(&out)
    );
}
