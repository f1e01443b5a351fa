//! Charts: each drawn once as SVG and once as PNG, with plotters, into
//! memory. The chart functions take plain data ([`FanChart`],
//! [`ShortfallChart`], label-value pairs, ...) so that later commands can
//! reuse them; [`figures`] picks the charts of one run and says what each
//! shows.
//!
//! Text is drawn with DejaVu Sans, compiled into the program and registered
//! with plotters' `ab_glyph` support, so the PNGs look the same on a machine
//! without any system font. The SVGs name the same family (with `sans-serif`
//! as the fallback) and leave the drawing of text to the viewer.
//!
//! Every chart follows the same conventions, chosen for reports that may be
//! printed in grey: series differ in lightness and dash pattern, not only in
//! hue; the legend sits in its own strip under the plot, never over data;
//! axes say what is measured and in which unit; time axes show whole years.
//!
//! One chart is not drawn with plotters: the flows diagram of the report
//! ([`sankey`]), written as SVG by hand (bands of any shape, and a
//! `data-` attribute per band so that its widths can be checked), with the
//! same font, colours and title strip.

mod backtest;
mod compare;
mod distribution;
mod flows;
mod time;
mod tornado;

pub use backtest::{backtest, BacktestChart, ObservedPoint};
pub use compare::{differences, frontier, Difference, FrontierPoint};
pub use distribution::{shortfall, ShortfallChart};
pub use flows::{
    describe_flows, flow_figures, imports_by_source, material_flows, sankey, Family, Flow,
    FlowFigure, Flows, CONSUMPTION, DEMAND, NOT_USED, UNACCOUNTED, ZERO,
};
pub use time::{fan, Fan, FanChart, Tone};
pub use tornado::tornado;

use crate::output::Artifact;
use crate::report::num;
use crate::report::sensitivity::rank_correlations_all;
use crate::report::{Report, StepRow};
use crate::scenario::Scenario;
use crate::storage::RunTable;
use crate::vocab::{Metric, Variable};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use rayon::prelude::*;
use std::sync::OnceLock;

/// DejaVu Sans 2.37 (Bitstream Vera licence, see `assets/fonts/`).
const FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The family every chart uses. plotters looks fonts up by this exact
/// string, and the SVG backend writes it as the CSS `font-family`, where the
/// comma makes `sans-serif` the fallback for viewers without DejaVu Sans.
pub(crate) const FONT: &str = "DejaVu Sans,sans-serif";

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The embedded font was rejected (cannot happen with the font shipped).
    #[error("the embedded chart font could not be loaded")]
    Font,
    /// plotters failed while drawing.
    #[error("drawing {format} chart: {message}")]
    Draw {
        /// `svg` or `png`.
        format: &'static str,
        /// plotters' description.
        message: String,
    },
    /// The PNG encoder failed.
    #[error("encoding a PNG chart: {0}")]
    Png(#[from] png::EncodingError),
    /// The per-run table could not be read back from its temporary file.
    #[error("reading the per-run table back from its temporary file: {0}")]
    Read(#[from] std::io::Error),
}

/// A chart in both formats.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Width and height in pixels (of the PNG, and of the SVG's view box).
    pub size: (u32, u32),
    /// Standalone SVG document.
    pub svg: String,
    /// PNG image, 8-bit RGB.
    pub png: Vec<u8>,
}

/// One chart of a run, with what the report says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name without extension, inside `charts/` (e.g. `gallium-supply`).
    pub name: String,
    /// The material the chart is about.
    pub material: String,
    /// What the chart shows and how to read it, in one or two sentences.
    pub caption: String,
    /// The drawing.
    pub chart: Chart,
}

impl Figure {
    /// The chart as two output files, `charts/<name>.svg` and `.png`.
    pub fn artifacts(&self) -> [Artifact; 2] {
        [
            Artifact {
                name: format!("charts/{}.svg", self.name),
                bytes: self.chart.svg.clone().into_bytes(),
            },
            Artifact {
                name: format!("charts/{}.png", self.name),
                bytes: self.chart.png.clone(),
            },
        ]
    }
}

/// Parameters shown at most in a sensitivity chart.
const TORNADO_MAX: usize = 12;

