//! `report.html`: one self-contained page to put in front of a decision
//! maker: a plain-language reading per material, the summary tables, the
//! charts (inline SVG), and the assumptions as crmsim understood them.
//!
//! Self-contained means it opens from a USB stick on an offline machine: no
//! script, no stylesheet, font or image from elsewhere; the SVGs are inlined
//! without their `xmlns` attribute, which HTML does not need.

use crate::output::charts::{Figure, FlowFigure};
use crate::output::esc;
use crate::output::text::describe;
use crate::report::num;
use crate::report::{MaterialReport, Report};
use crate::scenario::Scenario;
use crate::vocab::Metric;
use std::fmt::Write;

/// A share (0..1) as a percentage for reading: one decimal from 1 % up, and
/// up to 4 significant digits below (so 0.03 % does not read as 0).
fn pct(share: f64) -> String {
    let v = 100.0 * share;
    if v.abs() >= 1.0 {
        num((v * 10.0).round() / 10.0)
    } else {
        num(v)
    }
}

/// The years a scenario covers, e.g. `2025-2039`.
fn period(s: &Scenario) -> String {
    format!(
        "{}-{}",
        s.start_year(),
        s.start_year() + s.years() as i32 - 1
    )
}

/// The plain-language reading of one material's results, sentence by
/// sentence, the headline first: e.g. "In 5 % of futures, gallium supply
/// falls short by more than 12.5 t over 2025-2039 (2.1 % of demand).", then
/// the tail mean, how often any shortfall occurs, how high the price goes,
/// what users lose (the welfare loss and its parts, said in words), and the
/// stockpile's books.
pub fn reading(mat: &MaterialReport, period: &str, runs: u64) -> Vec<String> {
    let id = &mat.id;
    let short = mat.get(Metric::ShortfallT);
    let demand = mat.get(Metric::DemandT).mean;
    let of_demand = |t: f64| {
        if demand > 0.0 {
            format!(" ({} % of demand)", pct(t / demand))
        } else {
            String::new()
        }
    };
    let mut o = Vec::new();
    if mat.p_shortfall == 0.0 {
        o.push(format!(
            "In none of the {} simulated futures does {id} supply fall short over {period}.",
            num(runs as f64)
        ));
    } else if short.p95 > 0.0 {
        o.push(format!(
            "In 5 % of futures, {id} supply falls short by more than {} t over {period}{}.",
            num(short.p95),
            of_demand(short.p95)
        ));
        o.push(format!(
            "Across those worst 5 %, the shortfall averages {} t{}.",
            num(short.cvar95),
            of_demand(short.cvar95)
        ));
        o.push(format!(
            "Some shortfall occurs in {} % of futures; averaged over all futures it is {} t.",
            pct(mat.p_shortfall),
            num(short.mean)
        ));
    } else {
        o.push(format!(
            "In at least 95 % of futures, {id} supply meets demand in full over {period}."
        ));
        o.push(format!(
            "Some shortfall occurs in {} % of futures; across the worst 5 %, it averages {} t{}.",
            pct(mat.p_shortfall),
            num(short.cvar95),
            of_demand(short.cvar95)
        ));
    }
    let peak = mat.get(Metric::PeakPriceMultiple);
    if peak.p95 > 1.0 {
        o.push(format!(
            "In 5 % of futures the price users pay rises above {} times its base at some \
             point; users give up {} t of demand on average at the higher prices.",
            num(peak.p95),
            num(mat.get(Metric::DemandReductionT).mean)
        ));
    }
    let welfare = mat.get(Metric::WelfareLossEur).mean;
    let price_cost = mat.get(Metric::PriceCostEur).mean;
    if welfare != 0.0 || price_cost > 0.0 {
        o.push(format!(
            "Users lose EUR {} on average (present value): EUR {} of price cost, that is the \
             extra bill on what they still buy at the higher price plus the value to them of \
             what they give up, less EUR {} gained by domestic producers selling at that \
             price, plus EUR {} of shortage cost for tonnes rationed at the price cap, each \
             at the value of lost load less the price not paid.",
            num(welfare),
            num(price_cost),
            num(mat.get(Metric::ProducerGainEur).mean),
            num(mat.get(Metric::ShortageCostEur).mean)
        ));
    }
    let release = mat.get(Metric::ReleaseT).mean;
    let stock_cost = mat.get(Metric::StockpileCostEur).mean;
    if release > 0.0 || stock_cost > 0.0 {
        o.push(format!(
            "The strategic stockpile releases {} t on average, sold for EUR {}; it costs EUR \
             {} (purchases and holding, at the base price) and is worth EUR {} at the end.",
            num(release),
            num(mat.get(Metric::StockpileSalesEur).mean),
            num(stock_cost),
            num(mat.get(Metric::StockpileEndValueEur).mean)
        ));
    }
    o
}

