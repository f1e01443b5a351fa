//! Reading the catalogue: CSV text into validated [`Row`]s, each problem
//! naming the file, the line and the field, and the `same_event_as` links
//! checked across rows.

use super::*;

impl Catalogue {
    /// Parses and validates catalogue text; `file` is only used in messages.
    ///
    /// # Errors
    /// [`CatalogueError`] naming the file, the line and the field.
    pub fn from_csv(text: &str, file: &Path) -> Result<Catalogue, CatalogueError> {
        let csv_err = |e| csv_error(file, e);
        let text = lf_lines(text);
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header = reader.headers().map_err(csv_err)?.clone();
        let mut col = BTreeMap::new();
        for name in COLUMNS {
            let Some(i) = header.iter().position(|h| h.trim() == name) else {
                return Err(CatalogueError::MissingColumn {
                    file: file.to_path_buf(),
                    column: name,
                });
            };
            col.insert(name, i);
        }
        let mut rows: Vec<Row> = Vec::new();
        let mut lines: BTreeMap<String, u64> = BTreeMap::new();
        for record in reader.records() {
            let record = record.map_err(csv_err)?;
            let line = record.position().map_or(0, |p| p.line());
            let fields = Fields {
                record: &record,
                col: &col,
            };
            let row = parse_row(&fields, line).map_err(|(field, message)| {
                let id = fields.get("id");
                CatalogueError::Invalid {
                    file: file.to_path_buf(),
                    line,
                    field: if id.is_empty() || field == "id" {
                        field.to_string()
                    } else {
                        format!("row[{id}].{field}")
                    },
                    message,
                }
            })?;
            if let Some(first) = lines.insert(row.id.clone(), line) {
                return Err(CatalogueError::Invalid {
                    file: file.to_path_buf(),
                    line,
                    field: "id".into(),
                    message: format!("{:?} is already the id of line {first}", row.id),
                });
            }
            rows.push(row);
        }
        check_links(&rows).map_err(|(row, message)| CatalogueError::Invalid {
            file: file.to_path_buf(),
            line: row.line,
            field: format!("row[{}].same_event_as", row.id),
            message,
        })?;
        Ok(Catalogue {
            file: file.to_path_buf(),
            rows,
        })
    }
}

type FieldResult<T> = Result<T, (&'static str, String)>;

fn month(field: &'static str, s: &str) -> FieldResult<Month> {
    s.parse().map_err(|e: MonthError| (field, e.to_string()))
}

/// One record's fields by column name, trimmed.
struct Fields<'a> {
    record: &'a csv::StringRecord,
    col: &'a BTreeMap<&'static str, usize>,
}

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> &'a str {
        self.record.get(self.col[name]).unwrap_or("").trim()
    }
}

