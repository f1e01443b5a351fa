//! Tests of reading and fitting the catalogue.

use super::fit::rate;
use super::*;

const HEADER: &str = "id,materials,region,kind,start,end,as_of,severity,severity_basis,\
                          physical,same_event_as,description,source,note";

/// Seven rows: three AA outages, two BB export controls (one ongoing,
/// with a second row of the same event), and a BB tariff that removes
/// no supply.
const ROWS: [&str; 7] = [
    "aa-out-1,nickel,AA,outage,2006-03,2006-05,,0.2,world_supply,yes,,,src a,",
    "aa-out-2,nickel;cobalt,AA,outage,2010-01,2010-12,,0.4,world_supply,yes,,,src b,",
    "aa-out-3,nickel,AA,outage,2014-07,2014-07,,0.3,world_supply,yes,,,src c,",
    "bb-ec-1,gallium,BB,export_control,2008-01,2009-12,,,,yes,,,src d,",
    "bb-ec-2,gallium;germanium,BB,export_control,2012-06,ongoing,2014-11,0.5,exports,yes,,,src e,",
    "bb-ec-2b,germanium;indium,BB,export_control,2012-09,2013-03,,,,yes,bb-ec-2,,src f,",
    "bb-tariff,gallium,BB,sanction,2013-01,2013-06,,,,no,,,src g,",
];

fn text(rows: &[&str]) -> String {
    let mut t = format!("{HEADER}\n");
    for r in rows {
        t.push_str(r);
        t.push('\n');
    }
    t
}

fn small() -> Catalogue {
    Catalogue::from_csv(&text(&ROWS), Path::new("t.csv")).unwrap()
}

fn fit(filter: Filter) -> Fit {
    small().fit(&filter).unwrap()
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} != {b}");
}

fn list(ids: &[&str]) -> Materials {
    Materials::List(ids.iter().map(|s| s.to_string()).collect())
}

#[test]
fn months_parse_and_count() {
    let m: Month = "2012-06".parse().unwrap();
    assert_eq!((m.year(), m.month()), (2012, 6));
    assert_eq!(m.to_string(), "2012-06");
    // June to December, both counted: 7 months.
    assert_eq!(m.months_through("2012-12".parse().unwrap()), 7);
    assert_eq!(m.months_through(m), 1);
    assert_eq!(m.months_through("2012-05".parse().unwrap()), 0);
    for bad in [
        "2012-13", "2012-00", "2012-6", "12-06", "2012/06", "", "2012-06 ",
    ] {
        assert!(bad.parse::<Month>().is_err(), "{bad:?}");
    }
}