/// The charts of one run, material by material: supply against demand over
/// time, the stockpile level (when the material has a stockpile), secondary
/// and refinery supply (when there is any), the distribution of the total
/// shortfall, and the sensitivity of the shortfall to each uncertain input.
///
/// # Errors
/// [`ChartError`] if drawing or encoding fails, or reading a spilled
/// table does.
pub fn figures(
    scenario: &Scenario,
    report: &Report,
    table: &RunTable,
) -> Result<Vec<Figure>, ChartError> {
    let dt = scenario.step().dt();
    let start = f64::from(scenario.start_year());
    let end = start + f64::from(scenario.years());
    let period = format!(
        "{}-{}",
        scenario.start_year(),
        scenario.start_year() + scenario.years() as i32 - 1
    );
    let step = scenario.step().name();
    let runs_note = format!("{} runs, seed {}", num(report.runs as f64), report.seed);
    let sensitivity = rank_correlations_all(table, Metric::ShortfallT)?;
    let one = |m: usize| -> Result<Vec<Figure>, ChartError> {
        let mat = &report.materials[m];
        let mut out = Vec::new();
        let id = &mat.id;
        let rows = |var: Variable, scale: f64| -> Vec<StepRow> {
            (0..report.steps)
                .map(|t| {
                    let r = report.step_row(m, var, t);
                    StepRow {
                        mean: r.mean * scale,
                        p: r.p.map(|v| v * scale),
                    }
                })
                .collect()
        };
        // Flows are per step in the report; charts show them as yearly rates,
        // the unit in which the scenario states them.
        let per_year = 1.0 / dt;
        let mut push = |name: &str, caption: String, chart: Chart| {
            out.push(Figure {
                name: format!("{id}-{name}"),
                material: id.clone(),
                caption,
                chart,
            });
        };

        let supply = FanChart {
            title: format!("{id}: supply against demand, {period}"),
            subtitle: format!(
                "Rates in tonnes per year; bands: middle 50 % and 90 % of simulated futures ({runs_note})"
            ),
            y_label: "tonnes per year".into(),
            x_range: (start, end),
            starts: report.times.clone(),
                step: dt,
            fan: Fan {
                label: "supply".into(),
                rows: rows(Variable::Supply, per_year),
            },
            reference: Some(Fan {
                label: "demand".into(),
                rows: rows(Variable::Demand, per_year),
            }),
            tone: Tone::Blue,
        };
        push(
            "supply",
            format!(
                "Supply of {id} from imports and domestic output (stockpile releases not \
                 included) against demand, {step} by {step}, as yearly rates. Demand itself is \
                 uncertain, hence its p5 and p95 lines. Where the supply bands sag below \
                 demand, some futures are short of {id}; the deeper the sag, the larger the gap."
            ),
            fan(&supply)?,
        );

        if scenario.materials[m].market.clears() {
            let base = scenario.materials[m].price;
            let multiple = |var| {
                let r = rows(var, 1.0);
                r.into_iter()
                    .map(|row| StepRow {
                        mean: row.mean / base,
                        p: row.p.map(|v| v / base),
                    })
                    .collect::<Vec<_>>()
            };
            let chart = FanChart {
                title: format!("{id}: the region's price and the world price, {period}"),
                subtitle: format!(
                    "Multiples of the base price; bands: the region's price, middle 50 % and 90 % \
                     of futures ({runs_note})"
                ),
                y_label: "multiple of the base price".into(),
                x_range: (start, end),
                starts: report.times.clone(),
                step: dt,
                fan: Fan {
                    label: "region's price".into(),
                    rows: multiple(Variable::Price),
                },
                reference: Some(Fan {
                    label: "world price".into(),
                    rows: multiple(Variable::WorldPrice),
                }),
                tone: Tone::Orange,
            };
            push(
                "price",
                format!(
                    "The price of {id} as a multiple of its base price. The world price rises \
                     when an exporter supplies less to every buyer; the region's own price rises \
                     above it when only the region's shipments are cut (an embargo, a blocked \
                     route) and its users bid for what they can still get. Users answer a \
                     higher price by buying less; at the cap, the market rations."
                ),
                fan(&chart)?,
            );
        }

        let has_stock = !scenario.materials[m].stockpiles.is_empty();
        if has_stock {
            let chart = FanChart {
                title: format!("{id}: strategic stockpile level, {period}"),
                subtitle: format!(
                    "Level at the end of each step; bands: middle 50 % and 90 % of futures ({runs_note})"
                ),
                y_label: "tonnes in stock".into(),
                x_range: (start, end),
                starts: report.times.clone(),
                step: dt,
                fan: Fan {
                    label: "stockpile level".into(),
                    rows: rows(Variable::StockpileLevel, 1.0),
                },
                reference: None,
                tone: Tone::Green,
            };
            push(
                "stockpile",
                format!(
                    "Tonnes of {id} held in the strategic stockpile. Dips are releases \
                     during disruptions; the climb back is the refill rule at work. A lower \
                     band that touches zero means the stock runs out in some futures."
                ),
                fan(&chart)?,
            );
        }
        for (var, name, what) in [
            (
                Variable::Secondary,
                "secondary",
                "secondary supply (recycling)",
            ),
            (Variable::Refinery, "refinery", "domestic refinery output"),
        ] {
            let r = rows(var, per_year);
            if r.iter().all(|row| row.mean == 0.0 && row.p[4] == 0.0) {
                continue;
            }
            let chart = FanChart {
                title: format!("{id}: {what}, {period}"),
                subtitle: format!(
                    "Rates in tonnes per year; bands: middle 50 % and 90 % of futures ({runs_note})"
                ),
                y_label: "tonnes per year".into(),
                x_range: (start, end),
                starts: report.times.clone(),
                step: dt,
                fan: Fan {
                    label: what.into(),
                    rows: r,
                },
                reference: Some(Fan {
                    label: "demand".into(),
                    rows: rows(Variable::Demand, per_year),
                }),
                tone: Tone::Orange,
            };
            push(
                name,
                format!("Domestic {what} of {id}, with demand for scale."),
                fan(&chart)?,
            );
        }

        let summary = mat.get(Metric::ShortfallT);
        let dist = ShortfallChart {
            title: format!("{id}: total shortfall over {period}"),
            unit: "t".into(),
            quantity: "total shortfall".into(),
            values: table.column(m, Metric::ShortfallT)?,
            p95: summary.p95,
            cvar95: summary.cvar95,
        };
        push(
            "shortfall",
            format!(
                "Left: how the total shortfall of {id} over {period} is spread across the \
                 futures that have one. Right: the probability that the shortfall exceeds \
                 a given amount. p95 is exceeded in 5 % of futures; cvar95 is the average \
                 shortfall in those worst 5 %."
            ),
            shortfall(&dist)?,
        );

        let welfare = mat.get(Metric::WelfareLossEur);
        if welfare.p95 > 0.0 {
            let dist = ShortfallChart {
                title: format!("{id}: welfare loss over {period}"),
                quantity: "welfare loss".into(),
                unit: "EUR".into(),
                values: table.column(m, Metric::WelfareLossEur)?,
                p95: welfare.p95,
                cvar95: welfare.cvar95,
            };
            push(
                "welfare",
                format!(
                    "Left: how the welfare loss of {id} over {period} (present value) is spread \
                     across the futures that have one. The welfare loss is the price cost (what \
                     users lose because the price is higher: the extra bill on what they still \
                     buy, and the value of what they give up) less what domestic producers gain \
                     from the higher price, plus the shortage cost of tonnes rationed at the \
                     price cap. Right: the probability that it exceeds a given amount."
                ),
                shortfall(&dist)?,
            );
        }

        let bars: Vec<(String, f64)> = sensitivity[m]
            .iter()
            .filter(|c| affects(scenario, m, &c.name))
            .take(TORNADO_MAX)
            .map(|c| (param_label(&c.name, id), c.rho))
            .collect();
        push(
            "sensitivity",
            format!(
                "Which uncertain inputs drive the shortfall of {id}: the Spearman rank \
                 correlation of each input drawn per run with the run's total shortfall. \
                 Bars to the right: more of this input, more shortfall. Longest bar first; \
                 at most {TORNADO_MAX} inputs."
            ),
            tornado(
                &format!("{id}: what drives the total shortfall"),
                "Spearman rank correlation with total shortfall",
                "shortfall",
                &bars,
            )?,
        );
        Ok(out)
    };
    // Materials are drawn in parallel on the caller's rayon pool; the
    // figures keep the materials' order.
    let per_material: Vec<_> = (0..report.materials.len())
        .into_par_iter()
        .map(one)
        .collect();
    let mut out = Vec::new();
    for figs in per_material {
        out.extend(figs?);
    }
    Ok(out)
}