/// The rows of a material's summary table: label, metric, factor to apply
/// (for percentages).
const TABLE_ROWS: [(&str, Metric, f64); 11] = [
    ("total shortfall (t)", Metric::ShortfallT, 1.0),
    (
        "shortfall as share of demand (%)",
        Metric::ShortfallFraction,
        100.0,
    ),
    (
        "demand given up at the price (t)",
        Metric::DemandReductionT,
        1.0,
    ),
    (
        "peak price (multiple of base)",
        Metric::PeakPriceMultiple,
        1.0,
    ),
    ("welfare loss (EUR)", Metric::WelfareLossEur, 1.0),
    ("price cost (EUR)", Metric::PriceCostEur, 1.0),
    ("producer gain (EUR)", Metric::ProducerGainEur, 1.0),
    ("shortage cost (EUR)", Metric::ShortageCostEur, 1.0),
    ("stockpile release (t)", Metric::ReleaseT, 1.0),
    ("stockpile cost (EUR)", Metric::StockpileCostEur, 1.0),
    ("stockpile sales (EUR)", Metric::StockpileSalesEur, 1.0),
];

fn table(o: &mut String, mat: &MaterialReport, period: &str, runs: u64) {
    let _ = writeln!(
        o,
        "<table id=\"summary-{}\">\n<caption>{}: totals over {period}, across {} futures</caption>\n\
         <thead><tr><th scope=\"col\"></th><th scope=\"col\">mean</th><th scope=\"col\">p5</th>\
         <th scope=\"col\">p50 (median)</th><th scope=\"col\">p95</th>\
         <th scope=\"col\">cvar95 (mean of worst 5 %)</th></tr></thead>\n<tbody>",
        esc(&mat.id),
        esc(&mat.id),
        num(runs as f64)
    );
    for (label, metric, k) in TABLE_ROWS {
        let s = mat.get(metric);
        let _ = writeln!(
            o,
            "<tr><th scope=\"row\">{label}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            num(s.mean * k),
            num(s.p5 * k),
            num(s.p50 * k),
            num(s.p95 * k),
            num(s.cvar95 * k)
        );
    }
    let _ = writeln!(
        o,
        "<tr><th scope=\"row\">probability of any shortfall (%)</th><td colspan=\"5\">{}</td></tr>\n\
         </tbody>\n</table>",
        pct(mat.p_shortfall)
    );
}

/// A plotters SVG made fit to sit inside HTML: no `xmlns` (HTML's parser
/// puts `<svg>` in the SVG namespace by itself), and labelled for screen
/// readers.
fn inline_svg(svg: &str, label: &str) -> String {
    svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
        .replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(label)),
            1,
        )
}

