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

/// The path of the innermost key whose value holds byte `offset` of `text`
/// (`material[0].demand_tpy`; array elements by index), when the text
/// parses as TOML.
pub(crate) fn field_at(text: &str, offset: usize) -> Option<String> {
    /// Whether `offset` is in `value` (a leaf's span, or one of a table's
    /// or an array's elements: the spans of tables made by headers do not
    /// cover their keys); `path` is extended to the innermost key found.
    fn walk(value: &Spanned<DeValue>, offset: usize, path: &mut String) -> bool {
        let inside = |span: std::ops::Range<usize>| span.contains(&offset);
        match value.get_ref() {
            DeValue::Table(t) => t.iter().any(|(key, v)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key.get_ref());
                if walk(v, offset, path) || inside(key.span()) {
                    return true;
                }
                path.truncate(len);
                false
            }),
            DeValue::Array(a) => {
                let found = a.iter().enumerate().any(|(i, v)| {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    if walk(v, offset, path) {
                        return true;
                    }
                    path.truncate(len);
                    false
                });
                found || inside(value.span())
            }
            _ => inside(value.span()),
        }
    }
    let root = DeTable::parse(text).ok()?;
    let mut path = String::new();
    let root = Spanned::new(0..text.len(), DeValue::Table(root.into_inner()));
    walk(&root, offset, &mut path).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_value_is_found_under_its_key_and_table() {
        let text = "[simulation]\nname = \"t\"\n[[material]]\nid = \"a\"\n\
                    [[material]]\nid = \"b\"\ndemand_tpy = \"forty\"\n";
        let at = text.find("\"forty\"").unwrap();
        assert_eq!(
            field_at(text, at).as_deref(),
            Some("material[1].demand_tpy")
        );
        let at = text.find("\"t\"").unwrap();
        assert_eq!(field_at(text, at).as_deref(), Some("simulation.name"));
        assert_eq!(field_at("a = [", 0), None);
    }
}
