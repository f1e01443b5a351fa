//! A national list: materials ranked by a weighted combination of
//! indicators, each min-max normalized across the materials that have it, so
//! that a policy team chooses what counts through the `[weights]` table;
//! and with a simulation a list per simulated year ([`rank_years`]), on the
//! year's risk measures and EI, weighted by `[yearly_weights]`.
//!
//! score = sum_i w_i x (x_i - min_i) / (max_i - min_i) / sum_i w_i over the
//! indicators with w_i > 0 that this run has (the simulation's need
//! `--scenario`); an indicator equal for all materials normalizes to 0. A
//! material missing one of them gets no score and no rank. Ranks follow the
//! score from the highest; ties keep the file order.

use super::dynamic::Dynamic;
use super::input::{Indicators, Weights, YearlyWeights};
use super::method::Assessment;
use super::risk::YearRisk;

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

/// One row's normalized values, score and missing indicators.
struct Combined<const N: usize> {
    normalized: [Option<f64>; N],
    score: Option<f64>,
    missing: Vec<String>,
}

/// The weighted min-max combination of `values` (one array of indicator
/// values per row) over the `used` columns (index, name, weight): each
/// column normalized over the rows that have it, (x - min) / (max - min) or
/// 0 when all are equal, and the weighted mean of the normalized values of
/// a row that has every used column.
fn combine<const N: usize>(
    values: &[[Option<f64>; N]],
    used: &[(usize, &str, f64)],
) -> Vec<Combined<N>> {
    let mut rows: Vec<Combined<N>> = values
        .iter()
        .map(|_| Combined {
            normalized: [None; N],
            score: None,
            missing: Vec::new(),
        })
        .collect();
    for &(c, name, _) in used {
        let known: Vec<f64> = values.iter().filter_map(|v| v[c]).collect();
        let lo = known.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for (v, r) in values.iter().zip(&mut rows) {
            match v[c] {
                Some(x) => r.normalized[c] = Some(if hi > lo { (x - lo) / (hi - lo) } else { 0.0 }),
                None => r.missing.push(name.to_string()),
            }
        }
    }
    let total: f64 = used.iter().map(|(_, _, w)| w).sum();
    for r in &mut rows {
        if r.missing.is_empty() && !used.is_empty() {
            let sum: f64 = used
                .iter()
                .map(|&(c, _, w)| w * r.normalized[c].expect("checked: not missing"))
                .sum();
            r.score = Some(sum / total);
        }
    }
    rows
}

/// The rows' order by score, highest first; equal scores keep their order
/// (a stable sort), unscored rows go last.
fn by_score(scores: &[Option<f64>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| match (scores[a], scores[b]) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    order
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
    let values: Vec<[Option<f64>; 4]> = assessment
        .materials
        .iter()
        .map(|m| {
            let d = dynamic.and_then(|d| d.materials.iter().find(|x| x.id == m.id));
            [
                m.sr,
                d.and_then(|d| d.sr_mean),
                d.map(|d| d.p_shortfall),
                d.map(|d| d.shortfall_fraction),
            ]
        })
        .collect();
    let columns: Vec<(usize, &str, f64)> = used
        .iter()
        .map(|&(i, w)| (i.index(), i.name(), w))
        .collect();
    let combined = combine(&values, &columns);
    let scores: Vec<Option<f64>> = combined.iter().map(|c| c.score).collect();
    let mut combined: Vec<Option<Combined<4>>> = combined.into_iter().map(Some).collect();
    let mut rank = 0;
    let rows = by_score(&scores)
        .into_iter()
        .map(|k| {
            let c = combined[k].take().expect("each row once");
            let rank = c.score.map(|_| {
                rank += 1;
                rank
            });
            RankRow {
                rank,
                material: assessment.materials[k].id.clone(),
                score: c.score,
                values: values[k],
                normalized: c.normalized,
                missing: c.missing,
            }
        })
        .collect();
    Ranking {
        used,
        left_out,
        rows,
    }
}

/// The indicators of the ranking per simulated year, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearlyIndicator {
    /// Expected welfare loss per euro of use in the year.
    WelfareLossPerEur,
    /// p95 over runs of the year's peak price multiple.
    PeakPriceP95,
    /// Probability of a shortfall in the year.
    PShortfall,
    /// Economic importance (the file's).
    Ei,
}

impl YearlyIndicator {
    /// All of them, in output order.
    pub const ALL: [YearlyIndicator; 4] = [
        YearlyIndicator::WelfareLossPerEur,
        YearlyIndicator::PeakPriceP95,
        YearlyIndicator::PShortfall,
        YearlyIndicator::Ei,
    ];

