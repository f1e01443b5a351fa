//! `crmsim optimize`: size each material's stockpile for a risk target, the
//! best net benefit, or a budget.

use super::*;
use crate::analysis::optimize;

pub(super) fn optimize_cmd(args: &OptimizeArgs) -> Result<()> {
    let started = Instant::now();
    let (text, scenario, doc) = load_document(&args.scenario)?;
    let plan = plan_of(&args.common, &scenario);
    let threads = analysis_threads(&args.scenario, &scenario, plan.runs, args.common.threads)?;
    let out = analysis_dir(&args.common, &scenario, "optimize");
    check_destination(&out)?;
    let objective = match (args.target, args.objective, args.budget_eur) {
        (Some(t), _, _) => optimize::Objective::Target(t),
        (_, Some(_), _) => optimize::Objective::NetBenefit,
        (_, _, Some(b)) if b.is_finite() && b >= 0.0 => optimize::Objective::Budget(b),
        (_, _, Some(b)) => {
            return Err(InputError(format!("--budget-eur {b}: give a budget >= 0")).into())
        }
        _ => unreachable!("clap requires one goal"),
    };
    let grid = optimize::Grid {
        max_days: args.max_days,
        step_days: args.step_days,
    };
    let quiet = args.common.quiet;
    let progress = |m: &str| note(quiet, m);
    let sizings = pool(Some(threads))?
        .install(|| optimize::optimize(&doc, &args.scenario, objective, grid, &plan, &progress))?;
    output::write_folder(
        &out,
        &[
            Artifact {
                name: "optimize.csv".into(),
                bytes: output::analysis::optimize_csv(&sizings),
            },
            Artifact {
                name: "scenario.toml".into(),
                bytes: text.into_bytes(),
            },
        ],
    )?;
    if !quiet {
        print!("{}", output::analysis::optimize_table(&sizings));
        println!(
            "{} runs, seed {}; results in {} ({:.1} s)",
            plan.runs,
            plan.seed,
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
