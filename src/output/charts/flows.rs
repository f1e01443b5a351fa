//! The flows diagram of a material ("flows at a glance" in `report.html`):
//! where what the region's users get comes from, and what becomes of
//! demand, as the means over runs of each flow's total over the horizon.
//!
//! Three columns joined by bands as wide as their tonnes: on the left the
//! inflows (imports by source, domestic refinery output, secondary supply,
//! stockpile releases); in the middle what users get (consumption), the
//! demand they give up at the price and the shortfall; on the right demand,
//! which those three make up. Domestic output above what users take, which
//! leaves the region (docs/model.md, step 4), goes from the domestic inflows
//! to a node of its own; any other difference between what comes in and
//! what users get is drawn as a band "not accounted for", never hidden.
//!
//! Unlike the other charts this one is written as SVG by hand, and only as
//! SVG, for the report: [`sankey`] is a pure function of the flows
//! ([`Flows`]), so that its geometry can be checked without a simulation.
//! Each band and node carries its tonnes and its width in pixels as
//! `data-` attributes. Text is measured with the embedded font, as in the
//! other charts, and named in the same family for the viewer to draw.

use super::{font_ready, title_height, ChartError, Tone, FONT, INK, MUTED};
use crate::output::esc;
use crate::report::{num, Report};
use crate::scenario::Scenario;
use crate::vocab::{Metric, Variable};
use plotters::style::{IntoFont, RGBColor};
use std::fmt::Write;

/// What a flow is, for its colour: the same families as the other charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Imports: blue, like supply.
    Imports,
    /// Domestic output (refinery, recycling): orange, like the domestic
    /// production charts.
    Domestic,
    /// Stockpile releases: green, like the stockpile chart.
    Stock,
    /// Demand given up at the price: purple.
    GivenUp,
    /// Shortfall: red, like the shortfall chart's cvar95.
    Shortfall,
}

/// One flow: what it is and its tonnes, the mean over runs of its total
/// over the horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// What flows, as the diagram labels it ("imports from CN").
    pub label: String,
    /// Tonnes, mean over runs of the per-run total.
    pub tonnes: f64,
    /// Its colour family.
    pub family: Family,
}

impl Flow {
    /// A flow of `tonnes` called `label`.
    pub fn new(label: impl Into<String>, tonnes: f64, family: Family) -> Flow {
        Flow {
            label: label.into(),
            tonnes,
            family,
        }
    }
}

/// What the flows diagram of one material shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Flows {
    /// Title, top left.
    pub title: String,
    /// One line under the title (what the numbers are), may be empty.
    pub subtitle: String,
    /// What comes in for the region's use, top down in the left column.
    pub inflows: Vec<Flow>,
    /// Domestic output above what the region's users take (it leaves the
    /// region): drawn from the [`Family::Domestic`] inflows, in proportion
    /// to their tonnes, to a node of its own.
    pub not_used: f64,
    /// What the region's users get (consumption), releases included.
    pub consumption: f64,
    /// Demand not met, under consumption in the middle column: demand is
    /// consumption plus these.
    pub unmet: Vec<Flow>,
}

impl Flows {
    /// Demand: consumption plus the unmet flows.
    pub fn demand(&self) -> f64 {
        self.consumption + self.unmet.iter().map(|f| f.tonnes).sum::<f64>()
    }
}

/// Label of the consumption node.
pub const CONSUMPTION: &str = "what users get (consumption)";
/// Label of the node of domestic output not used in the region.
pub const NOT_USED: &str = "domestic output not used here";
/// Label of a difference between inflows and consumption that the flows
/// given do not explain.
pub const UNACCOUNTED: &str = "not accounted for";
/// Label of the demand node.
pub const DEMAND: &str = "demand";

/// Relative size below which a flow counts as zero (and a difference as
/// rounding): tonnes at most this share of the largest column are left
/// out.
pub const ZERO: f64 = 1e-9;

