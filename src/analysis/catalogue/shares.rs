//! Each producing region's share of world mine production, read from a
//! materials table (`data/materials.csv`, rows whose field is
//! `mine_production_share:<REGION>`), so that a severity sourced as a share
//! of world supply can be read as a share of the region's own flows: an
//! outage that removes 0.4 of world platinum, at a region producing 0.698
//! of it before the event, removes 0.4 / 0.698 = 0.573 of the region's
//! output.

use super::*;

/// One region's share of world mine production of a material.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldShare {
    /// The share, in (0, 1].
    pub share: f64,
    /// The year it is of.
    pub year: i32,
    /// 1-based line of its row in the table.
    pub line: u64,
}

/// The shares of a materials table, by (material, region), every year it
/// gives. Empty when no table was read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorldShares {
    file: Option<PathBuf>,
    /// Each pair's shares, by year (one a year: the first row of a year).
    shares: BTreeMap<(String, String), Vec<WorldShare>>,
}

/// The field of a share's row, before the region's code.
const FIELD: &str = "mine_production_share:";

impl WorldShares {
    /// Reads the shares of the materials table at `path`.
    ///
    /// # Errors
    /// [`CatalogueError`] naming the file, the line and the field.
    pub fn load(path: &Path) -> Result<WorldShares, CatalogueError> {
        let text =
            crate::scenario::read_input(path).map_err(|source| CatalogueError::ReadShares {
                file: path.to_path_buf(),
                source,
            })?;
        WorldShares::from_csv(&text, path)
    }

    /// The shares of the table `materials.csv` in the folder of the
    /// catalogue at `catalogue`, or none when there is no such file.
    ///
    /// # Errors
    /// As [`WorldShares::load`], when the file is there.
    pub fn beside(catalogue: &Path) -> Result<WorldShares, CatalogueError> {
        let path = catalogue.with_file_name("materials.csv");
        if path.is_file() {
            WorldShares::load(&path)
        } else {
            Ok(WorldShares::default())
        }
    }

    /// Parses a materials table (columns `material`, `field`, `value`,
    /// `unit`, `year`, others ignored); `file` is only used in messages.
    /// Only the share rows are read: a value in percent in (0, 100], a
    /// whole year.
    ///
    /// # Errors
    /// [`CatalogueError`] naming the file, the line and the field.
    pub fn from_csv(text: &str, file: &Path) -> Result<WorldShares, CatalogueError> {
        let csv_err = |e| super::read::csv_error(file, e);
        let text = super::read::lf_lines(text);
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header = reader.headers().map_err(csv_err)?.clone();
        let column = |name: &'static str| {
            header
                .iter()
                .position(|h| h.trim() == name)
                .ok_or_else(|| CatalogueError::Csv {
                    file: file.to_path_buf(),
                    line: Some(1),
                    message: format!(
                        "missing column {name:?}; a materials table names material, field, value, unit and year"
                    ),
                })
        };
        let [material, field, value, unit, year] =
            ["material", "field", "value", "unit", "year"].map(column);
        let (material, field, value, unit, year) = (material?, field?, value?, unit?, year?);
        let mut shares: BTreeMap<(String, String), Vec<WorldShare>> = BTreeMap::new();
        for record in reader.records() {
            let record = record.map_err(csv_err)?;
            let line = record.position().map_or(0, |p| p.line());
            let get = |i: usize| record.get(i).unwrap_or("").trim();
            let Some(region) = get(field).strip_prefix(FIELD) else {
                continue;
            };
            let invalid = |column: &str, message: String| CatalogueError::Invalid {
                file: file.to_path_buf(),
                line,
                field: format!("row[{},{}].{column}", get(material), get(field)),
                message,
            };
            if get(unit) != "%" {
                return Err(invalid(
                    "unit",
                    format!("{:?}: a share of world production is in %", get(unit)),
                ));
            }
            let percent = get(value)
                .parse::<f64>()
                .ok()
                .filter(|p| *p > 0.0 && *p <= 100.0)
                .ok_or_else(|| {
                    invalid(
                        "value",
                        format!(
                            "{:?}: must be a percentage above 0 and at most 100",
                            get(value)
                        ),
                    )
                })?;
            let year = get(year)
                .parse::<i32>()
                .map_err(|_| invalid("year", format!("{:?}: must be a year", get(year))))?;
            let share = WorldShare {
                share: percent / 100.0,
                year,
                line,
            };
            let years = shares
                .entry((get(material).to_string(), region.to_string()))
                .or_default();
            // Of one year, the first row's.
            if let Err(at) = years.binary_search_by_key(&year, |s| s.year) {
                years.insert(at, share);
            }
        }
        Ok(WorldShares {
            file: Some(file.to_path_buf()),
            shares,
        })
    }

    /// The table read, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The newest share of world mine production of `material` that
    /// `region` (an ISO code, ASCII case ignored) has in the table.
    pub fn get(&self, material: &str, region: &str) -> Option<&WorldShare> {
        self.years(material, region)?.last()
    }

    /// The share to read an event of `year` by: the region's share of the
    /// newest year before it (before the event could lower it), or, when
    /// the table has no year before it, of the earliest year it has.
    pub fn before(&self, material: &str, region: &str, year: i32) -> Option<&WorldShare> {
        let years = self.years(material, region)?;
        years
            .iter()
            .rev()
            .find(|s| s.year < year)
            .or_else(|| years.first())
    }

    fn years(&self, material: &str, region: &str) -> Option<&[WorldShare]> {
        self.shares
            .get(&(material.to_string(), region.to_ascii_uppercase()))
            .map(Vec::as_slice)
    }
}