/// Whether the per-run parameter `name` (a field path) can move material
/// `m`: its own fields, the disruptions that hit it, the products that
/// contain it (their recovery of this material only) and its refineries.
/// Other parameters would only add noise-level bars.
fn affects(scenario: &Scenario, m: usize, name: &str) -> bool {
    let id = &scenario.materials[m].id;
    if name.starts_with("material[") {
        return name.starts_with(&format!("material[{id}]."));
    }
    if let Some(p) = scenario
        .products
        .iter()
        .find(|p| name.starts_with(&format!("product[{}].", p.id)))
    {
        let contains = p.contents.iter().any(|c| c.material == m);
        return match name.split_once(".recovery.") {
            Some((_, of)) => contains && of == id,
            None => contains,
        };
    }
    if let Some(r) = scenario
        .refineries
        .iter()
        .find(|r| name.starts_with(&format!("refinery[{}].", r.name)))
    {
        return r.material == m;
    }
    match scenario
        .disruptions
        .iter()
        .find(|d| name.starts_with(&format!("disruption[{}].", d.name)))
    {
        Some(d) => d.materials.contains(&m),
        None => true,
    }
}

/// A field path made readable in a chart about material `id`:
/// `material[gallium].source[CN].spare_capacity` -> `CN spare capacity`,
/// `disruption[Red Sea].rate_per_year` -> `Red Sea: events per year`.
fn param_label(name: &str, id: &str) -> String {
    let own = format!("material[{id}].");
    if let Some(rest) = name.strip_prefix(&own) {
        return match rest {
            "demand_tpy" => "demand (t/yr at start)".into(),
            "demand_growth" => "demand growth per year".into(),
            _ => match rest
                .strip_prefix("source[")
                .and_then(|r| r.split_once("]."))
            {
                Some((region, field)) => format!("{region} {}", field.replace('_', " ")),
                None => rest.replace('_', " "),
            },
        };
    }
    if let Some(rest) = name.strip_prefix("disruption[") {
        if let Some((what, field)) = rest.rsplit_once("].") {
            let field = match field {
                "rate_per_year" => "events per year".to_string(),
                f => f.replace('_', " "),
            };
            return format!("{what}: {field}");
        }
    }
    for prefix in ["product[", "refinery["] {
        if let Some((what, field)) = name.strip_prefix(prefix).and_then(|r| r.split_once("].")) {
            let field = match field.split_once('.') {
                Some(("recovery", _)) => "recovery".to_string(),
                Some(("lifetime", p)) => format!("lifetime {p}"),
                _ => field.replace('_', " "),
            };
            return format!("{what}: {field}");
        }
    }
    name.to_string()
}

