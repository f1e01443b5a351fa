//! `same_events_as`: a disruption whose events come with another's (the same
//! starts and lengths in every run), each with its own severity.

use crate::util::{for_each_run, scenario};
use crmsim::scenario::Scenario;
use crmsim::vocab::Variable;

/// Two materials bought from CN alone, no spare capacity, no market: the
/// imports of a material are its demand times what its events leave.
/// Gallium's events remove 0.5, germanium's `ge` (0.3, or a range).
fn two(link: bool, ge: &str) -> Scenario {
    let follow = if link {
        "same_events_as = \"ga\"\n"
    } else {
        ""
    };
    scenario(&format!(
        "[simulation]\nname = \"j\"\nstart_year = 2025\nyears = 10\nruns = 400\nseed = 3\n\
         [[material]]\nid = \"gallium\"\ndemand_tpy = 12\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 20000\n\
         [[material.source]]\nregion = \"CN\"\nshare = 1.0\n\
         [[material]]\nid = \"germanium\"\ndemand_tpy = 12\nprice_eur_per_t = 1000\n\
         value_of_lost_load_eur_per_t = 20000\n\
         [[material.source]]\nregion = \"CN\"\nshare = 1.0\n\
         [[disruption]]\nname = \"ga\"\nmaterials = [\"gallium\"]\nregion = \"CN\"\n\
         rate_per_year = {{ dist = \"uniform\", min = 0.2, max = 0.8 }}\n\
         duration_months = {{ dist = \"lognormal\", mean = 6, sd = 4 }}\nseverity = 0.5\n\
         [[disruption]]\nname = \"ge\"\nmaterials = [\"germanium\"]\nregion = \"CN\"\n\
         rate_per_year = {{ dist = \"uniform\", min = 0.2, max = 0.8 }}\n\
         duration_months = {{ dist = \"lognormal\", mean = 6, sd = 4 }}\nseverity = {ge}\n{follow}"
    ))
}

/// The share of demand a material's flow keeps in each step of a run.
fn kept(steps: usize, ws: &crmsim::engine::Workspace, m: usize) -> Vec<f64> {
    (0..steps)
        .map(|t| {
            ws.value_in(0, steps, m, Variable::Imports, t)
                / ws.value_in(0, steps, m, Variable::Demand, t)
        })
        .collect()
}

/// Linked: in every run and step germanium keeps 0.7^k where gallium keeps
/// 0.5^k (k events at once), so the two are hit in exactly the same steps;
/// unlinked, they are not.
#[test]
fn a_follower_is_hit_in_exactly_its_leaders_steps_with_its_own_severity() {
    let (mut together, mut hit) = (0, 0);
    for_each_run(&two(true, "0.3"), 3, 400, |run, steps, ws| {
        let (ga, ge) = (kept(steps, ws, 0), kept(steps, ws, 1));
        for t in 0..steps {
            // k = log(kept) / log(0.5), a whole number of events.
            let k = (ga[t].ln() / 0.5f64.ln()).round();
            assert!((ga[t] - 0.5f64.powf(k)).abs() < 1e-12, "run {run} step {t}");
            assert!(
                (ge[t] - 0.7f64.powf(k)).abs() < 1e-12,
                "run {run} step {t}: gallium keeps {}, germanium {}",
                ga[t],
                ge[t]
            );
            hit += usize::from(k > 0.0);
        }
        together += 1;
    });
    assert_eq!(together, 400);
    assert!(hit > 1000, "{hit} steps hit");
    let mut apart = 0;
    for_each_run(&two(false, "0.3"), 3, 400, |_, steps, ws| {
        let (ga, ge) = (kept(steps, ws, 0), kept(steps, ws, 1));
        apart += (0..steps)
            .filter(|&t| (ga[t] < 1.0) != (ge[t] < 1.0))
            .count();
    });
    assert!(
        apart > 100,
        "unlinked events came apart in only {apart} steps"
    );
}

/// The leader's draws do not move when another follows it: gallium's
/// series are the same bits with and without the link.
#[test]
fn following_leaves_the_leader_as_it_was() {
    let mut alone = Vec::new();
    for_each_run(&two(false, "0.3"), 3, 200, |_, steps, ws| {
        alone.push(kept(steps, ws, 0))
    });
    let mut linked = Vec::new();
    for_each_run(&two(true, "0.3"), 3, 200, |_, steps, ws| {
        linked.push(kept(steps, ws, 0))
    });
    assert_eq!(alone, linked);
}

/// With a drawn severity, each event of the follower draws its own: over
/// 400 runs the follower's kept shares in hit steps (one event at a time)
/// spread over 1 - [0.2, 0.4], with a mean near 0.7.
#[test]
fn a_follower_draws_its_own_severity_for_each_event() {
    let mut shares = Vec::new();
    for_each_run(
        &two(true, "{ dist = \"uniform\", min = 0.2, max = 0.4 }"),
        3,
        400,
        |_, steps, ws| {
            let (ga, ge) = (kept(steps, ws, 0), kept(steps, ws, 1));
            for t in 0..steps {
                if (ga[t] - 0.5).abs() < 1e-12 {
                    shares.push(ge[t]);
                }
            }
        },
    );
    assert!(shares.len() > 1000, "{} steps", shares.len());
    assert!(shares.iter().all(|&s| (0.6..=0.8).contains(&s)));
    let mean = shares.iter().sum::<f64>() / shares.len() as f64;
    assert!((mean - 0.7).abs() < 0.01, "mean kept share {mean}");
}
