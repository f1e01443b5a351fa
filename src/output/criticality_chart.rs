//! The classic criticality chart: economic importance on x, supply risk on y,
//! the two thresholds as dashed lines bounding the critical area, and one
//! labelled point per material that has both values (the others are named
//! under the plot). With a simulation, each point also gets its simulated
//! spread: a whisker from the p5 to the p95 of the dynamic SR over all
//! simulated years and runs (the planned sourcing mix with the simulated
//! EoL-RIR), an open circle at its mean, and under its name the lowest and
//! highest probability of a shortfall over the simulated years. SVG and PNG, drawn by one function on either backend,
//! with the text in the font embedded for all charts (see [`super::charts`]):
//! no system font is needed.

use crate::analysis::criticality::{Assessment, Dynamic};
use plotters::prelude::*;

/// Why the chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the criticality chart: {0}")]
pub struct ChartError(String);

fn err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError(e.to_string())
}

/// Chart size in pixels (of the PNG, and of the SVG's view box).
pub const SIZE: (u32, u32) = (900, 650);

/// The chart of `a` as SVG bytes: each material at (EI, SR of its bottleneck
/// stage), with the dynamic SR's spread from `dynamic` when given.
///
/// # Errors
/// [`ChartError`] if plotters fails to draw.
pub fn chart_svg(a: &Assessment, dynamic: Option<&Dynamic>) -> Result<Vec<u8>, ChartError> {
    super::charts::font_ready().map_err(err)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(a, dynamic, &root)?;
    }
    Ok(svg.into_bytes())
}

/// The chart of `a` as PNG bytes (8-bit RGB, [`SIZE`]), the same drawing as
/// [`chart_svg`].
///
/// # Errors
/// [`ChartError`] if plotters fails to draw or the PNG cannot be encoded.
pub fn chart_png(a: &Assessment, dynamic: Option<&Dynamic>) -> Result<Vec<u8>, ChartError> {
    super::charts::font_ready().map_err(err)?;
    let mut rgb = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        draw(a, dynamic, &root)?;
    }
    super::charts::encode_png(&rgb, SIZE).map_err(err)
}

/// A plotted material's simulated spread: EI, the dynamic SR's p5, mean
/// and p95 (when its inputs are known), and the lowest and highest yearly
/// probability of a shortfall.
struct Spread {
    ei: f64,
    sr: Option<(f64, f64, f64)>,
    sr_static: f64,
    p_shortfall: (f64, f64),
}