// ---------------------------------------------------------------- drawing

/// The result of drawing on backend `DB`.
type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Something that can draw itself on any backend; [`render`] draws it twice.
trait Draw {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the whole chart on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Registers the embedded font with plotters (once); every chart, SVG
/// included, measures its text with it.
pub(crate) fn font_ready() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

/// Draws `chart` as SVG and as PNG.
fn render(chart: &impl Draw) -> Result<Chart, ChartError> {
    font_ready()?;
    let size = chart.size();
    let draw_err = |format: &'static str| {
        move |e: &dyn std::fmt::Display| ChartError::Draw {
            format,
            message: e.to_string(),
        }
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        chart.draw(&root).map_err(|e| draw_err("svg")(&e))?;
        root.present().map_err(|e| draw_err("svg")(&e))?;
    }
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        chart.draw(&root).map_err(|e| draw_err("png")(&e))?;
        root.present().map_err(|e| draw_err("png")(&e))?;
    }
    Ok(Chart {
        size,
        svg,
        png: encode_png(&rgb, size)?,
    })
}

/// An 8-bit RGB bitmap of `size` as PNG bytes, as every chart is written.
///
/// # Errors
/// What the encoder reports.
pub(crate) fn encode_png(rgb: &[u8], size: (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    let mut enc = png::Encoder::new(&mut bytes, size.0, size.1);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    // The same pixels as the default compression, in files about half as
    // large again, in a fifth to a third of the time: the compression was
    // most of the charts' time, a large part of a small study's fixed cost
    // (the levels and filters measured are in docs/performance.md, "The
    // charts' PNG compression").
    enc.set_deflate_compression(png::DeflateCompression::Level(1));
    enc.set_filter(png::Filter::Up);
    let mut w = enc.write_header()?;
    w.write_image_data(rgb)?;
    w.finish()?;
    Ok(bytes)
}

/// Near-black for text and axes.
const INK: RGBColor = RGBColor(33, 33, 33);
/// Grey for secondary text.
const MUTED: RGBColor = RGBColor(90, 90, 90);
/// Grid lines.
const GRID: RGBColor = RGBColor(228, 228, 228);

/// Text in the chart font.
fn text(size: u32, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle {
        font: (FONT, size).into_font(),
        color: color.to_backend_color(),
        pos: Pos::new(h, v),
    }
}

/// Height of the title strip for a title and an optional subtitle.
fn title_height(subtitle: &str) -> u32 {
    if subtitle.is_empty() {
        44
    } else {
        66
    }
}

/// Draws a title (and a subtitle under it, in grey) at the top left of
/// `area`, which should be [`title_height`] tall.
fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> DrawResult<DB> {
    area.draw_text(title, &text(22, INK, HPos::Left, VPos::Top), (16, 12))?;
    if !subtitle.is_empty() {
        area.draw_text(subtitle, &text(15, MUTED, HPos::Left, VPos::Top), (16, 40))?;
    }
    Ok(())
}

/// How a line is drawn: solid, or dashed with (dash, gap) in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dash {
    Solid,
    Dashed(u32, u32),
}

