//! Field paths and their errors ([`At`], [`FieldError`]), and the checks
//! every builder (and the criticality input) uses: numbers within their
//! domain, fractions, counts, names and months.

use super::*;

/// One step of a field path: a key, or an element of an array of tables
/// (with a readable label such as the material id, when there is one).
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// A table key.
    Key(String),
    /// The n-th element of an array, with an optional label for messages.
    Index(usize, Option<String>),
}

/// A validation error: the path of the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// Where the problem is, e.g. `material[gallium].demand_growth.sd`.
    pub path: Vec<Segment>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl FieldError {
    /// The path written as `material[gallium].source[1].share`.
    pub fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Segment::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Segment::Index(i, label) => match label {
                    Some(l) => s.push_str(&format!("[{l}]")),
                    None => s.push_str(&format!("[{i}]")),
                },
            }
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path_string(), self.message)
    }
}

impl std::error::Error for FieldError {}

/// A field path under construction.
#[derive(Clone)]
pub(crate) struct At(pub(crate) Vec<Segment>);

impl At {
    pub(crate) fn root(key: &str) -> At {
        At(vec![Segment::Key(key.to_string())])
    }
    pub(crate) fn key(&self, key: &str) -> At {
        let mut p = self.0.clone();
        p.push(Segment::Key(key.to_string()));
        At(p)
    }
    pub(crate) fn index(&self, i: usize, label: Option<&str>) -> At {
        let mut p = self.0.clone();
        p.push(Segment::Index(i, label.map(str::to_string)));
        At(p)
    }
    pub(crate) fn err<T>(&self, message: impl Into<String>) -> Result<T, FieldError> {
        Err(FieldError {
            path: self.0.clone(),
            message: message.into(),
        })
    }
}

pub(crate) fn uncertain(
    at: &At,
    raw: &RawUncertain,
    domain: Domain,
) -> Result<Uncertain, FieldError> {
    Uncertain::build(raw, domain).map_err(|e| FieldError {
        path: match e.field {
            Some(f) => at.key(f).0,
            None => at.0.clone(),
        },
        message: e.message,
    })
}

pub(crate) fn check(at: &At, ok: bool, x: f64, what: &str) -> Result<f64, FieldError> {
    if ok && x.is_finite() {
        Ok(x)
    } else {
        at.err(format!("must be {what} (got {})", show(x)))
    }
}

/// `x` must lie in `domain` (finite, between its limits).
pub(crate) fn within(at: &At, x: f64, domain: Domain) -> Result<f64, FieldError> {
    match domain.check(x) {
        None => Ok(x),
        Some(message) => at.err(message),
    }
}

pub(crate) fn fraction(at: &At, x: f64) -> Result<f64, FieldError> {
    within(at, x, Domain::FRACTION)
}

/// At most `max` items of `what` under `at`.
pub(crate) fn count(at: &At, n: usize, max: usize, what: &str) -> Result<(), FieldError> {
    if n > max {
        at.err(format!("{n} {what}: at most {max} are supported"))
    } else {
        Ok(())
    }
}

/// A name that is safe as a folder name: letters, digits, '-', '_' and '.',
/// starting with a letter or digit, at most 100 characters.
pub(crate) fn is_safe_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && s.len() <= 100
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// An identifier: lowercase letters, digits, '_' and '-', starting with a letter.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
}

pub(crate) fn list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses "YYYY-MM" (or "YYYY-MM-DD", day ignored) into (year, month).
fn parse_month(s: &str) -> Option<(i64, u32)> {
    let mut parts = s.split('-');
    let y = parts.next()?;
    let m = parts.next()?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    if let Some(d) = parts.next() {
        let day: u32 = d.parse().ok()?;
        if d.len() != 2 || !(1..=31).contains(&day) || parts.next().is_some() {
            return None;
        }
    }
    let year: i64 = y.parse().ok()?;
    let month: u32 = m.parse().ok()?;
    (1..=12).contains(&month).then_some((year, month))
}

/// The month `start` ("YYYY-MM") as months from the start of a horizon of
/// `horizon_months` beginning in January `start_year`; an error at `at`
/// when it is not a month or lies outside the horizon.
pub(crate) fn month_in_horizon(
    at: &At,
    start: &str,
    start_year: i64,
    horizon_months: i64,
) -> Result<i64, FieldError> {
    let Some((y, mo)) = parse_month(start) else {
        return at.err(format!(
            "{start:?} is not a month: write \"YYYY-MM\", e.g. \"2026-07\""
        ));
    };
    let months = (y - start_year) * 12 + i64::from(mo) - 1;
    if !(0..horizon_months).contains(&months) {
        let last_year = start_year + horizon_months / 12 - 1;
        return at.err(format!(
            "{start:?} is outside the horizon {start_year}-01 to {last_year}-12"
        ));
    }
    Ok(months)
}