#[test]
fn hand_counted_fit() {
    let f = fit(Filter::default());
    // The newest month in the file is bb-ec-2's as_of, 2014-11.
    // Exposure 2005-01 to 2014-11: 9 x 12 + 11 = 119 months = 119/12 years.
    assert_eq!(f.until, "2014-11".parse().unwrap());
    close(f.years, 119.0 / 12.0);
    assert_eq!(
        f.excluded,
        vec![("bb-tariff".to_string(), Exclusion::NotPhysical)]
    );
    assert_eq!(f.pairs.len(), 2);

    let aa = &f.pairs[0];
    assert_eq!((aa.region.as_str(), aa.kind), ("AA", Kind::Outage));
    assert_eq!(aa.materials, list(&["cobalt", "nickel"]));
    // 3 events in 119/12 years: Jeffreys shape 3 + 1/2, scale 12/119;
    // mean 3.5 x 12 / 119 = 42/119 = 0.3529 per year.
    assert_eq!(aa.rate.events, 3);
    close(aa.rate.shape, 3.5);
    close(aa.rate.scale, 12.0 / 119.0);
    close(aa.rate.mean(), 42.0 / 119.0);
    // Durations 2006-03..05 = 3, 2010-01..12 = 12, 2014-07..07 = 1 month.
    // Mean 16/3; squared deviations (7/3)^2 + (20/3)^2 + (13/3)^2 = 618/9,
    // over n - 1 = 2: 103/3; sd sqrt(103/3) = 5.8595.
    let months: Vec<u32> = aa.events.iter().map(|e| e.months).collect();
    assert_eq!(months, [3, 12, 1]);
    match aa.duration {
        DurationFit::Lognormal {
            n,
            censored,
            mean,
            sd,
        } => {
            assert_eq!((n, censored), (3, 0));
            close(mean, 16.0 / 3.0);
            close(sd, (103.0_f64 / 3.0).sqrt());
        }
        other => panic!("{other:?}"),
    }
    // Severities 0.2, 0.4, 0.3: mean 0.3, variance (0.01 + 0.01 + 0) / 2
    // = 0.01; k = 0.3 x 0.7 / 0.01 - 1 = 20; alpha = 0.3 k = 6,
    // beta = 0.7 k = 14.
    match aa.severity {
        SeverityFit::Beta {
            n,
            mean,
            alpha,
            beta,
            ..
        } => {
            assert_eq!(n, 3);
            close(mean, 0.3);
            close(alpha, 6.0);
            close(beta, 14.0);
        }
        other => panic!("{other:?}"),
    }

    let bb = &f.pairs[1];
    assert_eq!((bb.region.as_str(), bb.kind), ("BB", Kind::ExportControl));
    assert_eq!(bb.materials, list(&["gallium", "germanium", "indium"]));
    // bb-ec-2b is the same event as bb-ec-2: 2 events, not 3.
    // Shape 2 + 1/2, scale 12/119.
    assert_eq!(bb.rate.events, 2);
    close(bb.rate.shape, 2.5);
    close(bb.rate.scale, 12.0 / 119.0);
    assert_eq!(bb.events[1].ids, ["bb-ec-2", "bb-ec-2b"]);
    // bb-ec-1: 2008-01..2009-12 = 24 months. bb-ec-2: ongoing, censored
    // at its as_of 2014-11: June-December 2012 (7) + 12 + 11 = 30 months.
    // Mean 27, sd sqrt((3^2 + 3^2) / 1) = sqrt(18).
    assert_eq!(bb.events[0].months, 24);
    assert_eq!(bb.events[1].months, 30);
    assert_eq!(bb.events[1].censored_at, Some("2014-11".parse().unwrap()));
    match bb.duration {
        DurationFit::Lognormal {
            n,
            censored,
            mean,
            sd,
        } => {
            assert_eq!((n, censored), (2, 1));
            close(mean, 27.0);
            close(sd, 18.0_f64.sqrt());
        }
        other => panic!("{other:?}"),
    }
    // One sourced severity: too few for a spread.
    assert_eq!(
        bb.severity,
        SeverityFit::Range {
            n: 1,
            min: 0.5,
            max: 0.5
        }
    );
}

