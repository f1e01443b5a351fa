//! The backtest chart: a simulated fan with the observed points on it.

use super::{
    axis_top, draw_legend, draw_line, draw_title, legend_height, render, text, title_height, Chart,
    ChartError, Dash, Draw, DrawResult, Swatch, Tone, FONT, GRID, INK,
};
use crate::report::num;
use crate::report::StepRow;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One observed point: the period it covers and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedPoint {
    /// Decimal year at which the period starts.
    pub start: f64,
    /// Decimal year at which it ends.
    pub end: f64,
    /// The observed value, in the chart's unit.
    pub value: f64,
    /// Whether it is inside the simulated 5-95 % band.
    pub inside: bool,
}

/// A backtest chart: the simulated median, 25-75 % and 5-95 % bands of a
/// variable over the episode, and the observed points (filled inside the
/// 5-95 % band, hollow outside; a bar under a point spanning more than one
/// step marks the period it averages).
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestChart {
    /// Title, top left.
    pub title: String,
    /// One line under the title.
    pub subtitle: String,
    /// Vertical axis label, with the unit.
    pub y_label: String,
    /// Time axis range, decimal years.
    pub x_range: (f64, f64),
    /// Decimal year at which each row's step starts.
    pub starts: Vec<f64>,
    /// Length of a step, years.
    pub step: f64,
    /// The simulated statistics per step.
    pub rows: Vec<StepRow>,
    /// The observed points.
    pub points: Vec<ObservedPoint>,
}

/// Draws a backtest chart (1000 x 560 pixels).
///
/// # Errors
/// [`ChartError`] if drawing or encoding fails.
pub fn backtest(chart: &BacktestChart) -> Result<Chart, ChartError> {
    render(chart)
}

/// The observed points: black, filled or hollow.
const POINT: RGBColor = RGBColor(0, 0, 0);

impl Draw for BacktestChart {
    fn size(&self) -> (u32, u32) {
        (1000, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (outer, inner, line) = Tone::Blue.colors();
        let legend = vec![
            (
                Swatch::Line(line, 3, Dash::Solid),
                "simulated median".to_string(),
            ),
            (Swatch::Fill(inner), "middle 50 % (p25-p75)".to_string()),
            (Swatch::Fill(outer), "90 % (p5-p95)".to_string()),
            (
                Swatch::Dot(POINT, true),
                "observed, inside p5-p95".to_string(),
            ),
            (Swatch::Dot(POINT, false), "observed, outside".to_string()),
        ];
        let y_label_w = 96;
        let (top, rest) = root.split_vertically(title_height(&self.subtitle));
        let lh = legend_height(root, &legend, y_label_w)?;
        let h = rest.dim_in_pixel().1;
        let (plot, bottom) = rest.split_vertically(h - lh);
        draw_title(&top, &self.title, &self.subtitle)?;
        draw_legend(&bottom, &legend, y_label_w)?;

        let max = self
            .rows
            .iter()
            .map(|r| r.p[4])
            .chain(self.points.iter().map(|p| p.value))
            .filter(|x| x.is_finite())
            .fold(0.0, f64::max);
        let (x0, x1) = self.x_range;
        let mut chart = ChartBuilder::on(&plot)
            .margin_left(14)
            .margin_right(28)
            .margin_top(6)
            .x_label_area_size(46)
            .y_label_area_size(y_label_w)
            .build_cartesian_2d(0.0..(x1 - x0), 0.0..axis_top(max))?;
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

        let spans: Vec<(f64, f64)> = self
            .starts
            .iter()
            .map(|s| (s - x0, s - x0 + self.step))
            .collect();
        let steps = |k: usize| -> Vec<(f64, f64)> {
            spans
                .iter()
                .zip(&self.rows)
                .flat_map(|(&(a, b), r)| [(a, r.p[k]), (b, r.p[k])])
                .collect()
        };
        let band = |lo: usize, hi: usize| -> Vec<(f64, f64)> {
            let mut pts = steps(hi);
            pts.extend(steps(lo).into_iter().rev());
            pts
        };
        chart.draw_series(std::iter::once(Polygon::new(band(0, 4), outer.filled())))?;
        chart.draw_series(std::iter::once(Polygon::new(band(1, 3), inner.filled())))?;
        draw_line(&mut chart, steps(2), line, 3, Dash::Solid)?;
        for p in &self.points {
            let (a, b) = (p.start - x0, p.end - x0);
            if b - a > self.step * 1.5 {
                draw_line(
                    &mut chart,
                    vec![(a, p.value), (b, p.value)],
                    POINT,
                    2,
                    Dash::Solid,
                )?;
            }
            let mid = if b - a > self.step * 1.5 {
                (a + b) / 2.0
            } else {
                a + self.step / 2.0
            };
            let style = if p.inside {
                POINT.filled()
            } else {
                POINT.stroke_width(2)
            };
            chart.draw_series(std::iter::once(Circle::new((mid, p.value), 6, style)))?;
        }
        Ok(())
    }
}
