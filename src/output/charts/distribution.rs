//! The distribution of a per-run total: a histogram and an exceedance curve
//! side by side, with the 95th percentile and the tail mean marked.

use super::{
    axis_top, draw_legend, draw_line, draw_title, legend_height, render, text, title_height, Chart,
    ChartError, Dash, Draw, DrawResult, Swatch, FONT, GRID, INK, MUTED,
};
use crate::report::num;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// The data of a shortfall distribution chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ShortfallChart {
    /// Title, top left.
    pub title: String,
    /// What the values are ("total shortfall", "welfare loss").
    pub quantity: String,
    /// Unit of the values ("t").
    pub unit: String,
    /// One value per run (total shortfall), any order.
    pub values: Vec<f64>,
    /// The 95th percentile of `values`, marked on both panels.
    pub p95: f64,
    /// The mean of the worst 5 % of `values`, marked on both panels.
    pub cvar95: f64,
}

/// Draws a shortfall distribution chart (1100 x 520 pixels). The histogram
/// counts only the runs with a shortfall (their share is in its title), so
/// that the runs without one, often most of them, do not flatten it.
///
/// # Errors
/// [`ChartError`] if drawing or encoding fails.
pub fn shortfall(chart: &ShortfallChart) -> Result<Chart, ChartError> {
    render(chart)
}

/// Bars of the histogram.
const BINS: usize = 40;
/// Points of the exceedance curve.
const CURVE_POINTS: usize = 400;

const BAR: RGBColor = RGBColor(124, 170, 214);
const BAR_EDGE: RGBColor = RGBColor(8, 81, 156);
const CURVE: RGBColor = RGBColor(8, 48, 107);
const P95: RGBColor = RGBColor(20, 20, 20);
const CVAR: RGBColor = RGBColor(165, 15, 21);

impl Draw for ShortfallChart {
    fn size(&self) -> (u32, u32) {
        (1100, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let n = self.values.len();
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        let positive: Vec<f64> = sorted.iter().copied().filter(|&v| v > 0.0).collect();
        let share_short = positive.len() as f64 / n.max(1) as f64;
        let unit = &self.unit;
        let subtitle = format!(
            "{} simulated futures; {} % of them have a {} above zero",
            num(n as f64),
            num((1000.0 * share_short).round() / 10.0),
            self.quantity
        );
        let legend = vec![
            (
                Swatch::Line(P95, 2, Dash::Dashed(9, 5)),
                format!("p95 = {} {unit}: exceeded in 5 % of futures", num(self.p95)),
            ),
            (
                Swatch::Line(CVAR, 2, Dash::Dashed(3, 3)),
                format!(
                    "cvar95 = {} {unit}: mean of the worst 5 %",
                    num(self.cvar95)
                ),
            ),
        ];
        let (top, rest) = root.split_vertically(title_height(&subtitle));
        let lh = legend_height(root, &legend, 90)?;
        let h = rest.dim_in_pixel().1;
        let (panels, bottom) = rest.split_vertically(h - lh);
        draw_title(&top, &self.title, &subtitle)?;
        draw_legend(&bottom, &legend, 90)?;
        let (left, right) = panels.split_horizontally(550);

        let x_max = axis_top(sorted.last().copied().unwrap_or(0.0).max(self.cvar95));
        let x_desc = format!("{} ({unit})", self.quantity);
        let mark = |chart: &mut ChartContext<'_, DB, _>, y_top: f64| -> DrawResult<DB> {
            draw_line(
                chart,
                vec![(self.p95, 0.0), (self.p95, y_top)],
                P95,
                2,
                Dash::Dashed(9, 5),
            )?;
            draw_line(
                chart,
                vec![(self.cvar95, 0.0), (self.cvar95, y_top)],
                CVAR,
                2,
                Dash::Dashed(3, 3),
            )
        };

        // Histogram of the runs with a shortfall, as a share of all runs.
        let width = x_max / BINS as f64;
        let mut counts = [0usize; BINS];
        for &v in &positive {
            counts[((v / width) as usize).min(BINS - 1)] += 1;
        }
        let pct = |c: usize| 100.0 * c as f64 / n.max(1) as f64;
        let y_max = axis_top(counts.iter().map(|&c| pct(c)).fold(0.0, f64::max));
        let mut hist = panel(
            &left,
            "How large, when there is one",
            (x_max, y_max),
            (x_desc.as_str(), "share of all futures (%)"),
        )?;
        hist.draw_series(
            counts
                .iter()
                .enumerate()
                .filter(|(_, &c)| c > 0)
                .map(|(i, &c)| {
                    let x = i as f64 * width;
                    Rectangle::new([(x, 0.0), (x + width, pct(c))], BAR.filled())
                }),
        )?;
        hist.draw_series(
            counts
                .iter()
                .enumerate()
                .filter(|(_, &c)| c > 0)
                .map(|(i, &c)| {
                    let x = i as f64 * width;
                    Rectangle::new([(x, 0.0), (x + width, pct(c))], BAR_EDGE.stroke_width(1))
                }),
        )?;
        if positive.is_empty() {
            left.draw_text(
                "no future has a shortfall",
                &text(16, MUTED, HPos::Center, VPos::Center),
                (
                    left.dim_in_pixel().0 as i32 / 2,
                    left.dim_in_pixel().1 as i32 / 2,
                ),
            )?;
        }
        mark(&mut hist, y_max)?;

        // Exceedance: P(total > x), in %, on a grid of x.
        let curve: Vec<(f64, f64)> = (0..=CURVE_POINTS)
            .map(|k| {
                let x = x_max * k as f64 / CURVE_POINTS as f64;
                let above = n - sorted.partition_point(|&v| v <= x);
                (x, 100.0 * above as f64 / n.max(1) as f64)
            })
            .collect();
        let y_max = axis_top(100.0 * share_short).min(105.0);
        let mut exc = panel(
            &right,
            "How likely to exceed a given amount",
            (x_max, y_max),
            (x_desc.as_str(), "probability of exceeding (%)"),
        )?;
        if y_max > 5.0 {
            draw_line(
                &mut exc,
                vec![(0.0, 5.0), (x_max, 5.0)],
                MUTED,
                1,
                Dash::Solid,
            )?;
            exc.draw_series(std::iter::once(
                EmptyElement::at((x_max, 5.0))
                    + Text::new("5 %", (-4, -10), text(13, MUTED, HPos::Right, VPos::Center)),
            ))?;
        }
        draw_line(&mut exc, curve, CURVE, 3, Dash::Solid)?;
        mark(&mut exc, y_max)?;
        Ok(())
    }
}

/// One of the chart's two panels: a caption, axes from 0 to the given
/// maxima, and the house style of labels and grid.
#[allow(clippy::type_complexity)]
fn panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
    (x_max, y_max): (f64, f64),
    (x_desc, y_desc): (&str, &str),
) -> Result<
    ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    DrawingAreaErrorKind<DB::ErrorType>,
> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, text(16, INK, HPos::Center, VPos::Top))
        .margin(10)
        .margin_right(24)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|x| num(*x))
        .y_label_formatter(&|y| num(*y))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(text(14, INK, HPos::Center, VPos::Center))
        .axis_desc_style((FONT, 15))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(INK)
        .draw()?;
    Ok(chart)
}
