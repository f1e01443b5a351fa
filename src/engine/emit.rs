//! Where a step's values go: each run's series (when recorded, for the
//! percentile sketches) and the per-step sums over runs (for the means),
//! added lane by lane in run order so that the sums do not depend on how
//! runs were grouped.

use super::fast::{Lanes, LANES};
use crate::vocab::{Variable, N_VARIABLES};

/// Where a material's values go: its series (when recorded) and the sums
/// (when kept).
pub(super) struct Emit<'a> {
    pub(super) steps: usize,
    /// The material's series, `[variable][step]`, when recorded.
    pub(super) series: Option<&'a mut [Lanes]>,
    /// The sums, `[row][step]`, when kept.
    pub(super) sums: Option<&'a mut [f64]>,
    /// The row of each variable in the sums, `usize::MAX` if not summed.
    pub(super) rows: [usize; N_VARIABLES],
    /// Lanes that hold a run.
    pub(super) lanes: usize,
}

impl Emit<'_> {
    /// Records `value` of `var` in step `t` and adds it to its sum.
    #[inline(always)]
    pub(super) fn put(&mut self, t: usize, var: Variable, value: Lanes) {
        let v = var as usize;
        if let Some(series) = self.series.as_deref_mut() {
            series[v * self.steps + t] = value;
        }
        let row = self.rows[v];
        if let (Some(sums), true) = (self.sums.as_deref_mut(), row != usize::MAX) {
            add_in_run_order(&mut sums[row * self.steps + t], value, self.lanes);
        }
    }
}

/// Adds the first `lanes` lanes of `value` to `sum`, lane by lane (in run
/// order); lanes without a run add nothing. With all lanes (a constant
/// count) the adds are unrolled.
#[inline(always)]
pub(super) fn add_in_run_order(sum: &mut f64, value: Lanes, lanes: usize) {
    *sum = if lanes == LANES {
        value.0.iter().fold(*sum, |s, x| s + x)
    } else {
        value.0[..lanes].iter().fold(*sum, |s, x| s + x)
    };
}
