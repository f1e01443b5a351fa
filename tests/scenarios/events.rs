//! Every random event of a shipped scenario takes its parameters from the
//! catalogue of past disruptions, or says why not: the comment above each
//! `[[disruption]]` either names the `crmsim catalogue` command, the rows
//! and the parameters taken, or starts `# ASSUMPTION: the catalogue has no
//! row`. Each named fit is made again here, through the library call the
//! command uses, and the scenario's values must be the ones it prints.

use crate::util::{library, root};
use crmsim::analysis::catalogue::{catalogue, Filter};
use crmsim::output::catalogue::render_toml;
use std::collections::BTreeMap;

const PARAMETERS: [&str; 3] = ["rate_per_year", "duration_months", "severity"];

/// What the comment above one `[[disruption]]` says of its parameters.
#[derive(Debug, Default)]
struct Marker {
    /// `(region, kind, filter)` of `# From the catalogue (REGION KIND): crmsim catalogue ...`.
    fit: Option<(String, String, Filter)>,
    /// The row ids of `#   rows: ...`.
    rows: Vec<String>,
    /// The parameters of `#   taken: ...`.
    taken: Vec<String>,
    /// Whether a line starts `# ASSUMPTION: the catalogue has no row`.
    no_row: bool,
}

fn filter(options: &str, context: &str) -> Filter {
    let mut f = Filter::default();
    let words: Vec<&str> = options.split_whitespace().collect();
    for pair in words.chunks(2) {
        let [flag, value] = pair else {
            panic!("{context}: {options:?}: a flag without a value");
        };
        match *flag {
            "--material" => f.material = Some((*value).to_string()),
            "--region" => f.region = Some((*value).to_string()),
            "--until" => f.until = Some(value.parse().unwrap()),
            other => panic!("{context}: {other}: not a flag the check knows"),
        }
    }
    f
}

/// The marker of each `[[disruption]]` of `text`, in order: the comment
/// lines directly above its header.
fn markers(text: &str, file: &str) -> Vec<Marker> {
    let mut out = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            block.push(line);
            continue;
        }
        if line.trim() == "[[disruption]]" {
            let context = format!("{file}:{}", i + 1);
            let mut m = Marker::default();
            for c in &block {
                if let Some(rest) = c.strip_prefix("# From the catalogue (") {
                    let (pair, command) =
                        rest.split_once("): crmsim catalogue").unwrap_or_else(|| {
                            panic!("{context}: {c:?}: write `(REGION KIND): crmsim catalogue ...`")
                        });
                    let (region, kind) = pair.split_once(' ').unwrap();
                    m.fit = Some((region.into(), kind.into(), filter(command, &context)));
                } else if let Some(rows) = c.strip_prefix("#   rows: ") {
                    m.rows = rows.split(", ").map(String::from).collect();
                } else if let Some(taken) = c.strip_prefix("#   taken: ") {
                    m.taken = taken.split(", ").map(String::from).collect();
                } else if c.starts_with("# ASSUMPTION: the catalogue has no row") {
                    m.no_row = true;
                }
            }
            out.push(m);
        }
        block.clear();
    }
    out
}

#[test]
fn scenario_events_are_the_catalogue_fits_they_name() {
    let data = root().join("data/disruptions.csv");
    let mut fits = BTreeMap::new();
    let mut checked = 0;
    for path in library() {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: toml::Table = text.parse().unwrap();
        let events = doc
            .get("disruption")
            .and_then(|d| d.as_array())
            .cloned()
            .unwrap_or_default();
        let marks = markers(&text, &file);
        assert_eq!(marks.len(), events.len(), "{file}: [[disruption]] headers");
        for (event, mark) in events.iter().zip(&marks) {
            let event = event.as_table().unwrap();
            let name = format!("{file}: {}", event["name"]);
            if !event.contains_key("rate_per_year") {
                // A scheduled event (start = ...) replays a date, not a rate.
                continue;
            }
            let Some((region, kind, filter)) = &mark.fit else {
                assert!(
                    mark.no_row,
                    "{name}: neither a catalogue command nor `# ASSUMPTION: the catalogue has no row ...`"
                );
                continue;
            };
            assert!(!mark.no_row, "{name}: both a fit and no row");
            assert!(
                !mark.taken.is_empty()
                    && mark.taken.iter().all(|t| PARAMETERS.contains(&t.as_str())),
                "{name}: `#   taken:` must list some of {PARAMETERS:?}, got {:?}",
                mark.taken
            );
            let key = format!("{filter:?}");
            let fit = fits
                .entry(key)
                .or_insert_with(|| catalogue(&data, filter).unwrap());
            let pair = fit
                .pairs
                .iter()
                .find(|p| p.region == *region && p.kind.name() == kind)
                .unwrap_or_else(|| panic!("{name}: the fit has no pair {region} {kind}"));
            let ids: Vec<&str> = pair
                .events
                .iter()
                .flat_map(|e| e.ids.iter().map(String::as_str))
                .collect();
            assert_eq!(ids, mark.rows, "{name}: the rows behind the fit");
            // The values as the command prints them, to the digit.
            let printed: toml::Table = render_toml(fit).parse().unwrap();
            let prefix = format!("{region} {kind} ");
            let table = printed["disruption"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_table().unwrap())
                .find(|d| d["name"].as_str().unwrap().starts_with(&prefix))
                .unwrap();
            for p in &mark.taken {
                assert_eq!(
                    event.get(p),
                    table.get(p),
                    "{name}: {p} is not what `crmsim catalogue` prints"
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 50,
        "{checked} events checked against the catalogue"
    );
}

/// The marker's parser on a small file.
#[test]
fn the_marker_is_read_from_the_comment_above_the_table() {
    let text = "# From the catalogue (CN export_control): crmsim catalogue --material gallium --region CN\n\
                #   rows: a, b\n\
                #   taken: rate_per_year, severity\n\
                [[disruption]]\n\
                name = \"x\"\n\
                \n\
                # ASSUMPTION: the catalogue has no row for TJ\n\
                [[disruption]]\n";
    let m = markers(text, "t.toml");
    assert_eq!(m.len(), 2);
    let (region, kind, f) = m[0].fit.clone().unwrap();
    assert_eq!((region.as_str(), kind.as_str()), ("CN", "export_control"));
    assert_eq!(f.material.as_deref(), Some("gallium"));
    assert_eq!(f.region.as_deref(), Some("CN"));
    assert_eq!(m[0].rows, ["a", "b"]);
    assert_eq!(m[0].taken, ["rate_per_year", "severity"]);
    assert!(m[1].no_row && m[1].fit.is_none());
}