/// A legend entry's sample: a filled box, a line, or a dot (filled or
/// hollow).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Swatch {
    Fill(RGBColor),
    Line(RGBColor, u32, Dash),
    Dot(RGBColor, bool),
}

const LEGEND_ROW: u32 = 26;
const SWATCH_W: i32 = 30;

/// Lays out `entries` left to right from `x0`, wrapping before `width`:
/// returns each entry's (x, row).
fn legend_layout<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    x0: i32,
) -> Result<Vec<(i32, u32)>, DrawingAreaErrorKind<DB::ErrorType>> {
    let width = area.dim_in_pixel().0 as i32 - 16;
    let style = text(14, INK, HPos::Left, VPos::Center);
    let (mut x, mut row) = (x0, 0);
    let mut out = Vec::with_capacity(entries.len());
    for (_, label) in entries {
        let w = SWATCH_W + 8 + area.estimate_text_size(label, &style)?.0 as i32 + 24;
        if x > x0 && x + w > width {
            x = x0;
            row += 1;
        }
        out.push((x, row));
        x += w;
    }
    Ok(out)
}

/// Height of the legend strip for `entries`.
fn legend_height<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    x0: i32,
) -> Result<u32, DrawingAreaErrorKind<DB::ErrorType>> {
    let rows = legend_layout(area, entries, x0)?
        .last()
        .map_or(0, |&(_, r)| r + 1);
    Ok(rows * LEGEND_ROW + 12)
}

/// Draws the legend in its own strip (never over data).
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, String)],
    x0: i32,
) -> DrawResult<DB> {
    let style = text(14, INK, HPos::Left, VPos::Center);
    for ((swatch, label), (x, row)) in entries.iter().zip(legend_layout(area, entries, x0)?) {
        let y = 6 + (row * LEGEND_ROW) as i32 + LEGEND_ROW as i32 / 2;
        match *swatch {
            Swatch::Fill(c) => {
                area.draw(&Rectangle::new(
                    [(x, y - 7), (x + SWATCH_W, y + 7)],
                    c.filled(),
                ))?;
            }
            Swatch::Line(c, w, dash) => {
                let pts = vec![(x, y), (x + SWATCH_W, y)];
                let st = c.stroke_width(w);
                match dash {
                    Dash::Solid => area.draw(&PathElement::new(pts, st))?,
                    Dash::Dashed(d, g) => area.draw(&DashedPathElement::new(pts, d, g, st))?,
                }
            }
            Swatch::Dot(c, filled) => {
                let st = if filled {
                    c.filled()
                } else {
                    c.stroke_width(2)
                };
                area.draw(&Circle::new((x + SWATCH_W / 2, y), 6, st))?;
            }
        }
        area.draw_text(label, &style, (x + SWATCH_W + 8, y))?;
    }
    Ok(())
}