#[test]
fn until_ends_exposure_and_censors() {
    let f = fit(Filter {
        until: Some("2012-12".parse().unwrap()),
        ..Filter::default()
    });
    // 2005-01 to 2012-12: 96 months = 8 years.
    close(f.years, 8.0);
    assert_eq!(
        f.excluded,
        vec![
            ("aa-out-3".to_string(), Exclusion::AfterUntil),
            ("bb-tariff".to_string(), Exclusion::NotPhysical),
        ]
    );
    let aa = &f.pairs[0];
    // 2 events in 8 years: shape 2.5, scale 1/8.
    close(aa.rate.shape, 2.5);
    close(aa.rate.scale, 0.125);
    // Durations 3 and 12: mean 7.5, sd sqrt(4.5^2 + 4.5^2) = sqrt(40.5).
    match aa.duration {
        DurationFit::Lognormal { mean, sd, .. } => {
            close(mean, 7.5);
            close(sd, 40.5_f64.sqrt());
        }
        other => panic!("{other:?}"),
    }
    // Two severities: the uniform over their range.
    assert_eq!(
        aa.severity,
        SeverityFit::Range {
            n: 2,
            min: 0.2,
            max: 0.4
        }
    );
    let bb = &f.pairs[1];
    // bb-ec-2 is ongoing at 2014-11 but exposure ends 2012-12: censored
    // there, June-December 2012 = 7 months. Durations 24 and 7: mean
    // 15.5, sd sqrt(8.5^2 + 8.5^2) = sqrt(144.5).
    assert_eq!(bb.events[1].months, 7);
    assert_eq!(bb.events[1].censored_at, Some("2012-12".parse().unwrap()));
    match bb.duration {
        DurationFit::Lognormal { mean, sd, .. } => {
            close(mean, 15.5);
            close(sd, 144.5_f64.sqrt());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_ended_event_is_censored_at_until() {
    let f = fit(Filter {
        until: Some("2009-06".parse().unwrap()),
        ..Filter::default()
    });
    // 2005-01 to 2009-06: 54 months = 4.5 years.
    close(f.years, 4.5);
    let bb = &f.pairs[1];
    // bb-ec-1 ended 2009-12, after the end of exposure: 2008-01 to
    // 2009-06 = 18 months, censored.
    assert_eq!(bb.events.len(), 1);
    assert_eq!(bb.events[0].months, 18);
    assert_eq!(bb.events[0].censored_at, Some("2009-06".parse().unwrap()));
    assert_eq!(
        bb.duration,
        DurationFit::Single {
            months: 18,
            censored: true
        }
    );
    // 1 event in 4.5 years: shape 1.5, scale 1/4.5.
    close(bb.rate.shape, 1.5);
    close(bb.rate.scale, 1.0 / 4.5);
}

#[test]
fn filters() {
    // nickel: the AA outages only, and the table names nickel alone.
    let f = fit(Filter {
        material: Some("nickel".into()),
        ..Filter::default()
    });
    assert_eq!(f.pairs.len(), 1);
    assert_eq!(f.pairs[0].region, "AA");
    assert_eq!(f.pairs[0].materials, list(&["nickel"]));
    assert_eq!(f.pairs[0].rate.events, 3);
    assert!(f.excluded.is_empty());
    // cobalt: one AA outage.
    let f = fit(Filter {
        material: Some("cobalt".into()),
        ..Filter::default()
    });
    assert_eq!(f.pairs[0].rate.events, 1);
    // germanium: both rows of the merged event match: still one event.
    let f = fit(Filter {
        material: Some("germanium".into()),
        ..Filter::default()
    });
    assert_eq!(f.pairs.len(), 1);
    assert_eq!(f.pairs[0].events.len(), 1);
    assert_eq!(f.pairs[0].events[0].ids, ["bb-ec-2", "bb-ec-2b"]);
    // indium: only bb-ec-2b matches, so it stands alone with its own
    // dates (2012-09 to 2013-03: 7 months) and no severity.
    let f = fit(Filter {
        material: Some("indium".into()),
        ..Filter::default()
    });
    let bb = &f.pairs[0];
    assert_eq!(bb.events[0].ids, ["bb-ec-2b"]);
    assert_eq!(
        bb.duration,
        DurationFit::Single {
            months: 7,
            censored: false
        }
    );
    assert_eq!(bb.severity, SeverityFit::Missing);
    // region, case ignored.
    let f = fit(Filter {
        region: Some("bb".into()),
        ..Filter::default()
    });
    assert_eq!(f.pairs.len(), 1);
    assert_eq!(f.pairs[0].kind, Kind::ExportControl);
    assert_eq!(f.excluded.len(), 1);
    // Both filters: gallium from BB. bb-ec-2b (germanium, indium) does
    // not match, so bb-ec-2 stands alone; the tariff is left out.
    let f = fit(Filter {
        material: Some("gallium".into()),
        region: Some("BB".into()),
        ..Filter::default()
    });
    assert_eq!(f.pairs.len(), 1);
    assert_eq!(f.pairs[0].events.len(), 2);
    assert_eq!(f.pairs[0].events[1].ids, ["bb-ec-2"]);
    assert_eq!(f.excluded.len(), 1);
    // A material and a region that match rows, but never together.
    assert!(small()
        .fit(&Filter {
            material: Some("gallium".into()),
            region: Some("AA".into()),
            ..Filter::default()
        })
        .is_err());
}

#[test]
fn a_filter_that_matches_nothing_is_an_error() {
    let e = small()
        .fit(&Filter {
            material: Some("tin".into()),
            ..Filter::default()
        })
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.csv: no row matches --material tin; materials in the catalogue: cobalt, \
             gallium, germanium, indium, nickel; regions and routes: AA, BB"
    );
    // A row of every material (`all`) does not make a typo match.
    let mut rows = ROWS.to_vec();
    rows.push("sea-1,all,RedSea,logistics,2011-02,2011-03,,,,yes,,,src h,");
    let e = Catalogue::from_csv(&text(&rows), Path::new("t.csv"))
        .unwrap()
        .fit(&Filter {
            material: Some("nikel".into()),
            ..Filter::default()
        })
        .unwrap_err();
    assert!(e.to_string().starts_with(
        "t.csv: no row matches --material nikel; materials in the catalogue: cobalt,"
    ));
    let e = small()
        .fit(&Filter {
            until: Some("2004-12".parse().unwrap()),
            ..Filter::default()
        })
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "--until 2004-12: must not be before 2005-01, when exposure starts"
    );
}

#[test]
fn rate_quantiles_match_chi_square_tables() {
    // Gamma(k + 1/2, 1/T) = chi-square(2k + 1) / (2T). With k = 1, T = 1:
    // chi-square(3) quantiles 0.351846 (5 %) and 7.814728 (95 %).
    let r = rate(1, 1.0);
    assert!((r.quantile(0.05) - 0.351846 / 2.0).abs() < 1e-5);
    assert!((r.quantile(0.95) - 7.814728 / 2.0).abs() < 1e-5);
    close(r.mean(), 1.5);
    close(r.sd(), 1.5_f64.sqrt());
}

fn error(rows: &[&str]) -> String {
    Catalogue::from_csv(&text(rows), Path::new("t.csv"))
        .unwrap_err()
        .to_string()
}

fn with(row: usize, column: &str, value: &str) -> String {
    let i = COLUMNS.iter().position(|c| *c == column).unwrap();
    let mut fields: Vec<String> = ROWS[row].split(',').map(str::to_string).collect();
    fields[i] = value.to_string();
    let changed = fields.join(",");
    let mut rows: Vec<&str> = ROWS.to_vec();
    rows[row] = &changed;
    error(&rows)
}

#[test]
fn input_errors_name_the_file_line_and_field() {
    let no_as_of = text(&ROWS).replace(",as_of", "");
    let e = Catalogue::from_csv(&no_as_of, Path::new("t.csv")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.csv:1: missing column \"as_of\"; the header must name: id,materials,region,\
             kind,start,end,as_of,severity,severity_basis,physical,same_event_as,description,\
             source,note"
    );
    assert_eq!(
        with(2, "kind", "strike"),
        "t.csv:4: row[aa-out-3].kind: \"strike\" is not a kind: use export_control, \
             outage, sanction, logistics"
    );
    assert_eq!(
        with(0, "start", "2006-13"),
        "t.csv:2: row[aa-out-1].start: \"2006-13\" is not a month: write YYYY-MM, e.g. 2025-11"
    );
    assert_eq!(
        with(0, "end", "soon"),
        "t.csv:2: row[aa-out-1].end: \"soon\" is not a month: write YYYY-MM, e.g. 2025-11, \
             or ongoing"
    );
    assert_eq!(
        with(1, "severity", "1.5"),
        "t.csv:3: row[aa-out-2].severity: \"1.5\": must be a share in [0, 1], or empty"
    );
    assert_eq!(
        with(1, "severity", "-0.1"),
        "t.csv:3: row[aa-out-2].severity: \"-0.1\": must be a share in [0, 1], or empty"
    );
    assert_eq!(
        with(3, "source", ""),
        "t.csv:5: row[bb-ec-1].source: is empty: every row must cite its source"
    );
    assert_eq!(
        with(3, "source", "  "),
        "t.csv:5: row[bb-ec-1].source: is empty: every row must cite its source"
    );
    assert_eq!(
        with(4, "as_of", ""),
        "t.csv:6: row[bb-ec-2].as_of: is empty: an ongoing row needs the month of its \
             latest source (YYYY-MM)"
    );
    assert_eq!(
        with(3, "as_of", "2010-01"),
        "t.csv:5: row[bb-ec-1].as_of: \"2010-01\": only an ongoing row has as_of; leave it empty"
    );
    assert_eq!(
        with(3, "end", "2007-12"),
        "t.csv:5: row[bb-ec-1].end: 2007-12 is before start 2008-01"
    );
    assert_eq!(
        with(0, "severity_basis", "imports"),
        "t.csv:2: row[aa-out-1].severity_basis: \"imports\": use world_supply or exports"
    );
    assert_eq!(
        with(3, "severity_basis", "exports"),
        "t.csv:5: row[bb-ec-1].severity_basis: \"exports\" without a severity: leave both \
             empty, or give both"
    );
    assert_eq!(
        with(0, "physical", "maybe"),
        "t.csv:2: row[aa-out-1].physical: \"maybe\": use yes, no or some_markets"
    );
    assert_eq!(
        with(0, "materials", "Nickel"),
        "t.csv:2: row[aa-out-1].materials: \"Nickel\" is not a material id (lowercase \
             letters, digits, '_' and '-', starting with a letter); separate ids with ';'"
    );
    assert_eq!(
        with(0, "region", ""),
        "t.csv:2: row[aa-out-1].region: is empty: give the country code or route hit"
    );
    assert_eq!(
        with(0, "id", ""),
        "t.csv:2: id: is empty: every row needs a unique id"
    );
    assert_eq!(
        with(1, "id", "aa-out-1"),
        "t.csv:3: id: \"aa-out-1\" is already the id of line 2"
    );
    assert_eq!(
        with(5, "same_event_as", "bb-ec-9"),
        "t.csv:7: row[bb-ec-2b].same_event_as: \"bb-ec-9\" is not the id of a row"
    );
    assert_eq!(
        with(5, "same_event_as", "aa-out-1"),
        "t.csv:7: row[bb-ec-2b].same_event_as: \"aa-out-1\" is a AA outage row, this one \
             BB export_control: one event has one region and kind"
    );
    assert_eq!(
        with(5, "same_event_as", "bb-ec-2b"),
        "t.csv:7: row[bb-ec-2b].same_event_as: names the row itself"
    );
    let mut rows = ROWS.to_vec();
    rows.push("bb-ec-2c,indium,BB,export_control,2012-10,2012-11,,,,yes,bb-ec-2b,,src h,");
    assert_eq!(
        error(&rows),
        "t.csv:9: row[bb-ec-2c].same_event_as: \"bb-ec-2b\" itself names another row: \
             point to the first row of the event"
    );
    let mut rows = ROWS.to_vec();
    rows[0] = "aa-out-1,nickel,AA,outage,2006-03";
    assert_eq!(error(&rows), "t.csv:2: 5 fields, but the header has 14");
}

#[test]
fn lines_count_quoted_line_breaks() {
    // A description over three lines: the next row starts on line 5.
    let rows = [
        "aa-out-1,nickel,AA,outage,2006-03,2006-05,,,,yes,,\"one\ntwo\nthree\",src a,",
        "aa-out-2,nickel,AA,blackout,2010-01,2010-12,,,,yes,,,src b,",
    ];
    assert!(error(&rows).starts_with("t.csv:5: row[aa-out-2].kind:"));
}

/// Every row of the sourced data used to fit events or to check them
/// cites a source: the catalogue (which `Catalogue::load` checks with
/// every other rule) and every history/*/observed.csv.
#[test]
fn every_data_row_has_a_source() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cat = Catalogue::load(&root.join("data/disruptions.csv")).unwrap();
    assert!(cat.rows().len() >= 49);
    assert!(cat.rows().iter().all(|r| !r.source.trim().is_empty()));

    let mut files = 0;
    for dir in std::fs::read_dir(root.join("history")).unwrap() {
        let path = dir.unwrap().path().join("observed.csv");
        if !path.exists() {
            continue;
        }
        files += 1;
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let header = reader.headers().unwrap().clone();
        assert_eq!(
            header.iter().collect::<Vec<_>>(),
            ["material", "date", "variable", "value", "unit", "source"],
            "{}",
            path.display()
        );
        let mut rows = 0;
        for record in reader.records() {
            let record = record.unwrap();
            let line = record.position().unwrap().line();
            assert!(
                !record[5].trim().is_empty(),
                "{}:{line}: source is empty",
                path.display()
            );
            rows += 1;
        }
        assert!(rows > 0, "{}: no rows", path.display());
    }
    assert!(files >= 5, "history/*/observed.csv: {files} files");
}