const STYLE: &str = "
body { font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; color: #212121;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #08306b; padding-bottom: 0.2em; margin-top: 2em; }
.meta { color: #5a5a5a; }
table { border-collapse: collapse; margin: 1em 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.4em; }
th, td { border-bottom: 1px solid #d0d0d0; padding: 0.3em 0.8em; }
td { text-align: right; }
td.range { white-space: nowrap; }
thead th { border-bottom: 2px solid #212121; text-align: right; }
tbody th { text-align: left; font-weight: normal; }
figure { margin: 1.5em 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #3a3a3a; font-size: 0.95em; }
pre { background: #f4f4f4; padding: 1em; overflow-x: auto; font-size: 0.85em; }
@media print { figure, table { break-inside: avoid; } h2 { break-before: page; } }
";

/// Renders `report.html` for `report` of `scenario`, with `figures` (from
/// [`charts::figures`](crate::output::charts::figures)) inlined under their
/// material, after its flows diagram from `flows` (from
/// [`charts::flow_figures`](crate::output::charts::flow_figures)).
pub fn report(
    scenario: &Scenario,
    report: &Report,
    figures: &[Figure],
    flows: &[FlowFigure],
) -> Vec<u8> {
    let period = period(scenario);
    let ids: Vec<&str> = report.materials.iter().map(|m| m.id.as_str()).collect();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{name}: supply risk {period}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>{name}: supply risk of {materials}, {period}</h1>\n\
         <p class=\"meta\">{runs} simulated futures, seed {seed}, {steps} steps of one {step}; \
         crmsim {version}.</p>",
        name = esc(&report.name),
        materials = esc(&ids.join(", ")),
        runs = num(report.runs as f64),
        seed = report.seed,
        steps = report.steps,
        step = scenario.step().name(),
        version = env!("CARGO_PKG_VERSION"),
    );

    let _ = writeln!(o, "<section id=\"in-brief\">\n<h2>In brief</h2>\n<ul>");
    for mat in &report.materials {
        let _ = writeln!(
            o,
            "<li><strong>{}</strong>: {}</li>",
            esc(&mat.id),
            esc(&reading(mat, &period, report.runs)[0])
        );
    }
    let costs = if scenario.discount_rate == 0.0 {
        "Costs are in euros, undiscounted.".to_string()
    } else {
        format!(
            "Costs are in euros, as present values in {} at a discount rate of {} % a year.",
            scenario.start_year(),
            num(100.0 * scenario.discount_rate)
        )
    };
    let _ = writeln!(
        o,
        "</ul>\n<p>A <em>future</em> is one simulated run: one draw of demand, disruptions and \
         the other uncertain inputs, stepped through {period}. Totals are over the whole period. \
         p5, p50 and p95 are the values that 5 %, 50 % and 95 % of futures stay at or below; \
         cvar95 is the average over the worst 5 % of futures. {costs}</p>\n\
         </section>"
    );

    for mat in &report.materials {
        let _ = writeln!(
            o,
            "<section id=\"material-{id}\">\n<h2>{id}</h2>\n<p>{}</p>",
            esc(&reading(mat, &period, report.runs).join(" ")),
            id = esc(&mat.id)
        );
        table(&mut o, mat, &period, report.runs);
        for f in flows.iter().filter(|f| f.material == mat.id) {
            let _ = writeln!(
                o,
                "<figure id=\"flows-{id}\">\n{svg}<figcaption>{caption}</figcaption>\n</figure>",
                id = esc(&mat.id),
                svg = inline_svg(&f.svg, &f.description),
                caption = esc(&f.caption)
            );
        }
        for f in figures.iter().filter(|f| f.material == mat.id) {
            let _ = writeln!(
                o,
                "<figure id=\"chart-{name}\">\n{svg}<figcaption>{caption} \
                 (Also saved as charts/{name}.png and charts/{name}.svg.)</figcaption>\n</figure>",
                name = esc(&f.name),
                svg = inline_svg(&f.chart.svg, &f.caption),
                caption = esc(&f.caption)
            );
        }
        super::stocks::section(&mut o, mat);
        let _ = writeln!(o, "</section>");
    }

    let _ = writeln!(
        o,
        "<section id=\"assumptions\">\n<h2>Assumptions</h2>\n<p>The scenario as crmsim \
         understood it, defaults included. The sources of each number are in the comments of \
         scenario.toml, saved next to this report.</p>\n<pre>{}</pre>\n\
         <p>To reproduce these results: <code>crmsim run scenario.toml --runs {} --seed {}</code>. \
         The same seed gives the same numbers, whatever the number of threads.</p>\n</section>\n\
         </body>\n</html>",
        esc(&describe(scenario)),
        report.runs,
        report.seed
    );
    o.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::MetricSummary;
    use crate::vocab::Metric;

    fn material(p_shortfall: f64, short: [f64; 3], release: f64) -> MaterialReport {
        let at = |v: f64| MetricSummary {
            mean: v,
            sd: 0.0,
            min: v,
            p5: v,
            p50: v,
            p95: v,
            p99: v,
            max: v,
            cvar95: v,
        };
        let metrics = Metric::ALL
            .iter()
            .map(|&m| {
                let s = match m {
                    Metric::DemandT => at(600.0),
                    Metric::ShortfallT => MetricSummary {
                        mean: short[0],
                        p95: short[1],
                        cvar95: short[2],
                        ..at(0.0)
                    },
                    Metric::ReleaseT => at(release),
                    _ => at(0.0),
                };
                (m, s)
            })
            .collect();
        MaterialReport {
            id: "gallium".into(),
            metrics,
            p_shortfall,
            tiers: Vec::new(),
            stockpiles: Vec::new(),
        }
    }

    #[test]
    fn reads_the_tail_in_plain_words() {
        let r = reading(&material(0.2, [3.0, 12.0, 30.0], 0.0), "2025-2039", 1000).join(" ");
        assert!(
            r.starts_with(
                "In 5 % of futures, gallium supply falls short by more than 12 t over \
                 2025-2039 (2 % of demand). Across those worst 5 %, the shortfall averages \
                 30 t (5 % of demand). Some shortfall occurs in 20 % of futures"
            ),
            "{r}"
        );
        assert!(!r.contains("stockpile"));
        let r = reading(&material(0.03, [0.1, 0.0, 2.0], 4.0), "2025-2039", 1000).join(" ");
        assert!(r.starts_with("In at least 95 % of futures, gallium supply meets demand in full"));
        assert!(r.contains("stockpile releases 4 t"));
        let r = reading(&material(0.0, [0.0; 3], 0.0), "2025-2039", 1000);
        assert_eq!(
            r,
            ["In none of the 1000 simulated futures does gallium supply fall short over 2025-2039."]
        );
    }

    #[test]
    fn svg_is_inlined_without_namespace() {
        let svg = "<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\">\n</svg>";
        let s = inline_svg(svg, "a <b>");
        assert!(!s.contains("http"));
        assert!(s.starts_with("<svg role=\"img\" aria-label=\"a &lt;b&gt;\" width="));
    }

    #[test]
    fn percentages_keep_small_values_visible() {
        assert_eq!(pct(0.1234), "12.3");
        assert_eq!(pct(0.0003), "0.03");
        assert_eq!(pct(1.0), "100");
    }
}