/// Writes row labels right-aligned just left of a chart's plotting area:
/// `labels[k]` beside row `labels.len() - 1 - k` (so the first is on top),
/// where rows are the whole numbers of the vertical axis. On `root`, whose
/// pixels are the backend's.
fn draw_row_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    labels: &[String],
) -> DrawResult<DB> {
    let x_left = chart.x_range().start;
    let style = text(14, INK, HPos::Right, VPos::Center);
    for (k, label) in labels.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(x_left, (labels.len() - 1 - k) as f64));
        root.draw_text(label, &style, (x - 10, y))?;
    }
    Ok(())
}

/// Draws a line in chart coordinates, solid or dashed.
fn draw_line<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    points: Vec<(X::ValueType, Y::ValueType)>,
    color: RGBColor,
    width: u32,
    dash: Dash,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
    X::ValueType: Clone + 'static,
    Y::ValueType: Clone + 'static,
{
    let style = color.stroke_width(width);
    match dash {
        Dash::Solid => {
            chart.draw_series(std::iter::once(PathElement::new(points, style)))?;
        }
        Dash::Dashed(d, g) => {
            chart.draw_series(std::iter::once(DashedPathElement::new(points, d, g, style)))?;
        }
    }
    Ok(())
}

/// The upper end of an axis that starts at 0 and must show `max`: a little
/// headroom, and a positive span even when everything is 0.
fn axis_top(max: f64) -> f64 {
    if max > 0.0 && max.is_finite() {
        max * 1.08
    } else {
        1.0
    }
}

/// Shortens `s` to at most `max_px` pixels in `style`, ending it with "…".
/// The layout of a chart with one labelled row per item: the labels fitted
/// to `max_label` pixels and the width of their column, then the title on
/// top and the legend at the bottom drawn, and the plot area between them
/// returned.
#[allow(clippy::type_complexity)]
fn row_chart_frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    labels: impl Iterator<Item = &'a str>,
    label_style: &TextStyle<'_>,
    max_label: u32,
    (title, subtitle): (&str, &str),
    legend: &[(Swatch, String)],
) -> Result<(Vec<String>, u32, DrawingArea<DB, Shift>), DrawingAreaErrorKind<DB::ErrorType>> {
    let labels = labels
        .map(|l| fit_text(root, l, label_style, max_label))
        .collect::<Result<Vec<_>, _>>()?;
    let label_w = labels
        .iter()
        .map(|l| root.estimate_text_size(l, label_style).map(|s| s.0))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .max()
        .unwrap_or(0)
        .max(60)
        + 24;
    let (top, rest) = root.split_vertically(title_height(subtitle));
    let lh = legend_height(root, legend, label_w as i32)?;
    let h = rest.dim_in_pixel().1;
    let (plot, bottom) = rest.split_vertically(h - lh);
    draw_title(&top, title, subtitle)?;
    draw_legend(&bottom, legend, label_w as i32)?;
    Ok((labels, label_w, plot))
}

fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    style: &TextStyle<'_>,
    max_px: u32,
) -> Result<String, DrawingAreaErrorKind<DB::ErrorType>> {
    if area.estimate_text_size(s, style)?.0 <= max_px {
        return Ok(s.to_string());
    }
    let chars: Vec<char> = s.chars().collect();
    let mut n = chars.len();
    while n > 1 {
        n -= 1;
        let cand: String = chars[..n].iter().collect::<String>().trim_end().to_string() + "…";
        if area.estimate_text_size(&cand, style)?.0 <= max_px {
            return Ok(cand);
        }
    }
    Ok("…".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_as_words() {
        assert_eq!(
            param_label("material[gallium].source[CN].spare_capacity", "gallium"),
            "CN spare capacity"
        );
        assert_eq!(
            param_label("material[gallium].demand_growth", "gallium"),
            "demand growth per year"
        );
        assert_eq!(
            param_label("disruption[Red Sea [x]].rate_per_year", "gallium"),
            "Red Sea [x]: events per year"
        );
        assert_eq!(
            param_label("product[pem-stacks].recovery.iridium", "iridium"),
            "pem-stacks: recovery"
        );
        assert_eq!(
            param_label("product[pem-stacks].lifetime.scale", "iridium"),
            "pem-stacks: lifetime scale"
        );
        assert_eq!(
            param_label("refinery[ge-residues].utilization", "germanium"),
            "ge-residues: utilization"
        );
        assert_eq!(param_label("other[pem].x", "gallium"), "other[pem].x");
    }
}