/// The catalogue's rules, applied by columns: the three rows that remove
/// no supply are left out, the two rows of WTO case DS431 are one event,
/// and so are the gallium and germanium rows of the 2023 licensing.
#[test]
fn the_catalogue_rules_apply_by_column() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let f = catalogue(&root.join("data/disruptions.csv"), &Filter::default()).unwrap();
    let mut left_out: Vec<&str> = f.excluded.iter().map(|(id, _)| id.as_str()).collect();
    left_out.sort_unstable();
    assert_eq!(
        left_out,
        [
            "br-vanadium-us-tariff-2025",
            "cn-tungsten-us-301-tariff-2025",
            "ru-lme-nickel-squeeze-2022"
        ]
    );
    let cn = f
        .pairs
        .iter()
        .find(|p| p.region == "CN" && p.kind == Kind::ExportControl)
        .unwrap();
    assert!(cn
        .events
        .iter()
        .any(|e| e.ids == ["cn-re-export-quota-cut-2010", "cn-ds431-w-mo-2012"]));
    // The germanium row of the 2023 Ga/Ge licensing is its own row (for its
    // own severity) and the same event as the gallium row.
    assert!(cn
        .events
        .iter()
        .any(|e| e.ids == ["cn-ga-ge-licensing-2023", "cn-ge-licensing-2023"]));
    let rows: usize = cn.events.iter().map(|e| e.ids.len()).sum();
    assert_eq!(rows, cn.events.len() + 2);
}

