//! Positions in the scenario text: byte offsets to lines and columns, and a
//! validated field's path back to the line it was written on.

use super::build::Segment;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Where a TOML parse or schema error is, and what it says.
pub(crate) struct SyntaxSite {
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based column.
    pub(crate) column: usize,
    /// The parser's message, without a trailing newline.
    pub(crate) message: String,
    /// The offending line with a caret, prefixed by a newline (or empty).
    pub(crate) snippet: String,
}

/// The site of a `toml` deserialization error in `text`.
pub(crate) fn syntax_site(text: &str, e: &toml::de::Error) -> SyntaxSite {
    let offset = e.span().map_or(0, |s| s.start);
    let (line, column) = line_col(text, offset);
    SyntaxSite {
        line,
        column,
        message: e.message().trim_end().to_string(),
        snippet: snippet(text, line, column),
    }
}

/// The given line of `text` with a caret under the column, on new lines.
pub(crate) fn snippet(text: &str, line: usize, column: usize) -> String {
    match text.lines().nth(line.saturating_sub(1)) {
        Some(l) if l.len() <= 200 => {
            format!("\n    {l}\n    {}^", " ".repeat(column.saturating_sub(1)))
        }
        _ => String::new(),
    }
}

/// The line of the deepest element of `path` present in the text (the field
/// itself, or the table it belongs in when the field was left out).
pub(crate) fn line_of_path(text: &str, path: &[Segment]) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut best = None;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    let mut value: Option<&Spanned<DeValue>> = None;
    for seg in path {
        let next = match seg {
            Segment::Key(k) => table.and_then(|t| {
                t.iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                    .map(|(_, v)| v)
            }),
            Segment::Index(i, _) => match value.map(Spanned::get_ref) {
                Some(DeValue::Array(a)) => a.get(*i),
                _ => None,
            },
        };
        let Some(v) = next else { break };
        best = Some(v.span().start);
        value = Some(v);
        table = match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    best.map(|offset| line_col(text, offset).0)
}
