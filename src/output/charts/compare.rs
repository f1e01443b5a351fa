//! Charts that compare options: a cost-risk frontier, and paired
//! differences with confidence intervals. They take plain data so that the
//! commands that compute the options (sweeps, comparisons, optimization) can
//! call them.

use super::{
    axis_top, draw_legend, draw_line, draw_row_labels, draw_title, legend_height, render,
    row_chart_frame, text, title_height, Chart, ChartError, Dash, Draw, DrawResult, Swatch, FONT,
    GRID, INK, MUTED,
};
use crate::report::num;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One option on a cost-risk chart.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierPoint {
    /// Name of the option ("stockpile 60 days").
    pub label: String,
    /// Its cost, EUR.
    pub cost_eur: f64,
    /// Its risk (e.g. p95 shortfall, t); lower is better.
    pub risk: f64,
}

/// One paired difference between two options, with its 95 % confidence
/// interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// What is compared ("60 days - none").
    pub label: String,
    /// Mean difference.
    pub mean: f64,
    /// Lower end of the 95 % confidence interval.
    pub lo: f64,
    /// Upper end of the 95 % confidence interval.
    pub hi: f64,
}

/// Indices of the points no other point beats: none is both at most as
/// costly and at most as risky while better on one of the two. In order of
/// cost.
pub(crate) fn efficient(points: &[FrontierPoint]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| {
            let p = &points[i];
            !points.iter().any(|q| {
                q.cost_eur <= p.cost_eur
                    && q.risk <= p.risk
                    && (q.cost_eur < p.cost_eur || q.risk < p.risk)
            })
        })
        .collect();
    idx.sort_by(|&a, &b| points[a].cost_eur.total_cmp(&points[b].cost_eur));
    idx
}

const POINT: RGBColor = RGBColor(8, 48, 107);
const DOMINATED: RGBColor = RGBColor(120, 120, 120);

struct Frontier<'a> {
    title: &'a str,
    risk_label: &'a str,
    points: &'a [FrontierPoint],
}

/// Draws options by cost (horizontal, million EUR) and risk (vertical,
/// labelled `risk_label` with its unit): filled dots joined by a line for the
/// efficient options (no other option is cheaper and safer), hollow grey dots
/// for the others, each labelled. 1000 x 640 pixels.
///
/// # Errors
/// [`ChartError`] if drawing or encoding fails.
pub fn frontier(
    title: &str,
    risk_label: &str,
    points: &[FrontierPoint],
) -> Result<Chart, ChartError> {
    render(&Frontier {
        title,
        risk_label,
        points,
    })
}

impl Draw for Frontier<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 640)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let subtitle = "Lower left is better: cheaper and less risky";
        let legend = vec![
            (
                Swatch::Dot(POINT, true),
                "efficient option: nothing is both cheaper and less risky".to_string(),
            ),
            (Swatch::Dot(DOMINATED, false), "other option".to_string()),
            (
                Swatch::Line(POINT, 2, Dash::Dashed(9, 5)),
                "efficient frontier".to_string(),
            ),
        ];
        let (top, rest) = root.split_vertically(title_height(subtitle));
        let lh = legend_height(root, &legend, 96)?;
        let h = rest.dim_in_pixel().1;
        let (plot, bottom) = rest.split_vertically(h - lh);
        draw_title(&top, self.title, subtitle)?;
        draw_legend(&bottom, &legend, 96)?;

        let millions: Vec<f64> = self.points.iter().map(|p| p.cost_eur / 1e6).collect();
        let x_max = axis_top(millions.iter().copied().fold(0.0, f64::max)) * 1.15;
        let y_max = axis_top(self.points.iter().map(|p| p.risk).fold(0.0, f64::max));
        let mut chart = ChartBuilder::on(&plot)
            .margin_left(14)
            .margin_right(28)
            .margin_top(10)
            .x_label_area_size(52)
            .y_label_area_size(96)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(7)
            .x_label_formatter(&|x| num(*x))
            .y_label_formatter(&|y| num(*y))
            .x_desc("cost (million EUR)")
            .y_desc(self.risk_label)
            .label_style(text(14, INK, HPos::Center, VPos::Center))
            .axis_desc_style((FONT, 16))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(INK)
            .draw()?;
        let best = efficient(self.points);
        draw_line(
            &mut chart,
            best.iter()
                .map(|&i| (millions[i], self.points[i].risk))
                .collect(),
            POINT,
            2,
            Dash::Dashed(9, 5),
        )?;
        chart.draw_series(self.points.iter().enumerate().map(|(i, p)| {
            let style = if best.contains(&i) {
                POINT.filled()
            } else {
                DOMINATED.stroke_width(2)
            };
            Circle::new((millions[i], p.risk), 6, style)
        }))?;
        let label_style = text(14, INK, HPos::Left, VPos::Center);
        chart.draw_series(self.points.iter().enumerate().map(|(i, p)| {
            EmptyElement::at((millions[i], p.risk))
                + Text::new(p.label.clone(), (10, 0), label_style.clone())
        }))?;
        Ok(())
    }
}

