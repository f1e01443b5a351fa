//! The stockpiles' section of `report.html`: each stock's release rule in
//! words, its year-end level, days of cover and share of consumption (the
//! Critical Raw Materials Act's Art. 22 report, as in `stocks.csv`), the
//! share of futures in which it has reached its target, and a chart of its
//! level; and the demand tiers' shortfalls.

use super::esc;
use crate::report::{num, MaterialReport, StockReport};
use std::fmt::Write;

/// `x` with its 5th-95th percentile range, or a dash when not a number.
fn with_range(mean: f64, p5: f64, p95: f64) -> String {
    if !mean.is_finite() {
        return "-".into();
    }
    if p5 == p95 {
        num(mean)
    } else {
        format!("{} ({}-{})", num(mean), num(p5), num(p95))
    }
}

/// Appends the stockpiles' and tiers' part of material `mat`'s section.
pub fn section(o: &mut String, mat: &MaterialReport) {
    for sp in &mat.stockpiles {
        let _ = writeln!(
            o,
            "<h3>Stockpile {name}</h3>\n<p>{rule}.</p>",
            name = esc(&sp.name),
            rule = esc(&sp.rule)
        );
        table(o, mat, sp);
        let _ = writeln!(
            o,
            "<figure id=\"chart-stock-{id}-{name}\">\n{svg}<figcaption>Stockpile {name} of {id}: \
             its level at each year's end, tonnes: the mean over futures (bars) and the range \
             from the 5th to the 95th percentile (lines).</figcaption>\n</figure>",
            id = esc(&mat.id),
            name = esc(&sp.name),
            svg = chart(
                sp,
                &format!(
                    "Stockpile {} of {}: level at each year's end",
                    sp.name, mat.id
                )
            )
        );
    }
    if !mat.tiers.is_empty() {
        let _ = writeln!(
            o,
            "<table>\n<caption>{id}: shortfall by demand tier (served in priority order; \
             the last is short first)</caption>\n<thead><tr><th>tier</th><th>mean shortfall, t</th>\
             <th>p95 shortfall, t</th><th>mean shortage cost, EUR</th></tr></thead>\n<tbody>",
            id = esc(&mat.id)
        );
        for t in &mat.tiers {
            let _ = writeln!(
                o,
                "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.name),
                num(t.shortfall_t.mean),
                num(t.shortfall_t.p95),
                num(t.shortage_cost_eur.mean)
            );
        }
        let _ = writeln!(o, "</tbody>\n</table>");
    }
}

/// The Art. 22 table of one stock: a row a year.
fn table(o: &mut String, mat: &MaterialReport, sp: &StockReport) {
    let _ = writeln!(
        o,
        "<table>\n<caption>{id}, stockpile {name}, at each year's end: mean (5th-95th \
         percentile) over futures</caption>\n<thead><tr><th>year</th><th>level, t</th>\
         <th>days of the year's consumption</th><th>% of the year's consumption</th>\
         <th>futures in which it has reached its target</th></tr></thead>\n<tbody>",
        id = esc(&mat.id),
        name = esc(&sp.name)
    );
    for (y, (_, filled)) in sp.years.iter().zip(&sp.filled_by) {
        let _ = writeln!(
            o,
            "<tr><th>{}</th><td class=\"range\">{}</td><td class=\"range\">{}</td>\
             <td class=\"range\">{}</td><td>{} %</td></tr>",
            y.year,
            with_range(y.level_t.mean, y.level_t.p5, y.level_t.p95),
            with_range(
                y.days_of_cover.mean,
                y.days_of_cover.p5,
                y.days_of_cover.p95
            ),
            with_range(
                y.percent_of_annual_consumption.mean,
                y.percent_of_annual_consumption.p5,
                y.percent_of_annual_consumption.p95
            ),
            num(100.0 * filled)
        );
    }
    let _ = writeln!(o, "</tbody>\n</table>");
}

/// A bar chart of the stock's mean year-end level with 5th-95th percentile
/// whiskers, as inline SVG (text in the page's font: no font files needed).
pub fn chart(sp: &StockReport, label: &str) -> String {
    let (w, h) = (640.0, 240.0);
    let (left, right, top, bottom) = (70.0, 10.0, 10.0, 30.0);
    let top_value = sp
        .years
        .iter()
        .map(|y| y.level_t.p95.max(y.level_t.mean))
        .filter(|x| x.is_finite())
        .fold(0.0f64, f64::max);
    let scale = if top_value > 0.0 {
        top_value * 1.1
    } else {
        1.0
    };
    let n = sp.years.len().max(1) as f64;
    let slot = (w - left - right) / n;
    let y_of = |v: f64| top + (h - top - bottom) * (1.0 - v / scale);
    let mut s = format!(
        "<svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
         font-size=\"11\">\n<line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#212121\"/>\n",
        esc(label),
        b = h - bottom,
        r = w - right
    );
    for k in 0..=4 {
        let v = scale * f64::from(k) / 4.0;
        let _ = writeln!(
            s,
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"end\">{}</text>",
            num(v),
            x = left - 6.0,
            y = y_of(v) + 4.0
        );
    }
    for (i, y) in sp.years.iter().enumerate() {
        let x = left + slot * i as f64;
        let mean = if y.level_t.mean.is_finite() {
            y.level_t.mean
        } else {
            0.0
        };
        let _ = writeln!(
            s,
            "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" fill=\"#6baed6\">\
             <title>{year}: mean {m} t</title></rect>",
            x = x + slot * 0.15,
            top = y_of(mean),
            bw = slot * 0.7,
            bh = (h - bottom) - y_of(mean),
            year = y.year,
            m = num(mean)
        );
        if y.level_t.p95 > y.level_t.p5 {
            let cx = x + slot * 0.5;
            let _ = writeln!(
                s,
                "<line x1=\"{cx:.1}\" y1=\"{a:.1}\" x2=\"{cx:.1}\" y2=\"{b:.1}\" stroke=\"#08306b\">\
                 <title>{year}: 5th-95th percentile {p5}-{p95} t</title></line>",
                a = y_of(y.level_t.p5),
                b = y_of(y.level_t.p95),
                year = y.year,
                p5 = num(y.level_t.p5),
                p95 = num(y.level_t.p95)
            );
        }
        if sp.years.len() <= 20 || i % 5 == 0 {
            let _ = writeln!(
                s,
                "<text x=\"{cx:.1}\" y=\"{ty}\" text-anchor=\"middle\">{year}</text>",
                cx = x + slot * 0.5,
                ty = h - bottom + 16.0,
                year = y.year
            );
        }
    }
    s.push_str("</svg>\n");
    s
}
