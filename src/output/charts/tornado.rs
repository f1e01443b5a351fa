//! Tornado chart: one horizontal bar per input, longest first.

use super::{
    draw_row_labels, render, row_chart_frame, text, Chart, ChartError, Draw, DrawResult, Swatch,
    FONT, GRID, INK, MUTED,
};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// Dark bars: the input raises the output.
const UP: RGBColor = RGBColor(166, 54, 3);
/// Light bars: the input lowers it.
const DOWN: RGBColor = RGBColor(158, 202, 225);

struct Tornado<'a> {
    title: &'a str,
    x_label: &'a str,
    output: &'a str,
    /// Sorted: strongest first.
    bars: Vec<(&'a str, f64)>,
}

/// Draws a tornado chart of `bars` (label, value in [-1, 1], e.g. a rank
/// correlation): bars are sorted by absolute value, the largest at the top
/// (ties keep their given order), dark when positive and light when
/// negative, each with its value written at its end; the legend says what
/// the signs mean for `output` ("shortfall"). 1000 pixels wide, 44 pixels
/// per bar.
///
/// # Errors
/// [`ChartError`] if drawing or encoding fails.
pub fn tornado(
    title: &str,
    x_label: &str,
    output: &str,
    bars: &[(String, f64)],
) -> Result<Chart, ChartError> {
    let mut sorted: Vec<(&str, f64)> = bars.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    sorted.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    render(&Tornado {
        title,
        x_label,
        output,
        bars: sorted,
    })
}

impl Draw for Tornado<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 230 + 44 * self.bars.len().max(2) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let subtitle = "-1 to 1; 0 means no monotone link between the input and the output";
        let legend = vec![
            (
                Swatch::Fill(UP),
                format!("more of this input, more {}", self.output),
            ),
            (
                Swatch::Fill(DOWN),
                format!("more of this input, less {}", self.output),
            ),
        ];
        let label_style = text(14, INK, HPos::Right, VPos::Center);
        let max_label = root.dim_in_pixel().0 * 45 / 100;
        let (labels, label_w, plot) = row_chart_frame(
            root,
            self.bars.iter().map(|(l, _)| *l),
            &label_style,
            max_label,
            (self.title, subtitle),
            &legend,
        )?;

        let n = self.bars.len() as i32;
        if n == 0 {
            plot.draw_text(
                "no input varies together with the output (for instance: no future has a shortfall)",
                &text(16, MUTED, HPos::Center, VPos::Center),
                (plot.dim_in_pixel().0 as i32 / 2, plot.dim_in_pixel().1 as i32 / 2),
            )?;
            return Ok(());
        }
        // Bar k (0 = strongest) is row n - 1 - k: the top row.
        let row = |k: usize| (n - 1 - k as i32) as f64;
        let mut chart = ChartBuilder::on(&plot)
            .margin_right(40)
            .margin_top(8)
            .x_label_area_size(50)
            .y_label_area_size(label_w)
            .build_cartesian_2d(-1.0..1.0, -0.5..(n as f64 - 0.5))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_labels(11)
            .y_labels(0)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .x_desc(self.x_label)
            .label_style(text(14, INK, HPos::Center, VPos::Center))
            .axis_desc_style((FONT, 16))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(INK)
            .draw()?;
        draw_row_labels(root, &chart, &labels)?;
        chart.draw_series(self.bars.iter().enumerate().map(|(k, &(_, v))| {
            let color = if v >= 0.0 { UP } else { DOWN };
            Rectangle::new([(0.0, row(k) - 0.32), (v, row(k) + 0.32)], color.filled())
        }))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
            INK.stroke_width(1),
        )))?;
        chart.draw_series(self.bars.iter().enumerate().map(|(k, &(_, v))| {
            let (h, dx) = if v >= 0.0 {
                (HPos::Left, 0.02)
            } else {
                (HPos::Right, -0.02)
            };
            Text::new(
                format!("{v:+.2}"),
                (v + dx, row(k)),
                text(14, INK, h, VPos::Center),
            )
        }))?;
        Ok(())
    }
}
