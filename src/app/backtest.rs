//! `crmsim backtest`: a past episode replayed and set against what was
//! observed (docs/validation.md). It reports coverage and error; it does not
//! judge, so it exits 0 whenever it ran.

use super::*;
use crate::analysis::backtest;

pub(super) fn backtest_cmd(args: &BacktestArgs) -> Result<()> {
    let started = Instant::now();
    let episode = backtest::load(&args.episode)?;
    let plan = RunPlan {
        first_run: 0,
        runs: args.runs.unwrap_or(episode.scenario.runs()),
        seed: args.seed.unwrap_or(episode.scenario.seed()),
    };
    let name = output::backtest::episode_name(&episode);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("outputs").join(format!("{name}-backtest")));
    check_destination(&out)?;
    let file = args.episode.join("scenario.toml");
    // The replay is sequential: refused only when one worker would not fit.
    analysis_threads(&file, &episode.scenario, plan.runs, Some(1))?;
    let sim = backtest::simulate(&episode, &plan);
    let result = backtest::score(&episode, &episode.observations, &sim);
    let artifacts = output::backtest::artifacts(&episode, &plan, &result, !args.no_charts)
        .context("cannot draw the charts")?;
    output::write_folder(&out, &artifacts)?;
    print!("{}", output::backtest::summary(&episode, &plan, &result));
    println!(
        "results in {} ({:.1} s)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