/// A table of shares: AA mines 0.8 of the world's nickel (the 2020 row
/// and a later 2023 row: the newest counts) and 0.25 of its cobalt; a
/// row that is not a share is passed over.
const SHARES: &str = "material,field,value,unit,year,source,note\r\n\
    nickel,mine_production_share:AA,50,%,2020,src,\r\n\
    nickel,mine_production_share:AA,80,%,2023,src,\r\n\
    nickel,mine_production:AA,120,t/yr,2023,src,\r\n\
    cobalt,mine_production_share:AA,25,%,2023,src,\r\n";

fn shares() -> WorldShares {
    WorldShares::from_csv(SHARES, Path::new("m.csv")).unwrap()
}

#[test]
fn shares_are_fractions_by_year() {
    let s = shares();
    let nickel = s.get("nickel", "aa").unwrap();
    assert_eq!((nickel.share, nickel.year, nickel.line), (0.8, 2023, 3));
    assert_eq!(s.get("cobalt", "AA").unwrap().share, 0.25);
    assert!(s.get("nickel", "BB").is_none() && s.get("gallium", "AA").is_none());
    assert_eq!(s.file(), Some(Path::new("m.csv")));
    // Before an event: the newest year before its own; with none before
    // it, the earliest there is.
    let year = |y| s.before("nickel", "AA", y).map(|w| (w.year, w.share));
    assert_eq!(year(2024), Some((2023, 0.8)));
    assert_eq!(year(2023), Some((2020, 0.5)));
    assert_eq!(year(2021), Some((2020, 0.5)));
    assert_eq!(year(2006), Some((2020, 0.5)));
    assert_eq!(s.before("nickel", "BB", 2024), None);
}

