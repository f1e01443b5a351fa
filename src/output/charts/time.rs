//! Fan charts: a variable's median and percentile bands over time.

use super::{
    axis_top, draw_legend, draw_line, draw_title, legend_height, render, text, title_height, Chart,
    ChartError, Dash, Draw, DrawResult, Swatch, FONT, GRID, INK,
};
use crate::report::num;
use crate::report::StepRow;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// A colour family for the bands of a fan. Each goes from a light outer
/// band through a middle band to a dark median line, so that bands and line
/// stay apart in grey print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Supply.
    Blue,
    /// Stocks.
    Green,
    /// Domestic production.
    Orange,
}

impl Tone {
    /// (outer band, inner band, median line).
    pub(super) fn colors(self) -> (RGBColor, RGBColor, RGBColor) {
        match self {
            Tone::Blue => (
                RGBColor(206, 223, 241),
                RGBColor(124, 170, 214),
                RGBColor(8, 48, 107),
            ),
            Tone::Green => (
                RGBColor(210, 236, 205),
                RGBColor(121, 191, 124),
                RGBColor(0, 68, 27),
            ),
            Tone::Orange => (
                RGBColor(253, 222, 192),
                RGBColor(244, 160, 92),
                RGBColor(127, 39, 4),
            ),
        }
    }
}

/// One variable's per-step statistics: `rows[t]` belongs to the step that
/// starts at `starts[t]` of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Fan {
    /// What the variable is ("supply"); used in the legend.
    pub label: String,
    /// Mean and percentiles 5, 25, 50, 75, 95 per step, in the chart's unit.
    pub rows: Vec<StepRow>,
}

/// A fan chart: one variable drawn as a median line inside its 25-75 % and
/// 5-95 % bands, optionally against a reference variable (e.g. demand) drawn
/// as lines only: its median dashed and its 5 % and 95 % dotted.
#[derive(Debug, Clone, PartialEq)]
pub struct FanChart {
    /// Title, top left.
    pub title: String,
    /// One line under the title (units, number of runs), may be empty.
    pub subtitle: String,
    /// Vertical axis label, with the unit.
    pub y_label: String,
    /// Time axis range, decimal years (e.g. 2025 to 2040).
    pub x_range: (f64, f64),
    /// Decimal year at which each row's step starts.
    pub starts: Vec<f64>,
    /// Length of a step, years (1/12 for monthly steps).
    pub step: f64,
    /// The variable drawn with bands.
    pub fan: Fan,
    /// A variable drawn for comparison, as lines.
    pub reference: Option<Fan>,
    /// Colours of the bands.
    pub tone: Tone,
}

/// Draws a fan chart (1000 x 560 pixels).
///
/// # Errors
/// [`ChartError`] if drawing or encoding fails.
pub fn fan(chart: &FanChart) -> Result<Chart, ChartError> {
    render(chart)
}

/// Dark grey of the reference lines: darker than every band, lighter than
/// black text.
const REFERENCE: RGBColor = RGBColor(40, 40, 40);

impl Draw for FanChart {
    fn size(&self) -> (u32, u32) {
        (1000, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (outer, inner, line) = self.tone.colors();
        let label = &self.fan.label;
        let mut legend = vec![
            (
                Swatch::Line(line, 3, Dash::Solid),
                format!("{label}: median"),
            ),
            (
                Swatch::Fill(inner),
                format!("{label}: middle 50 % (p25-p75)"),
            ),
            (Swatch::Fill(outer), format!("{label}: 90 % (p5-p95)")),
        ];
        if let Some(r) = &self.reference {
            legend.push((
                Swatch::Line(REFERENCE, 2, Dash::Dashed(9, 5)),
                format!("{}: median", r.label),
            ));
            legend.push((
                Swatch::Line(REFERENCE, 1, Dash::Dashed(3, 3)),
                format!("{}: p5 and p95", r.label),
            ));
        }

        let y_label_w = 96;
        let (top, rest) = root.split_vertically(title_height(&self.subtitle));
        let lh = legend_height(root, &legend, y_label_w)?;
        let h = rest.dim_in_pixel().1;
        let (plot, bottom) = rest.split_vertically(h - lh);
        draw_title(&top, &self.title, &self.subtitle)?;
        draw_legend(&bottom, &legend, y_label_w)?;

        let max = self
            .fan
            .rows
            .iter()
            .chain(self.reference.iter().flat_map(|r| &r.rows))
            .map(|r| r.p[4].max(r.mean))
            .fold(0.0, f64::max);
        let (x0, x1) = self.x_range;
        let mut chart = ChartBuilder::on(&plot)
            .margin_left(14)
            .margin_right(28)
            .margin_top(6)
            .x_label_area_size(46)
            .y_label_area_size(y_label_w)
            .build_cartesian_2d(0.0..(x1 - x0), 0.0..axis_top(max))?;
        // The axis counts years from the start, so that plotters' round tick
        // steps (1, 2, 5, ... years, at most one tick a year) fall on the
        // start year and every k years after it; labels add the start back.
        let span_years = (x1 - x0).round().max(1.0) as usize;
        chart
            .configure_mesh()
            .x_labels((span_years + 1).min(9))
            .y_labels(7)
            .x_label_formatter(&|x| format!("{:.0}", x0 + x))
            .y_label_formatter(&|y| num(*y))
            .x_desc("year")
            .y_desc(self.y_label.as_str())
            .label_style(text(14, INK, HPos::Center, VPos::Center))
            .axis_desc_style((FONT, 16))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(INK)
            .draw()?;

        // Each row holds over its whole step, so it is drawn flat from the
        // step's start to its end: the chart spans the axis whatever the
        // step length, and a yearly value does not pose as a point in time.
        let spans: Vec<(f64, f64)> = self
            .starts
            .iter()
            .map(|s| (s - x0, s - x0 + self.step))
            .collect();
        let steps = |rows: &[StepRow], k: usize| -> Vec<(f64, f64)> {
            spans
                .iter()
                .zip(rows)
                .flat_map(|(&(a, b), r)| [(a, r.p[k]), (b, r.p[k])])
                .collect()
        };
        let band = |lo: usize, hi: usize| -> Vec<(f64, f64)> {
            let mut pts = steps(&self.fan.rows, hi);
            pts.extend(steps(&self.fan.rows, lo).into_iter().rev());
            pts
        };
        chart.draw_series(std::iter::once(Polygon::new(band(0, 4), outer.filled())))?;
        chart.draw_series(std::iter::once(Polygon::new(band(1, 3), inner.filled())))?;
        draw_line(&mut chart, steps(&self.fan.rows, 2), line, 3, Dash::Solid)?;
        if let Some(r) = &self.reference {
            for k in [0, 4] {
                draw_line(
                    &mut chart,
                    steps(&r.rows, k),
                    REFERENCE,
                    1,
                    Dash::Dashed(3, 3),
                )?;
            }
            draw_line(
                &mut chart,
                steps(&r.rows, 2),
                REFERENCE,
                2,
                Dash::Dashed(9, 5),
            )?;
        }
        Ok(())
    }
}