/// Imports of `total` tonnes split over `sources` (region, share of
/// imports) in proportion to their shares: one flow `imports from
/// <region>` per region, in the order given, shares of a region named
/// twice added up. The split is nominal: it is the scenario's import mix,
/// not what each source delivered.
pub fn imports_by_source<'a>(
    total: f64,
    sources: impl IntoIterator<Item = (&'a str, f64)>,
) -> Vec<Flow> {
    let mut regions: Vec<(&str, f64)> = Vec::new();
    for (region, share) in sources {
        match regions.iter_mut().find(|(r, _)| *r == region) {
            Some((_, s)) => *s += share,
            None => regions.push((region, share)),
        }
    }
    let sum: f64 = regions.iter().map(|(_, s)| s).sum();
    regions
        .into_iter()
        .map(|(region, share)| {
            let tonnes = if sum > 0.0 { total * share / sum } else { 0.0 };
            Flow::new(format!("imports from {region}"), tonnes, Family::Imports)
        })
        .collect()
}

/// The years a scenario covers, e.g. `2025-2039`.
fn period(s: &Scenario) -> String {
    format!(
        "{}-{}",
        s.start_year(),
        s.start_year() + s.years() as i32 - 1
    )
}

/// The mean flows of material `m` over the horizon, from the report.
///
/// Totals are the means over runs in `summary.json`; imports, which have
/// no per-run total there, are the sum over steps of the per-step means of
/// `imports` (the same mean, summed in another order), split by the
/// scenario's import mix ([`imports_by_source`]). Consumption is demand
/// less demand given up less shortfall (demand = consumption + demand
/// reduction + shortfall in every step). Supply is imports plus the
/// domestic output users take, so domestic output above that is
/// imports + refinery + secondary - supply.
pub fn material_flows(scenario: &Scenario, report: &Report, m: usize) -> Flows {
    let mat = &report.materials[m];
    let mean = |metric: Metric| mat.get(metric).mean;
    let imports: f64 = (0..report.steps)
        .map(|t| report.step_row(m, Variable::Imports, t).mean)
        .sum();
    let sources = scenario.materials[m]
        .sources
        .iter()
        .map(|s| (s.region.as_str(), s.share));
    // One entry per inflow, top down: an instrument that delivers to users
    // is one more entry. (If supply counts what it delivers and imports do
    // not, subtract it from supply in `not_used` below; a mismatch would
    // show as "not accounted for", not vanish.)
    let mut inflows = imports_by_source(imports, sources);
    inflows.extend([
        Flow::new(
            "domestic refinery output",
            mean(Metric::RefineryT),
            Family::Domestic,
        ),
        Flow::new(
            "secondary supply (recycling)",
            mean(Metric::SecondaryT),
            Family::Domestic,
        ),
        Flow::new("stockpile releases", mean(Metric::ReleaseT), Family::Stock),
        // Options deliver outside supply, like releases.
        Flow::new("option calls", mean(Metric::OptionCalledT), Family::Stock),
    ]);
    let domestic = mean(Metric::RefineryT) + mean(Metric::SecondaryT);
    Flows {
        title: format!("{}: flows at a glance, {}", mat.id, period(scenario)),
        subtitle: format!(
            "Tonnes over the horizon, means over {} futures; imports split by the scenario's \
             import mix",
            num(report.runs as f64)
        ),
        inflows,
        not_used: imports + domestic - mean(Metric::SupplyT),
        consumption: mean(Metric::DemandT)
            - mean(Metric::DemandReductionT)
            - mean(Metric::ShortfallT),
        unmet: vec![
            Flow::new(
                "demand given up at the price",
                mean(Metric::DemandReductionT),
                Family::GivenUp,
            ),
            Flow::new("shortfall", mean(Metric::ShortfallT), Family::Shortfall),
        ],
    }
}

/// The flows diagram of one material, ready for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowFigure {
    /// The material's id.
    pub material: String,
    /// What the diagram shows and how to read it.
    pub caption: String,
    /// The flows in words, for readers who do not see the drawing.
    pub description: String,
    /// The drawing: a standalone SVG document.
    pub svg: String,
}