    /// The name used in files (and in `[yearly_weights]`).
    pub fn name(self) -> &'static str {
        match self {
            YearlyIndicator::WelfareLossPerEur => "welfare_loss_per_eur",
            YearlyIndicator::PeakPriceP95 => "peak_price_p95",
            YearlyIndicator::PShortfall => "p_shortfall",
            YearlyIndicator::Ei => "ei",
        }
    }

    /// Its weight.
    pub fn weight(self, w: &YearlyWeights) -> f64 {
        match self {
            YearlyIndicator::WelfareLossPerEur => w.welfare_loss_per_eur,
            YearlyIndicator::PeakPriceP95 => w.peak_price_p95,
            YearlyIndicator::PShortfall => w.p_shortfall,
            YearlyIndicator::Ei => w.ei,
        }
    }
}

/// One material's place in one year's ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct YearRankRow {
    /// 1 for the year's highest score; `None` without a score.
    pub rank: Option<usize>,
    /// Material id.
    pub material: String,
    /// Weighted mean of the normalized indicators used.
    pub score: Option<f64>,
    /// The year's risk measures with their intervals.
    pub risk: YearRisk,
    /// The material's EI (the file's).
    pub ei: Option<f64>,
    /// Each indicator's normalized value, in [`YearlyIndicator::ALL`] order
    /// (used ones only).
    pub normalized: [Option<f64>; 4],
    /// Indicators used that the material lacks in the year.
    pub missing: Vec<String>,
}

impl YearRankRow {
    /// Each indicator's value, in [`YearlyIndicator::ALL`] order.
    pub fn values(&self) -> [Option<f64>; 4] {
        [
            self.risk.welfare_loss_per_eur.map(|i| i.estimate),
            Some(self.risk.peak_price_p95.estimate),
            Some(self.risk.p_shortfall.estimate),
            self.ei,
        ]
    }
}

/// The ranking of every simulated year.
#[derive(Debug, Clone, PartialEq)]
pub struct YearlyRanking {
    /// Indicators with a positive weight, with their weights.
    pub used: Vec<(YearlyIndicator, f64)>,
    /// Each year and its rows in rank order (unranked last, in file
    /// order), years in order.
    pub years: Vec<(i32, Vec<YearRankRow>)>,
}

/// Ranks, in every simulated year, the materials found in both files on
/// that year's risk measures and their EI, weighted by `[yearly_weights]`:
/// each indicator min-max normalized over the materials of the year.
pub fn rank_years(ind: &Indicators, assessment: &Assessment, dynamic: &Dynamic) -> YearlyRanking {
    let used: Vec<(YearlyIndicator, f64)> = YearlyIndicator::ALL
        .iter()
        .map(|&i| (i, i.weight(&ind.yearly_weights)))
        .filter(|&(_, w)| w > 0.0)
        .collect();
    let columns: Vec<(usize, &str, f64)> = used
        .iter()
        .map(|&(i, w)| (i as usize, i.name(), w))
        .collect();
    let ei = |id: &str| {
        assessment
            .materials
            .iter()
            .find(|m| m.id == id)
            .and_then(|m| m.ei)
    };
    let n_years = dynamic.materials.first().map_or(0, |m| m.risk.len());
    let years = (0..n_years)
        .map(|y| {
            let rows: Vec<YearRankRow> = dynamic
                .materials
                .iter()
                .map(|m| YearRankRow {
                    rank: None,
                    material: m.id.clone(),
                    score: None,
                    risk: m.risk[y].clone(),
                    ei: ei(&m.id),
                    normalized: [None; 4],
                    missing: Vec::new(),
                })
                .collect();
            let values: Vec<[Option<f64>; 4]> = rows.iter().map(YearRankRow::values).collect();
            let combined = combine(&values, &columns);
            let scores: Vec<Option<f64>> = combined.iter().map(|c| c.score).collect();
            let mut rows: Vec<Option<YearRankRow>> = rows
                .into_iter()
                .zip(combined)
                .map(|(mut r, c)| {
                    r.score = c.score;
                    r.normalized = c.normalized;
                    r.missing = c.missing;
                    Some(r)
                })
                .collect();
            let mut rank = 0;
            let ordered = by_score(&scores)
                .into_iter()
                .map(|k| {
                    let mut r = rows[k].take().expect("each row once");
                    r.rank = r.score.map(|_| {
                        rank += 1;
                        rank
                    });
                    r
                })
                .collect();
            let year = dynamic.materials[0].risk[y].year;
            (year, ordered)
        })
        .collect();
    YearlyRanking { used, years }
}
