//! Changing one number of a scenario by its path, as `sweep --set` and
//! `optimize` do: `stockpile.gallium.target_days`,
//! `material.gallium.demand_growth.mean`, `disruption.<name>.rate_per_year`,
//! `refinery.<name>.capacity_tpy`, `material.nickel.source.ID.share`,
//! `inventory.gallium.days.mode`, `option.<name>.volume_tpy`,
//! `simulation.years`.
//!
//! The path is applied to the parsed TOML document, which is then validated
//! as any scenario is, so an edit can never produce a scenario the engine
//! would not accept.

use toml::{Table, Value};

/// One `--set PATH=V1,V2,...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The field path.
    pub path: String,
    /// The values to try.
    pub values: Vec<f64>,
}

/// Why a path could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--set {path}: {message}")]
pub struct EditError {
    /// The path as given.
    pub path: String,
    /// What is wrong and what would be valid.
    pub message: String,
}

/// Keys whose values are whole numbers in the scenario format.
const INTEGER_KEYS: [&str; 8] = [
    "runs",
    "years",
    "seed",
    "start_year",
    "online_year",
    "release_order",
    "recycling_from_year",
    "content_year",
];

/// The tables of an array like `[[stockpile]]`, and the key that selects
/// one of them in a path.
fn selector(array: &str) -> Option<&'static str> {
    match array {
        "material" | "product" => Some("id"),
        "disruption" | "refinery" | "stockpile" | "inventory" | "option" => Some("name"),
        "source" | "feed" => Some("region"),
        _ => None,
    }
}

/// Parses `PATH=V1,V2,...`.
///
/// # Errors
/// A message when there is no `=` or a value is not a number.
pub fn parse_setting(s: &str) -> Result<Setting, String> {
    let (path, values) = s.split_once('=').ok_or_else(|| {
        format!("{s:?}: write PATH=V1,V2,..., e.g. stockpile.gallium.target_days=0,30,60")
    })?;
    let values = values
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{path}: {v:?} is not a number"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Setting {
        path: path.trim().to_string(),
        values,
    })
}

/// The value to write: an integer where the format wants one.
fn toml_number(key: &str, existing: Option<&Value>, x: f64) -> Value {
    let whole = x.fract() == 0.0 && x.abs() < 9.0e15;
    let wants_int = matches!(existing, Some(Value::Integer(_)))
        || (existing.is_none() && INTEGER_KEYS.contains(&key));
    if wants_int && whole {
        Value::Integer(x as i64)
    } else {
        Value::Float(x)
    }
}