#[test]
fn bad_shares_name_the_line_and_the_field() {
    for (row, field, says) in [
        (
            "nickel,mine_production_share:AA,0,%,2023,s,",
            "value",
            "above 0 and at most 100",
        ),
        (
            "nickel,mine_production_share:AA,101,%,2023,s,",
            "value",
            "above 0 and at most 100",
        ),
        (
            "nickel,mine_production_share:AA,x,%,2023,s,",
            "value",
            "above 0 and at most 100",
        ),
        (
            "nickel,mine_production_share:AA,50,t/yr,2023,s,",
            "unit",
            "in %",
        ),
        (
            "nickel,mine_production_share:AA,50,%,last,s,",
            "year",
            "must be a year",
        ),
    ] {
        // CRLF line ends: the row is on line 3 all the same.
        let text = format!(
            "material,field,value,unit,year,source,note\r\ncobalt,x,1,t,2020,s,\r\n{row}\r\n"
        );
        let e = WorldShares::from_csv(&text, Path::new("m.csv"))
            .unwrap_err()
            .to_string();
        let want = format!("m.csv:3: row[nickel,mine_production_share:AA].{field}: ");
        assert!(e.starts_with(&want) && e.contains(says), "{e}");
    }
    let e = WorldShares::from_csv("material,field,value,year\n", Path::new("m.csv")).unwrap_err();
    assert!(e.to_string().contains("missing column \"unit\""), "{e}");
}