/// The flows diagram of every material, in file order.
///
/// # Errors
/// [`ChartError`] if the embedded font cannot measure text.
pub fn flow_figures(scenario: &Scenario, report: &Report) -> Result<Vec<FlowFigure>, ChartError> {
    let period = period(scenario);
    (0..report.materials.len())
        .map(|m| {
            let flows = material_flows(scenario, report, m);
            let id = &report.materials[m].id;
            let scale = scale_of(&flows);
            let mut caption = format!(
                "Where the {id} that users get comes from, and what becomes of demand: each \
                 flow's total over {period}, averaged over the {} futures (means over runs, in \
                 tonnes), each band as wide as its tonnes; flows of zero are left out. Imports \
                 are split by the scenario's import mix, the share of imports it gives each \
                 source: the outputs do not record what each source delivered. Demand is what \
                 users get plus the demand they give up at the price plus the shortfall.",
                num(report.runs as f64)
            );
            if flows.not_used > ZERO * scale {
                caption.push_str(" Domestic output above what users take leaves the region.");
                let domestic = flows
                    .inflows
                    .iter()
                    .filter(|f| f.family == Family::Domestic && f.tonnes > ZERO * scale)
                    .count();
                if domestic > 1 {
                    caption.push_str(
                        " The model does not say whose output that is: it is drawn from each \
                         domestic source in proportion to its tonnes.",
                    );
                }
            }
            if let Some(n) = graph(&flows)
                .nodes
                .iter()
                .find(|n| n.paint == Paint::Unaccounted)
            {
                caption.push_str(&format!(
                    " What comes in and what users get differ by {} t that these flows do not \
                     explain (dashed, \"{UNACCOUNTED}\").",
                    num(n.tonnes)
                ));
            }
            let reexports = report.materials[m].get(Metric::ReexportsT).mean;
            if reexports > 0.0 {
                caption.push_str(&format!(
                    " Re-exports ({} t) pass through the region and are not shown.",
                    num(reexports)
                ));
            }
            Ok(FlowFigure {
                material: id.clone(),
                caption,
                description: describe_flows(&flows),
                svg: sankey(&flows)?,
            })
        })
        .collect()
}