/// Sets the number at `path` in a scenario document to `x`. A stockpile
/// path names the stockpile, or, when the material has none, the material:
/// `stockpile.gallium.target_days` then adds `[[stockpile]] material =
/// "gallium"`.
///
/// # Errors
/// [`EditError`] naming the path and what is there instead.
pub fn set(doc: &mut Table, path: &str, x: f64) -> Result<(), EditError> {
    let err = |message: String| EditError {
        path: path.to_string(),
        message,
    };
    let segs: Vec<&str> = path.split('.').collect();
    if segs.len() < 2 || segs.iter().any(|s| s.is_empty()) {
        return Err(err(
            "write a path such as stockpile.gallium.target_days".into()
        ));
    }
    let mut table: &mut Table = doc;
    let mut i = 0;
    while i < segs.len() - 1 {
        let seg = segs[i];
        if let Some(key) = selector(seg) {
            let sel = *segs
                .get(i + 1)
                .filter(|_| i + 2 < segs.len())
                .ok_or_else(|| err(format!("after {seg:?} give which one and a field")))?;
            if seg == "stockpile" && !table.contains_key("stockpile") {
                table.insert("stockpile".into(), Value::Array(Vec::new()));
            }
            let Some(Value::Array(items)) = table.get_mut(seg) else {
                return Err(err(format!("the scenario has no [[{seg}]]")));
            };
            // What a table goes by: its name, or (stockpiles, inventories
            // and options without a name) its material.
            let label = |t: &Table| match t.get(key).and_then(Value::as_str) {
                Some(name) => Some(name.to_string()),
                None if matches!(seg, "stockpile" | "inventory" | "option") => t
                    .get("material")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                None => None,
            };
            let pos = items
                .iter()
                .position(|v| v.as_table().and_then(label).as_deref() == Some(sel));
            let pos = match pos {
                Some(p) => p,
                None if seg == "stockpile" => {
                    let mut t = Table::new();
                    t.insert("material".into(), Value::String(sel.to_string()));
                    items.push(Value::Table(t));
                    items.len() - 1
                }
                None => {
                    let known: Vec<String> =
                        items.iter().filter_map(|v| label(v.as_table()?)).collect();
                    let by = if matches!(seg, "inventory" | "option") {
                        format!("{key} or material")
                    } else {
                        key.to_string()
                    };
                    return Err(err(format!(
                        "no {seg} with {by} {sel:?}; there are: {}",
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
            };
            table = items[pos]
                .as_table_mut()
                .ok_or_else(|| err(format!("{seg} {sel:?} is not a table")))?;
            i += 2;
        } else {
            let next = table
                .entry(seg.to_string())
                .or_insert_with(|| Value::Table(Table::new()));
            table = match next {
                Value::Table(t) => t,
                other => {
                    return Err(err(format!(
                        "{seg:?} is a {}, not a table",
                        other.type_str()
                    )))
                }
            };
            i += 1;
        }
    }
    let key = segs[segs.len() - 1];
    let existing = table.get(key);
    if let Some(v) = existing {
        if !matches!(v, Value::Integer(_) | Value::Float(_)) {
            return Err(err(format!(
                "{key:?} is a {}, not a number; address a number inside it (e.g. {key}.mean)",
                v.type_str()
            )));
        }
    }
    let value = toml_number(key, existing, x);
    table.insert(key.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"
[simulation]
name = "t"
runs = 100
[[material]]
id = "gallium"
demand_growth = { dist = "normal", mean = 0.04, sd = 0.02 }
  [[material.source]]
  region = "CN"
  share = 0.7
[[stockpile]]
material = "gallium"
target_days = 60
[[inventory]]
material = "gallium"
days = { dist = "triangular", min = 15, mode = 45, max = 90 }
release_above = 1.5
refill_below = 1.05
"#;

    fn doc() -> Table {
        DOC.parse().unwrap()
    }

    #[test]
    fn sets_numbers_by_path() {
        let mut d = doc();
        set(&mut d, "stockpile.gallium.target_days", 90.0).unwrap();
        set(&mut d, "material.gallium.demand_growth.mean", 0.05).unwrap();
        set(&mut d, "material.gallium.source.CN.share", 0.5).unwrap();
        set(&mut d, "simulation.runs", 500.0).unwrap();
        let s = toml::to_string(&d).unwrap();
        assert!(s.contains("target_days = 90"), "{s}");
        assert!(s.contains("mean = 0.05"));
        assert!(s.contains("share = 0.5"));
        assert!(
            s.contains("runs = 500\n"),
            "an integer stays an integer: {s}"
        );
    }

    #[test]
    fn sets_an_inventory_by_its_material() {
        let mut d = doc();
        set(&mut d, "inventory.gallium.days.mode", 30.0).unwrap();
        set(&mut d, "inventory.gallium.release_above", 2.0).unwrap();
        let inv = d["inventory"][0].as_table().unwrap();
        assert_eq!(inv["days"]["mode"].as_integer(), Some(30));
        assert_eq!(inv["release_above"].as_float(), Some(2.0));
        // Only a stockpile is added where none is: an inventory is the
        // world's, not a policy to try.
        let e = set(&mut d, "inventory.nickel.days", 30.0).unwrap_err();
        assert!(e.message.contains("no inventory"), "{e}");
        // The inventories there are go by their material when unnamed.
        assert!(e.message.ends_with("there are: gallium"), "{e}");
    }

    #[test]
    fn adds_a_stockpile_for_a_material_without_one() {
        let mut d = doc();
        d.remove("stockpile");
        set(&mut d, "stockpile.gallium.target_days", 30.0).unwrap();
        let s = toml::to_string(&d).unwrap();
        assert!(
            s.contains("[[stockpile]]") && s.contains("material = \"gallium\""),
            "{s}"
        );
    }

    #[test]
    fn unknown_paths_say_what_exists() {
        let mut d = doc();
        let e = set(&mut d, "material.nickel.demand_tpy", 1.0).unwrap_err();
        assert!(e.message.contains("there are: gallium"), "{e}");
        let e = set(&mut d, "material.gallium.demand_growth", 1.0).unwrap_err();
        assert!(e.message.contains("not a number"), "{e}");
        assert!(parse_setting("x.y=1,a").is_err());
        assert_eq!(
            parse_setting("stockpile.g.target_days=0,30")
                .unwrap()
                .values,
            vec![0.0, 30.0]
        );
    }
}