fn parse_row(f: &Fields<'_>, line: u64) -> FieldResult<Row> {
    let get = |name: &str| f.get(name);
    let id = get("id");
    if id.is_empty() {
        return Err(("id", "is empty: every row needs a unique id".into()));
    }
    let materials = match get("materials") {
        "" => {
            return Err((
                "materials",
                "is empty: name the materials hit, or all".into(),
            ))
        }
        "all" => Materials::All,
        list => {
            let mut ids = BTreeSet::new();
            for m in list.split(';').map(str::trim) {
                if !crate::scenario::build::is_identifier(m) {
                    return Err((
                        "materials",
                        format!(
                            "{m:?} is not a material id (lowercase letters, digits, '_' \
                             and '-', starting with a letter); separate ids with ';'"
                        ),
                    ));
                }
                ids.insert(m.to_string());
            }
            Materials::List(ids.into_iter().collect())
        }
    };
    let region = get("region");
    if region.is_empty() {
        return Err((
            "region",
            "is empty: give the country code or route hit".into(),
        ));
    }
    let kind = get("kind");
    let kind = Kind::ALL
        .into_iter()
        .find(|k| k.name() == kind)
        .ok_or_else(|| {
            (
                "kind",
                format!(
                    "{kind:?} is not a kind: use {}",
                    Kind::ALL.map(Kind::name).join(", ")
                ),
            )
        })?;
    let start = month("start", get("start"))?;
    let end = match (get("end"), get("as_of")) {
        ("ongoing", "") => {
            return Err((
                "as_of",
                "is empty: an ongoing row needs the month of its latest source (YYYY-MM)".into(),
            ))
        }
        ("ongoing", as_of) => End::Ongoing {
            as_of: month("as_of", as_of)?,
        },
        (end, "") => {
            End::Ended(month("end", end).map_err(|(f, m)| (f, format!("{m}, or ongoing")))?)
        }
        (_, as_of) => {
            return Err((
                "as_of",
                format!("{as_of:?}: only an ongoing row has as_of; leave it empty"),
            ))
        }
    };
    let last = match end {
        End::Ended(m) => ("end", m),
        End::Ongoing { as_of } => ("as_of", as_of),
    };
    if last.1 < start {
        return Err((last.0, format!("{} is before start {start}", last.1)));
    }
    let severity = match (get("severity"), get("severity_basis")) {
        ("", "") => None,
        ("", basis) => {
            return Err((
                "severity_basis",
                format!("{basis:?} without a severity: leave both empty, or give both"),
            ))
        }
        (value, basis) => {
            let v: f64 = value
                .parse()
                .ok()
                .filter(|v: &f64| (0.0..=1.0).contains(v))
                .ok_or_else(|| {
                    (
                        "severity",
                        format!("{value:?}: must be a share in [0, 1], or empty"),
                    )
                })?;
            let basis = match basis {
                "world_supply" => Basis::WorldSupply,
                "exports" => Basis::Exports,
                other => {
                    return Err((
                        "severity_basis",
                        format!("{other:?}: use world_supply or exports"),
                    ))
                }
            };
            Some(Severity { value: v, basis })
        }
    };
    let physical = match get("physical") {
        "yes" => Physical::Yes,
        "no" => Physical::No,
        "some_markets" => Physical::SomeMarkets,
        other => {
            return Err((
                "physical",
                format!("{other:?}: use yes, no or some_markets"),
            ))
        }
    };
    let same_event_as = Some(get("same_event_as"))
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let source = get("source");
    if source.is_empty() {
        return Err(("source", "is empty: every row must cite its source".into()));
    }
    Ok(Row {
        id: id.to_string(),
        line,
        materials,
        region: region.to_string(),
        kind,
        start,
        end,
        severity,
        physical,
        same_event_as,
        source: source.to_string(),
    })
}

/// Each `same_event_as` names another row of the same region and kind,
/// which itself names none.
fn check_links(rows: &[Row]) -> Result<(), (&Row, String)> {
    for r in rows {
        let Some(p) = &r.same_event_as else { continue };
        let Some(target) = rows.iter().find(|t| &t.id == p) else {
            return Err((r, format!("{p:?} is not the id of a row")));
        };
        if target.id == r.id {
            return Err((r, "names the row itself".into()));
        }
        if (target.region.as_str(), target.kind) != (r.region.as_str(), r.kind) {
            return Err((
                r,
                format!(
                    "{p:?} is a {} {} row, this one {} {}: one event has one region and kind",
                    target.region, target.kind, r.region, r.kind
                ),
            ));
        }
        if target.same_event_as.is_some() {
            return Err((
                r,
                format!("{p:?} itself names another row: point to the first row of the event"),
            ));
        }
    }
    Ok(())
}

/// A CSV reader's error as a [`CatalogueError`] naming `file` and the line:
/// what the catalogue's and the shares' readers report.
pub(super) fn csv_error(file: &Path, e: csv::Error) -> CatalogueError {
    CatalogueError::Csv {
        file: file.to_path_buf(),
        line: e.position().map(|p| p.line()),
        message: match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("{len} fields, but the header has {expected_len}"),
            _ => e.to_string(),
        },
    }
}

/// `text` with CRLF line ends made LF: the csv reader counts a record's
/// line one short after CRLF line ends.
pub(super) fn lf_lines(text: &str) -> String {
    text.replace("\r\n", "\n")
}