#[test]
fn world_supply_severities_become_shares_of_the_regions_flows() {
    let filter = Filter {
        material: Some("nickel".into()),
        ..Filter::default()
    };
    let f = small().fit_with(&filter, &shares()).unwrap();
    let aa = &f.pairs[0];
    assert_eq!(aa.region, "AA");
    // The events of 2006, 2010 and 2014 come before every year of the
    // table: the earliest, 2020 (0.5), reads them all.
    let used: Vec<Option<(i32, f64)>> = aa
        .events
        .iter()
        .map(|e| e.world_share.as_ref().map(|w| (w.year, w.share)))
        .collect();
    assert_eq!(used, vec![Some((2020, 0.5)); 3]);
    // With a share of 0.8 for 2005 and before (a table of its own), 0.2,
    // 0.4 and 0.3 of world supply are 0.25, 0.5 and 0.375 of AA's flows.
    let eighty = WorldShares::from_csv(
        "material,field,value,unit,year\nnickel,mine_production_share:AA,80,%,2005\n",
        Path::new("e.csv"),
    )
    .unwrap();
    let f = small().fit_with(&filter, &eighty).unwrap();
    let aa = &f.pairs[0];
    // Mean 0.375; sample variance
    // (0.125^2 + 0.125^2 + 0) / 2 = 0.015625; k = 0.375 x 0.625 / 0.015625
    // - 1 = 14; alpha = 0.375 x 14 = 5.25, beta = 0.625 x 14 = 8.75.
    let SeverityFit::Beta {
        n,
        mean,
        alpha,
        beta,
        ..
    } = aa.severity
    else {
        panic!("{:?}", aa.severity);
    };
    assert_eq!(n, 3);
    close(mean, 0.375);
    close(alpha, 5.25);
    close(beta, 8.75);
    let shown: Vec<f64> = aa
        .events
        .iter()
        .filter_map(Event::severity_of_flows)
        .collect();
    assert_eq!(shown.len(), 3);
    for (got, want) in shown.into_iter().zip([0.25, 0.5, 0.375]) {
        close(got, want);
    }
    // Unchanged: without a material, with no share for the material, and
    // for a share of the region's exports.
    for (material, shares) in [(None, shares()), (Some("nickel"), WorldShares::default())] {
        let f = small()
            .fit_with(
                &Filter {
                    material: material.map(str::to_string),
                    region: Some("AA".into()),
                    ..Filter::default()
                },
                &shares,
            )
            .unwrap();
        assert!(f.pairs[0].events.iter().all(|e| e.world_share.is_none()));
        let SeverityFit::Beta { mean, .. } = f.pairs[0].severity else {
            panic!();
        };
        close(mean, 0.3);
    }
    let bb = small()
        .fit_with(
            &Filter {
                material: Some("gallium".into()),
                region: Some("BB".into()),
                ..Filter::default()
            },
            &shares(),
        )
        .unwrap();
    assert!(bb.pairs[0].events.iter().all(|e| e.world_share.is_none()));
    assert_eq!(
        bb.pairs[0].severity,
        SeverityFit::Range {
            n: 1,
            min: 0.5,
            max: 0.5
        }
    );
}

#[test]
fn a_world_share_at_or_above_the_regions_is_capped_at_one() {
    // Cobalt: 0.4 of world supply (2010) at AA's 0.25 (2023, the only
    // year) is more than AA has: 1.
    let f = small()
        .fit_with(
            &Filter {
                material: Some("cobalt".into()),
                ..Filter::default()
            },
            &shares(),
        )
        .unwrap();
    let aa = &f.pairs[0];
    assert_eq!(
        aa.severity,
        SeverityFit::Range {
            n: 1,
            min: 1.0,
            max: 1.0
        }
    );
}
