//! `crmsim criticality`: the EU criticality indicators from an indicator
//! file, and with a scenario the simulated supply risk and the ranked list.

use super::*;
use crate::analysis::criticality;

pub(super) fn criticality_cmd(args: &CriticalityArgs) -> Result<()> {
    let started = Instant::now();
    let quiet = args.common.quiet;
    let text = crate::scenario::read_input(&args.input).map_err(|source| IndicatorError::Read {
        file: args.input.clone(),
        source,
    })?;
    let ind = Indicators::from_toml(&text, &args.input)?;
    let scenario = match &args.scenario {
        Some(path) => {
            let s_text = scenario::read_text(path)?;
            let s = Scenario::from_toml(&s_text, path)?;
            Some((s_text, s))
        }
        None => {
            if args.common.runs.is_some() || args.common.seed.is_some() {
                return Err(InputError(
                    "--runs and --seed apply to a simulation: give --scenario SCENARIO.toml".into(),
                )
                .into());
            }
            None
        }
    };
    let out = args
        .common
        .out
        .clone()
        .unwrap_or_else(|| Path::new("outputs").join(format!("{}-criticality", ind.name())));
    check_destination(&out)?;

    let assessment = criticality::assess(&ind);
    // The published values the file names, compared with the computed ones.
    let comparison = match ind.published_path(&args.input) {
        Some(p) => Some(criticality::compare(
            &assessment,
            &criticality::Published::load(&p)?,
        )),
        None => None,
    };
    let dynamic = match &scenario {
        Some((_, s)) => {
            let plan = plan_of(&args.common, s);
            let file = args.scenario.as_deref().expect("a scenario was given");
            let observed = criticality::dynamic::values_per_run(&ind, s);
            let threads =
                analysis_threads_observed(file, s, plan.runs, args.common.threads, observed)?;
            let pool = pool(Some(threads))?;
            // One simulation: the dynamic assessment reads every run as it
            // is stepped.
            let (_, _, d) = pool
                .install(|| criticality::simulate_dynamic(&ind, s, &plan))
                .map_err(|e| match e {
                    DynamicError::StageUnclear {
                        material, message, ..
                    } => Error::from(ind.material_error(
                        &text,
                        &args.input,
                        material,
                        "scenario_stage",
                        message,
                    )),
                    other => other.into(),
                })?;
            Some(d)
        }
        None => None,
    };
    let ranking = criticality::rank(&ind, &assessment, dynamic.as_ref());
    let yearly = dynamic
        .as_ref()
        .map(|d| criticality::rank_years(&ind, &assessment, d));

    let mut artifacts = vec![
        Artifact {
            name: "criticality.csv".into(),
            bytes: output::criticality::assessment_csv(&assessment),
        },
        Artifact {
            name: "criticality.svg".into(),
            bytes: output::criticality_chart::chart_svg(&assessment, dynamic.as_ref())?,
        },
        Artifact {
            name: "criticality.png".into(),
            bytes: output::criticality_chart::chart_png(&assessment, dynamic.as_ref())?,
        },
        Artifact {
            name: "criticality_ranking.csv".into(),
            bytes: output::criticality::ranking_csv(&ranking),
        },
        Artifact {
            name: "criticality_input.toml".into(),
            bytes: text.clone().into_bytes(),
        },
    ];
    if let (Some(d), Some((s_text, _))) = (&dynamic, &scenario) {
        artifacts.push(Artifact {
            name: "criticality_dynamic.csv".into(),
            bytes: output::criticality::dynamic_csv(&assessment, d),
        });
        if let Some(y) = &yearly {
            artifacts.push(Artifact {
                name: "criticality_dynamic_ranking.csv".into(),
                bytes: output::criticality::yearly_ranking_csv(y),
            });
        }
        artifacts.push(Artifact {
            name: "scenario.toml".into(),
            bytes: s_text.clone().into_bytes(),
        });
    }
    if let Some(c) = &comparison {
        artifacts.push(Artifact {
            name: "criticality_comparison.csv".into(),
            bytes: output::criticality::comparison_csv(c),
        });
    }
    output::write_folder(&out, &artifacts)?;
    if !quiet {
        print!(
            "{}",
            output::criticality::summary_table(&assessment, &ranking)
        );
        if let Some(c) = &comparison {
            print!("{}", output::criticality::comparison_table(c));
        }
        if !ranking.left_out.is_empty() {
            let names: Vec<&str> = ranking.left_out.iter().map(|i| i.name()).collect();
            println!(
                "ranking without {} (they need --scenario)",
                names.join(", ")
            );
        }
        if let Some(d) = &dynamic {
            if !d.unmatched.is_empty() {
                println!(
                    "scenario materials not in the indicator file (no dynamic SR): {}",
                    d.unmatched.join(", ")
                );
            }
            println!(
                "dynamic SR from {}: {} runs, seed {}",
                d.scenario, d.runs, d.seed
            );
            if let Some(y) = &yearly {
                println!("ranking per year (criticality_dynamic_ranking.csv):");
                print!("{}", output::criticality::yearly_ranking_table(y));
            }
        }
        println!(
            "results in {} ({:.1} s)",
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