/// The flows in words (the diagram's text alternative): every flow drawn,
/// with its tonnes, e.g. "m: flows. Coming in: imports from A 40 t,
/// stockpile releases 10 t. Demand 60 t: what users get (consumption)
/// 50 t, shortfall 10 t."
pub fn describe_flows(flows: &Flows) -> String {
    let g = graph(flows);
    let list = |nodes: Vec<&Node>| {
        nodes
            .iter()
            .map(|n| format!("{} {} t", n.label, num(n.tonnes)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let to_demand = |i: usize| {
        g.links
            .iter()
            .any(|l| l.from == i && g.nodes[l.to].column == 2)
    };
    let mut s = format!("{}.", flows.title);
    let column = |c: usize, demand: bool| {
        g.nodes
            .iter()
            .enumerate()
            .filter(|&(i, n)| n.column == c && (c != 1 || to_demand(i) == demand))
            .map(|(_, n)| n)
            .collect::<Vec<_>>()
    };
    let inflows = column(0, false);
    if !inflows.is_empty() {
        let _ = write!(s, " Coming in: {}.", list(inflows));
    }
    let side = column(1, false);
    if !side.is_empty() {
        let _ = write!(s, " Not reaching users: {}.", list(side));
    }
    if let Some(d) = column(2, false).first() {
        let _ = write!(s, " Demand {} t: {}.", num(d.tonnes), list(column(1, true)));
    }
    s
}

/// The tonnes of the largest column, against which [`ZERO`] is relative.
fn scale_of(flows: &Flows) -> f64 {
    let inflows: f64 = flows
        .inflows
        .iter()
        .map(|f| f.tonnes)
        .filter(|t| t.is_finite() && *t > 0.0)
        .sum();
    [inflows, flows.demand(), flows.consumption + flows.not_used]
        .into_iter()
        .filter(|t| t.is_finite())
        .fold(0.0, f64::max)
}

/// What a node is drawn as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Paint {
    Family(Family),
    Use,
    NotUsed,
    Unaccounted,
    Demand,
}

impl Paint {
    /// (band, node) colours.
    fn colors(self) -> (RGBColor, RGBColor) {
        let tone = |t: Tone| {
            let (_, inner, line) = t.colors();
            (inner, line)
        };
        match self {
            Paint::Family(Family::Imports) => tone(Tone::Blue),
            Paint::Family(Family::Domestic) => tone(Tone::Orange),
            Paint::Family(Family::Stock) => tone(Tone::Green),
            Paint::Family(Family::GivenUp) => (RGBColor(188, 189, 220), RGBColor(84, 39, 143)),
            Paint::Family(Family::Shortfall) => (RGBColor(252, 146, 114), RGBColor(165, 15, 21)),
            // What users get: the light blue of supply's outer band, so
            // that it stands apart from the import bands in grey print.
            Paint::Use => (Tone::Blue.colors().0, RGBColor(8, 48, 107)),
            Paint::NotUsed => (RGBColor(217, 217, 217), RGBColor(150, 150, 150)),
            Paint::Unaccounted => (RGBColor(240, 240, 240), MUTED),
            // The dark grey of the demand lines.
            Paint::Demand => (RGBColor(189, 189, 189), RGBColor(40, 40, 40)),
        }
    }
}

/// A node: one bar of a column.
#[derive(Debug, Clone)]
struct Node {
    /// Stable name in the SVG (`inflow-0`, `consumption`, `demand`, ...).
    key: String,
    label: String,
    tonnes: f64,
    column: usize,
    paint: Paint,
    /// Band colour, shaded apart from its neighbours of the same family.
    band: RGBColor,
}

/// A band from node `from` to node `to`.
#[derive(Debug, Clone)]
struct Link {
    from: usize,
    to: usize,
    tonnes: f64,
}

struct Graph {
    nodes: Vec<Node>,
    links: Vec<Link>,
}

/// `a` moved towards `b` by `t` (0..1).
fn blend(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let m = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// The nodes and bands of `flows`, zero flows left out: inflows, then
/// consumption, demand given up, shortfall, domestic output not used and
/// any difference not accounted for, then demand.
fn graph(flows: &Flows) -> Graph {
    let tol = ZERO * scale_of(flows);
    let counts = |t: f64| t.is_finite() && t > tol;
    let mut nodes: Vec<Node> = Vec::new();
    let mut links = Vec::new();
    let node = |key: String, label: &str, tonnes: f64, column: usize, paint: Paint| Node {
        key,
        label: label.to_string(),
        tonnes,
        column,
        paint,
        band: paint.colors().0,
    };

    // Left: the inflows; neighbours of one family in lighter shades.
    let inflows: Vec<(usize, &Flow)> = flows
        .inflows
        .iter()
        .enumerate()
        .filter(|(_, f)| counts(f.tonnes))
        .collect();
    for (k, (i, f)) in inflows.iter().enumerate() {
        let same = inflows.iter().filter(|(_, g)| g.family == f.family).count();
        let rank = inflows[..k]
            .iter()
            .filter(|(_, g)| g.family == f.family)
            .count();
        let mut n = node(
            format!("inflow-{i}"),
            &f.label,
            f.tonnes,
            0,
            Paint::Family(f.family),
        );
        n.band = blend(
            n.band,
            RGBColor(255, 255, 255),
            0.6 * rank as f64 / same as f64,
        );
        nodes.push(n);
    }
    let n_in = nodes.len();
    // What each inflow leaves to users: domestic output less its part of
    // what is not used.
    let domestic: f64 = inflows
        .iter()
        .filter(|(_, f)| f.family == Family::Domestic)
        .map(|(_, f)| f.tonnes)
        .sum();
    let not_used = flows.not_used.max(0.0).min(domestic);
    let unused: Vec<f64> = inflows
        .iter()
        .map(|(_, f)| {
            if f.family == Family::Domestic && domestic > 0.0 {
                not_used * f.tonnes / domestic
            } else {
                0.0
            }
        })
        .collect();
    let to_use: f64 = inflows
        .iter()
        .zip(&unused)
        .map(|((_, f), u)| f.tonnes - u)
        .sum();
    // More in than users get (> 0) or less (< 0), beyond rounding.
    let consumption = if counts(flows.consumption) {
        flows.consumption
    } else {
        0.0
    };
    let residual = to_use - consumption;
    if residual < -tol {
        nodes.push(node(
            "unaccounted-in".into(),
            UNACCOUNTED,
            -residual,
            0,
            Paint::Unaccounted,
        ));
    }

    // Middle: consumption, demand not met, what is not used.
    let use_at = nodes.len();
    if consumption > 0.0 {
        nodes.push(node(
            "consumption".into(),
            CONSUMPTION,
            consumption,
            1,
            Paint::Use,
        ));
    }
    let unmet_at = nodes.len();
    for (j, f) in flows.unmet.iter().enumerate() {
        if counts(f.tonnes) {
            nodes.push(node(
                format!("unmet-{j}"),
                &f.label,
                f.tonnes,
                1,
                Paint::Family(f.family),
            ));
        }
    }
    let unmet_end = nodes.len();
    let not_used_at = nodes.len();
    if counts(not_used) {
        nodes.push(node(
            "not-used".into(),
            NOT_USED,
            not_used,
            1,
            Paint::NotUsed,
        ));
    }
    let unaccounted_at = nodes.len();
    if residual > tol {
        nodes.push(node(
            "unaccounted-out".into(),
            UNACCOUNTED,
            residual,
            1,
            Paint::Unaccounted,
        ));
    }
    let demand: f64 = nodes[use_at..unmet_end].iter().map(|n| n.tonnes).sum();
    let demand_at = nodes.len();
    if demand > 0.0 {
        nodes.push(node("demand".into(), DEMAND, demand, 2, Paint::Demand));
    }

    // Bands. An inflow's share of a residual above zero is in proportion
    // to what it leaves to users.
    let mut link = |from: usize, to: usize, tonnes: f64| {
        if counts(tonnes) {
            links.push(Link { from, to, tonnes });
        }
    };
    for (k, ((_, f), u)) in inflows.iter().zip(&unused).enumerate() {
        let left = f.tonnes - u;
        let extra = if residual > tol && to_use > 0.0 {
            residual * left / to_use
        } else {
            0.0
        };
        if consumption > 0.0 {
            link(k, use_at, left - extra);
        }
        if not_used_at < unaccounted_at {
            link(k, not_used_at, *u);
        }
        if unaccounted_at < demand_at {
            link(k, unaccounted_at, extra);
        }
    }
    if residual < -tol && consumption > 0.0 {
        link(n_in, use_at, -residual);
    }
    if demand > 0.0 {
        if consumption > 0.0 {
            link(use_at, demand_at, consumption);
        }
        for (j, n) in nodes.iter().enumerate().take(unmet_end).skip(unmet_at) {
            link(j, demand_at, n.tonnes);
        }
    }
    Graph { nodes, links }
}

/// Width of the diagram, pixels.
const WIDTH: f64 = 1000.0;
/// Height, pixels, of the tallest column's tonnes (gaps come on top).
const PLOT_HEIGHT: f64 = 320.0;
/// Width of a node's bar.
const NODE_W: f64 = 16.0;
/// Gaps between nodes: the left column's labels sit beside its nodes,
/// the middle column's above theirs.
const GAP: [f64; 3] = [12.0, 34.0, 0.0];
/// Rows of the left labels, pixels apart at least.
const LABEL_ROW: f64 = 18.0;
/// Widest label of the left column, pixels (longer ones end in "…").
const MAX_LEFT_LABEL: u32 = 340;

/// Width in pixels of `s` in the chart font at `size`, as drawn.
fn text_width(s: &str, size: f64) -> Result<u32, ChartError> {
    (FONT, size)
        .into_font()
        .box_size(s)
        .map(|(w, _)| w)
        .map_err(|e| ChartError::Draw {
            format: "svg",
            message: e.to_string(),
        })
}

/// `n`'s label and tonnes ("imports from CN: 40 t") in at most `max_px`
/// pixels at `size`: a label too long is shortened, never the tonnes.
fn fit_said(n: &Node, size: f64, max_px: u32) -> Result<String, ChartError> {
    let tonnes = format!(": {} t", num(n.tonnes));
    let room = max_px.saturating_sub(text_width(&tonnes, size)?);
    Ok(fit(&n.label, size, room)? + &tonnes)
}

/// `s` shortened to at most `max_px` pixels at `size`, ending in "…".
fn fit(s: &str, size: f64, max_px: u32) -> Result<String, ChartError> {
    if text_width(s, size)? <= max_px {
        return Ok(s.to_string());
    }
    let chars: Vec<char> = s.chars().collect();
    for n in (1..chars.len()).rev() {
        let cand: String = chars[..n].iter().collect::<String>().trim_end().to_string() + "…";
        if text_width(&cand, size)? <= max_px {
            return Ok(cand);
        }
    }
    Ok("…".into())
}

fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// How a text is set: size (in plotters' units, as the other charts give
/// it), colour, and whether a white halo keeps it legible over bands.
#[derive(Debug, Clone, Copy)]
struct Type {
    size: f64,
    color: RGBColor,
    halo: bool,
}

/// The title, as the other charts' titles.
const TITLE: Type = Type {
    size: 22.0,
    color: INK,
    halo: false,
};
/// The subtitle.
const SUBTITLE: Type = Type {
    size: 15.0,
    color: MUTED,
    halo: false,
};
/// A label beside a bar.
const LABEL: Type = Type {
    size: 14.0,
    color: INK,
    halo: false,
};
/// A label over bands.
const LABEL_OVER: Type = Type {
    halo: true,
    ..LABEL
};

/// A `<text>` element at `(x, y)`; `anchor` is `start`, `middle` or `end`;
/// `dy` places the baseline (as plotters does: `0.76em` for a top, `0.5ex`
/// for a middle).
fn text_el(o: &mut String, (x, y): (f64, f64), anchor: &str, dy: &str, t: Type, content: &str) {
    let halo = if t.halo {
        " paint-order=\"stroke\" stroke=\"#FFFFFF\" stroke-width=\"4\" stroke-linejoin=\"round\""
    } else {
        ""
    };
    let _ = writeln!(
        o,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" dy=\"{dy}\" text-anchor=\"{anchor}\" \
         font-family=\"{FONT}\" font-size=\"{}\" fill=\"{}\"{halo}>{}</text>",
        t.size / 1.24,
        hex(t.color),
        esc(content)
    );
}

/// Draws the flows diagram of `flows` as a standalone SVG document, 1000
/// pixels wide: each flow a band as wide as its tonnes (one scale for the
/// whole diagram), labelled with its tonnes; zero flows are left out. Each
/// band is a `<path class="band">` with `data-from` and `data-to` (the keys
/// of its nodes), `data-tonnes` and `data-width` (pixels); each node a
/// `<rect class="node">` with `data-node` (its key: `inflow-<i>` for the
/// `i`-th inflow, `consumption`, `unmet-<j>`, `not-used`,
/// `unaccounted-in`, `unaccounted-out`, `demand`), `data-tonnes` and
/// `data-height`. Every band and node has a `<title>` saying what it is;
/// the document's own `<title>` is [`describe_flows`].
///
/// # Errors
/// [`ChartError`] if the embedded font cannot measure text.
pub fn sankey(flows: &Flows) -> Result<String, ChartError> {
    font_ready()?;
    let g = graph(flows);
    let said = |n: &Node| format!("{}: {} t", n.label, num(n.tonnes));

    // Columns: x of each bar, left labels' room measured.
    let mut left_w = 0;
    for n in g.nodes.iter().filter(|n| n.column == 0) {
        left_w = left_w.max(text_width(
            &fit_said(n, LABEL.size, MAX_LEFT_LABEL)?,
            LABEL.size,
        )?);
    }
    let mut right_w = 0;
    for n in g.nodes.iter().filter(|n| n.column == 2) {
        right_w = right_w.max(text_width(&said(n), LABEL.size)?);
    }
    let x0 = 16.0 + f64::from(left_w.max(80)) + 12.0;
    let x2 = WIDTH - 16.0 - f64::from(right_w.max(60)) - 10.0 - NODE_W;
    let x1 = (x0 + x2) / 2.0;
    let xs = [x0, x1, x2];

    // One scale for all: the tallest column's tonnes fill PLOT_HEIGHT.
    let column_tonnes = |c: usize| -> f64 {
        g.nodes
            .iter()
            .filter(|n| n.column == c)
            .map(|n| n.tonnes)
            .sum()
    };
    let tallest = (0..3).map(column_tonnes).fold(0.0, f64::max);
    let scale = if tallest > 0.0 {
        PLOT_HEIGHT / tallest
    } else {
        0.0
    };
    let top = f64::from(title_height(&flows.subtitle)) + 34.0;
    let mut ys = vec![0.0; g.nodes.len()];
    let mut next = [top; 3];
    for (n, y) in g.nodes.iter().zip(ys.iter_mut()) {
        *y = next[n.column];
        next[n.column] += n.tonnes * scale + GAP[n.column];
    }
    // Where each band leaves and enters: stacked in node order from the
    // top of each bar.
    let mut out_at = ys.clone();
    let mut in_at = ys.clone();
    let mut bands = Vec::with_capacity(g.links.len());
    let mut order: Vec<usize> = (0..g.links.len()).collect();
    order.sort_by_key(|&k| (g.links[k].from, g.links[k].to));
    let mut ya = vec![0.0; g.links.len()];
    for &k in &order {
        let l = &g.links[k];
        ya[k] = out_at[l.from];
        out_at[l.from] += l.tonnes * scale;
    }
    order.sort_by_key(|&k| (g.links[k].to, g.links[k].from));
    for &k in &order {
        let l = &g.links[k];
        let w = l.tonnes * scale;
        bands.push((k, ya[k], in_at[l.to], w));
        in_at[l.to] += w;
    }
    bands.sort_by_key(|b| b.0);

    // Left labels beside their bars, pushed down to stay a row apart.
    let mut label_y = Vec::new();
    let mut below = f64::NEG_INFINITY;
    for (i, n) in g.nodes.iter().enumerate().filter(|(_, n)| n.column == 0) {
        let mid = ys[i] + n.tonnes * scale / 2.0;
        let y = mid.max(below + LABEL_ROW);
        below = y;
        label_y.push((i, y, mid));
    }
    let bottom = next
        .iter()
        .zip(GAP)
        .map(|(y, gap)| y - gap)
        .chain(label_y.iter().map(|&(_, y, _)| y + LABEL_ROW / 2.0))
        .fold(top, f64::max);
    let height = (bottom + 24.0).ceil();

    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n<title>{}</title>\n\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#FFFFFF\" stroke=\"none\"/>",
        esc(&describe_flows(flows))
    );
    text_el(&mut o, (16.0, 12.0), "start", "0.76em", TITLE, &flows.title);
    if !flows.subtitle.is_empty() {
        text_el(
            &mut o,
            (16.0, 40.0),
            "start",
            "0.76em",
            SUBTITLE,
            &flows.subtitle,
        );
    }
    if g.nodes.is_empty() {
        text_el(
            &mut o,
            (WIDTH / 2.0, top),
            "middle",
            "0.5ex",
            Type {
                color: MUTED,
                ..LABEL
            },
            "no flows over the horizon",
        );
    }
    for &(k, ya, yb, w) in &bands {
        let l = &g.links[k];
        let (from, to) = (&g.nodes[l.from], &g.nodes[l.to]);
        let xa = xs[from.column] + NODE_W;
        let xb = xs[to.column];
        let xm = (xa + xb) / 2.0;
        let dashed = if from.paint == Paint::Unaccounted || to.paint == Paint::Unaccounted {
            format!(
                " stroke=\"{}\" stroke-dasharray=\"4 3\" stroke-width=\"1\"",
                hex(MUTED)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "<path class=\"band\" data-from=\"{}\" data-to=\"{}\" data-tonnes=\"{}\" \
             data-width=\"{w}\" d=\"M{xa:.2},{ya:.2} C{xm:.2},{ya:.2} {xm:.2},{yb:.2} \
             {xb:.2},{yb:.2} L{xb:.2},{:.2} C{xm:.2},{:.2} {xm:.2},{:.2} {xa:.2},{:.2} Z\" \
             fill=\"{}\" fill-opacity=\"0.75\"{dashed}><title>{}</title></path>",
            from.key,
            to.key,
            l.tonnes,
            yb + w,
            yb + w,
            ya + w,
            ya + w,
            hex(from.band),
            esc(&format!(
                "{} to {}: {} t",
                from.label,
                to.label,
                num(l.tonnes)
            ))
        );
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let h = n.tonnes * scale;
        let _ = writeln!(
            o,
            "<rect class=\"node\" data-node=\"{}\" data-tonnes=\"{}\" data-height=\"{h}\" \
             x=\"{:.2}\" y=\"{:.2}\" width=\"{NODE_W}\" height=\"{:.2}\" fill=\"{}\">\
             <title>{}</title></rect>",
            n.key,
            n.tonnes,
            xs[n.column],
            ys[i],
            h.max(1.0),
            hex(n.paint.colors().1),
            esc(&said(n))
        );
    }
    // Labels: left of the inflows, above the middle bars, right of demand.
    for &(i, y, mid) in &label_y {
        let label = fit_said(&g.nodes[i], LABEL.size, MAX_LEFT_LABEL)?;
        text_el(&mut o, (x0 - 10.0, y), "end", "0.5ex", LABEL, &label);
        if (y - mid).abs() > 1.0 {
            let _ = writeln!(
                o,
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1\" \
                 points=\"{:.1},{y:.1} {:.1},{mid:.1}\"/>",
                hex(MUTED),
                x0 - 8.0,
                x0 - 1.0
            );
        }
    }
    let middle_room = (x2 - x1 - 12.0).max(40.0) as u32;
    for (i, n) in g.nodes.iter().enumerate().filter(|(_, n)| n.column == 1) {
        let label = fit_said(n, LABEL.size, middle_room)?;
        text_el(&mut o, (x1, ys[i] - 8.0), "start", "0", LABEL_OVER, &label);
    }
    for (i, n) in g.nodes.iter().enumerate().filter(|(_, n)| n.column == 2) {
        let mid = ys[i] + n.tonnes * scale / 2.0;
        text_el(
            &mut o,
            (x2 + NODE_W + 10.0, mid),
            "start",
            "0.5ex",
            LABEL,
            &said(n),
        );
    }
    o.push_str("</svg>\n");
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flows(inflows: Vec<Flow>, not_used: f64, consumption: f64, unmet: Vec<Flow>) -> Flows {
        Flows {
            title: "t".into(),
            subtitle: String::new(),
            inflows,
            not_used,
            consumption,
            unmet,
        }
    }

    #[test]
    fn imports_split_by_share_and_region() {
        let f = imports_by_source(90.0, [("A", 0.5), ("B", 0.25), ("A", 0.25)]);
        let got: Vec<(&str, f64)> = f.iter().map(|f| (f.label.as_str(), f.tonnes)).collect();
        // A: 0.75 of 90, B: 0.25 of 90.
        assert_eq!(got, [("imports from A", 67.5), ("imports from B", 22.5)]);
        assert!(imports_by_source(10.0, []).is_empty());
    }

    #[test]
    fn a_difference_nothing_explains_is_drawn_not_hidden() {
        // 50 in, users get 60: 10 t come from nowhere the flows say.
        let g = graph(&flows(
            vec![Flow::new("imports from A", 50.0, Family::Imports)],
            0.0,
            60.0,
            vec![],
        ));
        let n = g.nodes.iter().find(|n| n.key == "unaccounted-in").unwrap();
        assert_eq!(n.tonnes, 10.0);
        // 50 in, users get 40: 10 t go nowhere the flows say.
        let g = graph(&flows(
            vec![Flow::new("imports from A", 50.0, Family::Imports)],
            0.0,
            40.0,
            vec![],
        ));
        let n = g.nodes.iter().find(|n| n.key == "unaccounted-out").unwrap();
        assert_eq!(n.tonnes, 10.0);
    }

    #[test]
    fn domestic_output_not_used_leaves_from_the_domestic_inflows() {
        // 30 refinery + 10 recycling, 8 of it not used: 6 and 2.
        let g = graph(&flows(
            vec![
                Flow::new("imports from A", 20.0, Family::Imports),
                Flow::new("refinery", 30.0, Family::Domestic),
                Flow::new("recycling", 10.0, Family::Domestic),
            ],
            8.0,
            52.0,
            vec![],
        ));
        let to_not_used: Vec<f64> = g
            .links
            .iter()
            .filter(|l| g.nodes[l.to].key == "not-used")
            .map(|l| l.tonnes)
            .collect();
        assert_eq!(to_not_used, [6.0, 2.0]);
        assert!(g.nodes.iter().all(|n| n.paint != Paint::Unaccounted));
    }

    #[test]
    fn nothing_at_all_still_draws() {
        let svg = sankey(&flows(vec![], 0.0, 0.0, vec![])).unwrap();
        assert!(svg.contains("no flows over the horizon"));
        assert!(!svg.contains("class=\"band\""));
    }
}