struct Differences<'a> {
    title: &'a str,
    x_label: &'a str,
    diffs: &'a [Difference],
}

/// Draws paired differences as a forest plot: one row per difference, in the
/// given order from the top, its mean as a square and its 95 % confidence
/// interval as a bar, with a line at zero (no difference). `x_label` names
/// the difference and its unit. 1000 pixels wide, 48 pixels per row.
///
/// # Errors
/// [`ChartError`] if drawing or encoding fails.
pub fn differences(title: &str, x_label: &str, diffs: &[Difference]) -> Result<Chart, ChartError> {
    render(&Differences {
        title,
        x_label,
        diffs,
    })
}

impl Draw for Differences<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 220 + 48 * self.diffs.len().max(2) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let subtitle = "An interval that does not cross zero is a difference the runs resolve";
        let legend = vec![
            (Swatch::Fill(POINT), "mean difference".to_string()),
            (
                Swatch::Line(POINT, 3, Dash::Solid),
                "95 % confidence interval".to_string(),
            ),
            (
                Swatch::Line(MUTED, 1, Dash::Dashed(6, 4)),
                "no difference".to_string(),
            ),
        ];
        let label_style = text(14, INK, HPos::Right, VPos::Center);
        let (labels, label_w, plot) = row_chart_frame(
            root,
            self.diffs.iter().map(|d| d.label.as_str()),
            &label_style,
            root.dim_in_pixel().0 * 4 / 10,
            (self.title, subtitle),
            &legend,
        )?;

        let n = self.diffs.len() as i32;
        let lo = self
            .diffs
            .iter()
            .map(|d| d.lo.min(d.mean))
            .fold(0.0, f64::min);
        let hi = self
            .diffs
            .iter()
            .map(|d| d.hi.max(d.mean))
            .fold(0.0, f64::max);
        let pad = ((hi - lo) * 0.08).max(f64::MIN_POSITIVE);
        let (lo, hi) = if hi > lo {
            (lo - pad, hi + pad)
        } else {
            (-1.0, 1.0)
        };
        // Difference k is row n - 1 - k, so the first is on top.
        let rows = n.max(1) as f64;
        let row = |k: usize| (n - 1 - k as i32) as f64;
        let mut chart = ChartBuilder::on(&plot)
            .margin_right(32)
            .margin_top(8)
            .x_label_area_size(52)
            .y_label_area_size(label_w)
            .build_cartesian_2d(lo..hi, -0.5..(rows - 0.5))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_labels(8)
            .y_labels(0)
            .x_label_formatter(&|x| num(*x))
            .x_desc(self.x_label)
            .label_style(text(14, INK, HPos::Center, VPos::Center))
            .axis_desc_style((FONT, 16))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(INK)
            .draw()?;
        draw_row_labels(root, &chart, &labels)?;
        chart.draw_series(std::iter::once(DashedPathElement::new(
            vec![(0.0, -0.5), (0.0, rows - 0.5)],
            6,
            4,
            MUTED.stroke_width(1),
        )))?;
        for (k, d) in self.diffs.iter().enumerate() {
            let y = row(k);
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(d.lo, y), (d.hi, y)],
                POINT.stroke_width(3),
            )))?;
            for end in [d.lo, d.hi] {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((end, y))
                        + PathElement::new(vec![(0, -7), (0, 7)], POINT.stroke_width(2)),
                ))?;
            }
            chart.draw_series(std::iter::once(
                EmptyElement::at((d.mean, y)) + Rectangle::new([(-6, -6), (6, 6)], POINT.filled()),
            ))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((d.mean, y))
                    + Text::new(
                        format!("{} ({} to {})", num(d.mean), num(d.lo), num(d.hi)),
                        (0, -17),
                        text(13, MUTED, HPos::Center, VPos::Center),
                    ),
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(label: &str, cost: f64, risk: f64) -> FrontierPoint {
        FrontierPoint {
            label: label.into(),
            cost_eur: cost,
            risk,
        }
    }

    #[test]
    fn efficient_points_are_the_undominated_ones() {
        let pts = [
            p("none", 0.0, 10.0),
            p("a", 5.0, 4.0),
            p("worse than a", 6.0, 5.0),
            p("b", 9.0, 1.0),
            p("tie with b, dearer", 9.5, 1.0),
        ];
        assert_eq!(efficient(&pts), vec![0, 1, 3]);
    }
}
