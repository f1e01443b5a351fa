//! A national list: materials ranked by a weighted combination of
//! indicators, each min-max normalized across the materials that have it, so
//! that a policy team chooses what counts through the `[weights]` table.
//!
//! score = sum_i w_i x (x_i - min_i) / (max_i - min_i) / sum_i w_i over the
//! indicators with w_i > 0 that this run has (the simulation's need
//! `--scenario`); an indicator equal for all materials normalizes to 0. A
//! material missing one of them gets no score and no rank. Ranks follow the
//! score from the highest; ties keep the file order.

use super::dynamic::Dynamic;
use super::input::{Indicators, Weights};
use super::method::Assessment;

/// The indicators a ranking can combine, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indicator {
    /// Static SR at the bottleneck stage.
    StaticSr,
    /// Dynamic SR, mean over simulated years and runs.
    DynamicSr,
    /// Probability of any shortfall over the horizon.
    PShortfall,
    /// Expected shortfall as a fraction of demand.
    ShortfallFraction,
}

impl Indicator {
    /// All indicators, in output order.
    pub const ALL: [Indicator; 4] = [
        Indicator::StaticSr,
        Indicator::DynamicSr,
        Indicator::PShortfall,
        Indicator::ShortfallFraction,
    ];

    /// The name used in files (and in `[weights]`).
    pub fn name(self) -> &'static str {
        match self {
            Indicator::StaticSr => "static_sr",
            Indicator::DynamicSr => "dynamic_sr",
            Indicator::PShortfall => "p_shortfall",
            Indicator::ShortfallFraction => "shortfall_fraction",
        }
    }

    /// Its weight.
    pub fn weight(self, w: &Weights) -> f64 {
        match self {
            Indicator::StaticSr => w.static_sr,
            Indicator::DynamicSr => w.dynamic_sr,
            Indicator::PShortfall => w.p_shortfall,
            Indicator::ShortfallFraction => w.shortfall_fraction,
        }
    }

    /// Its position in [`Indicator::ALL`] (and in a row's arrays).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether it needs a simulation.
    pub fn simulated(self) -> bool {
        !matches!(self, Indicator::StaticSr)
    }
}

/// One material's place in the ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct RankRow {
    /// 1 for the highest score; `None` without a score.
    pub rank: Option<usize>,
    /// Material id.
    pub material: String,
    /// Weighted mean of the normalized indicators used.
    pub score: Option<f64>,
    /// Each indicator's value, in [`Indicator::ALL`] order.
    pub values: [Option<f64>; 4],
    /// Each indicator's normalized value (used ones only).
    pub normalized: [Option<f64>; 4],
    /// Indicators used that the material lacks.
    pub missing: Vec<String>,
}

/// The ranking and the indicators it used.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Indicators with a positive weight that this run has, with their weights.
    pub used: Vec<(Indicator, f64)>,
    /// Indicators with a positive weight that need `--scenario`, left out.
    pub left_out: Vec<Indicator>,
    /// One row per material of the indicator file, in rank order (unranked last,
    /// in file order).
    pub rows: Vec<RankRow>,
}

/// Ranks the materials of `ind` from the static assessment and, when there is
/// one, the dynamic one.
pub fn rank(ind: &Indicators, assessment: &Assessment, dynamic: Option<&Dynamic>) -> Ranking {
    let w = ind.weights;
    let mut used = Vec::new();
    let mut left_out = Vec::new();
    for i in Indicator::ALL {
        let weight = i.weight(&w);
        if weight > 0.0 {
            if i.simulated() && dynamic.is_none() {
                left_out.push(i);
            } else {
                used.push((i, weight));
            }
        }
    }
    let mut rows: Vec<RankRow> = assessment
        .materials
        .iter()
        .map(|m| {
            let d = dynamic.and_then(|d| d.materials.iter().find(|x| x.id == m.id));
            RankRow {
                rank: None,
                material: m.id.clone(),
                score: None,
                values: [
                    m.sr,
                    d.and_then(|d| d.sr_mean),
                    d.map(|d| d.p_shortfall),
                    d.map(|d| d.shortfall_fraction),
                ],
                normalized: [None; 4],
                missing: Vec::new(),
            }
        })
        .collect();
    for &(i, _) in &used {
        let c = i.index();
        let known: Vec<f64> = rows.iter().filter_map(|r| r.values[c]).collect();
        let lo = known.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for r in &mut rows {
            match r.values[c] {
                Some(x) => r.normalized[c] = Some(if hi > lo { (x - lo) / (hi - lo) } else { 0.0 }),
                None => r.missing.push(i.name().to_string()),
            }
        }
    }
    let total: f64 = used.iter().map(|(_, w)| w).sum();
    for r in &mut rows {
        if r.missing.is_empty() && !used.is_empty() {
            let sum: f64 = used
                .iter()
                .map(|&(i, w)| w * r.normalized[i.index()].expect("checked: not missing"))
                .sum();
            r.score = Some(sum / total);
        }
    }
    // Stable: equal scores keep the file order; unscored rows go last.
    rows.sort_by(|a, b| match (a.score, b.score) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    for (n, r) in rows.iter_mut().filter(|r| r.score.is_some()).enumerate() {
        r.rank = Some(n + 1);
    }
    Ranking {
        used,
        left_out,
        rows,
    }
}