/// Draws the chart of `a` (with the spreads of `dynamic`) on `root` and
/// presents it.
fn draw<DB: DrawingBackend>(
    a: &Assessment,
    dynamic: Option<&Dynamic>,
    root: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<(), ChartError> {
    let points: Vec<(&str, f64, f64)> = a
        .materials
        .iter()
        .filter_map(|m| Some((m.id.as_str(), m.ei?, m.sr?)))
        .collect();
    let spreads: Vec<Spread> = points
        .iter()
        .filter_map(|&(id, ei, sr_static)| {
            let d = dynamic?.materials.iter().find(|d| d.id == id)?;
            let p = d.risk.iter().map(|r| r.p_shortfall.estimate);
            Some(Spread {
                ei,
                sr: d.sr_spread.map(|s| (s.p5, s.mean, s.p95)),
                sr_static,
                p_shortfall: (
                    p.clone().fold(f64::INFINITY, f64::min),
                    p.fold(f64::NEG_INFINITY, f64::max),
                ),
            })
        })
        .collect();
    let not_plotted: Vec<&str> = a
        .materials
        .iter()
        .filter(|m| m.ei.is_none() || m.sr.is_none())
        .map(|m| m.id.as_str())
        .collect();
    // The EU charts show EI on 0-10; room above the highest point and the
    // thresholds.
    let x_max = points
        .iter()
        .map(|p| p.1 * 1.05)
        .fold((a.ei_threshold * 1.25).max(10.0), f64::max);
    let y_max = points
        .iter()
        .map(|p| p.2 * 1.15)
        .chain(spreads.iter().filter_map(|s| s.sr).map(|s| s.2 * 1.15))
        .fold((a.sr_threshold * 2.0).max(1.0), f64::max);
    // Room for the note under the plot: three lines with a simulation.
    let note_height = if dynamic.is_some() { 80 } else { 40 };

    {
        root.fill(&WHITE).map_err(err)?;
        let (plot, note) = root.split_vertically(SIZE.1 - note_height);
        let mut chart = ChartBuilder::on(&plot)
            .caption(
                format!("{}: supply risk and economic importance", a.name),
                (super::charts::FONT, 26),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("Economic importance (EI)")
            .y_desc("Supply risk (SR)")
            .label_style((super::charts::FONT, 16))
            .axis_desc_style((super::charts::FONT, 18))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(err)?;
        // The critical area, then its bounds.
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a.ei_threshold, a.sr_threshold), (x_max, y_max)],
                RGBColor(200, 30, 30).mix(0.08).filled(),
            )))
            .map_err(err)?;
        let line = RGBColor(200, 30, 30).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(
                [(a.ei_threshold, 0.0), (a.ei_threshold, y_max)],
                6,
                4,
                line,
            ))
            .map_err(err)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, a.sr_threshold), (x_max, a.sr_threshold)],
                6,
                4,
                line,
            ))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((a.ei_threshold, y_max))
                    + Text::new(
                        format!(
                            "critical: SR >= {}, EI >= {}",
                            a.sr_threshold, a.ei_threshold
                        ),
                        (8, 6),
                        (super::charts::FONT, 16)
                            .into_font()
                            .color(&RGBColor(150, 20, 20)),
                    ),
            ))
            .map_err(err)?;
        // The simulated spreads, under the points: a whisker with caps from
        // p5 to p95, an open circle at the mean.
        let spread_colour = RGBColor(215, 110, 20);
        for s in &spreads {
            if let Some((p5, mean, p95)) = s.sr {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        [(s.ei, p5), (s.ei, p95)],
                        spread_colour.stroke_width(2),
                    )))
                    .map_err(err)?;
                chart
                    .draw_series([p5, p95].into_iter().map(|y| {
                        EmptyElement::at((s.ei, y))
                            + PathElement::new([(-6, 0), (6, 0)], spread_colour.stroke_width(2))
                    }))
                    .map_err(err)?;
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (s.ei, mean),
                        6,
                        spread_colour.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((s.ei, s.sr_static))
                        + Text::new(
                            format!("P {:.2}-{:.2}", s.p_shortfall.0, s.p_shortfall.1),
                            (9, 3),
                            (super::charts::FONT, 13)
                                .into_font()
                                .color(&RGBColor(150, 75, 10)),
                        ),
                ))
                .map_err(err)?;
        }
        chart
            .draw_series(points.iter().map(|&(id, ei, sr)| {
                EmptyElement::at((ei, sr))
                    + Circle::new((0, 0), 4, RGBColor(30, 70, 160).filled())
                    + Text::new(id.to_string(), (7, -16), (super::charts::FONT, 17))
            }))
            .map_err(err)?;
        let message = if not_plotted.is_empty() {
            String::new()
        } else {
            format!(
                "Not plotted (SR or EI missing, see criticality.csv): {}",
                not_plotted.join(", ")
            )
        };
        note.draw(&Text::new(message, (15, 10), (super::charts::FONT, 16)))
            .map_err(err)?;
        if let Some(d) = dynamic {
            let lines = [
                format!(
                    "Orange: dynamic SR (planned sourcing mix, simulated EoL-RIR), p5-p95 over the \
                     years and {} runs of {}",
                    d.runs, d.scenario
                ),
                "(whisker) and mean (circle); P under each name: the lowest and highest yearly \
                 probability of a shortfall."
                    .to_string(),
            ];
            for (k, line) in lines.into_iter().enumerate() {
                note.draw(&Text::new(
                    line,
                    (15, 32 + 20 * k as i32),
                    (super::charts::FONT, 14),
                ))
                .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(())
}
