//! One group of runs, start to finish: reset what the last group's events
//! wrote, draw the world ([`super::draws`]), work out the products' flows
//! ([`super::products`]), then step every material through time
//! ([`super::step`]). Pure and sequential.

use super::draws::{draw_events, draw_parameters, reset_events};
use super::fast::LANES;
use super::prepare::Prepared;
use super::step::step_materials;
use super::workspace::Workspace;
use crate::scenario::Scenario;

/// Simulates run `run` of `scenario` into `ws` (series and totals, read
/// with [`Workspace::value`] and [`Workspace::metric`]).
pub fn simulate_run(scenario: &Scenario, prep: &Prepared, run: u64, ws: &mut Workspace) {
    simulate_runs(scenario, prep, run, 1, ws);
}

/// Simulates the `n` runs from `first_run` on (1 to [`LANES`]) side by
/// side, run `first_run + l` in lane `l`. Each lane's results are exactly
/// those of its run simulated alone. Lanes from `n` on hold values to be
/// ignored.
pub fn simulate_runs(
    scenario: &Scenario,
    prep: &Prepared,
    first_run: u64,
    n: usize,
    ws: &mut Workspace,
) {
    assert!((1..=LANES).contains(&n), "1 to {LANES} runs at a time");
    ws.lanes_used = n;
    reset_events(ws);
    draw_parameters(scenario, prep, first_run, n, ws);
    draw_events(scenario, prep, first_run, n, ws);
    if !scenario.products.is_empty() {
        let runs = &ws.runs;
        prep.products
            .flows(scenario, n, |lane| &runs[lane].life, &mut ws.flows);
    }
    step_materials(scenario, prep, ws);
}
