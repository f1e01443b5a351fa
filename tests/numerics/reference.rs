//! A plain scalar implementation of one run of the model, written from
//! docs/model.md ("One material, one step", 1 to 7) and the market's
//! contract (MARKET.md, "One step" 1 to 8, "Costs and welfare"), not from
//! the engine, for the scenarios it covers: materials whose imports come
//! from sources with spare capacity and a ramp, scheduled disruptions of
//! fixed duration and severity on regions or routes, of either scope, at
//! most one stockpile per material (gap or price rule), at most one private
//! inventory per material whose market clears (fixed size and prices), a
//! market that clears (demand and supply elasticities, market share, cap)
//! or none, and discounting. No products, refineries, hubs, market origins or market
//! responses: secondary supply and refinery output are 0, feed
//! availability 1, and the need is the whole demand.
//!
//! The world price is found by bisection on the price itself (the engine
//! works on x^epsilon, in closed form or by Newton's method), so that the
//! two share no algebra beyond the contract's equations.
//!
//! Random cases are written as scenario files, with demand, growth and
//! spare capacity drawn by the engine (the values it drew are read from its
//! per-run parameters) and everything else fixed, so that each lane of a
//! group of runs steps different numbers.

use crmsim::vocab::{Metric, Variable, N_METRICS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write;

/// A number as TOML, every digit kept.
fn f(x: f64) -> String {
    format!("{x:?}")
}

pub struct Source {
    pub region: String,
    pub share: f64,
    pub routes: Vec<String>,
    /// Drawn uniformly in [lo, hi] by the engine.
    pub spare: (f64, f64),
    pub ramp_months: f64,
}

pub enum StockTarget {
    Days(f64),
    Tonnes(f64),
}

pub struct Stockpile {
    pub target: StockTarget,
    pub initial_fill: f64,
    pub release_trigger: f64,
    pub release_fraction: f64,
    pub max_release_tpy: f64,
    pub replenish_tpy: f64,
    pub holding_cost_rate: f64,
    pub buy_initial: bool,
    pub refill_price_cap: f64,
    pub refill_in_shortage: bool,
    /// `release_rule = "price"` with this ceiling.
    pub price_ceiling: Option<f64>,
    pub max_buy_share: f64,
}

/// A private inventory (docs/model.md, "Private inventories").
pub struct Inventory {
    pub days: f64,
    pub release_above: f64,
    pub refill_below: f64,
    pub max_release_share: f64,
    pub max_buy_share: f64,
}

pub struct Material {
    pub id: String,
    /// Drawn uniformly in [lo, hi] by the engine.
    pub demand_tpy: (f64, f64),
    /// Drawn uniformly in [lo, hi] by the engine.
    pub growth: (f64, f64),
    pub price: f64,
    pub voll: f64,
    pub elasticity: Option<f64>,
    pub supply_elasticity: f64,
    pub market_share: f64,
    pub max_price_multiple: f64,
    pub sources: Vec<Source>,
    pub stockpile: Option<Stockpile>,
    pub inventory: Option<Inventory>,
}

pub enum Target {
    Region(String),
    Route(String),
}

#[derive(Clone, Copy, PartialEq)]
pub enum Scope {
    World,
    Region,
}

pub struct Event {
    /// As written; `None`: the default, world for a region, region for a
    /// route.
    pub scope: Option<Scope>,
    /// The ids of the materials hit; `None` for all.
    pub materials: Option<Vec<String>>,
    pub target: Target,
    /// Months from the horizon's start to the event's month.
    pub start_month: u32,
    pub duration_months: f64,
    pub severity: f64,
}

pub struct Case {
    pub start_year: i32,
    pub years: u32,
    /// Steps per year: 12, 4 or 1.
    pub steps_per_year: u32,
    pub discount_rate: f64,
    pub runs: u64,
    pub seed: u64,
    pub materials: Vec<Material>,
    pub events: Vec<Event>,
}

const REGIONS: [&str; 4] = ["CN", "US", "AU", "BR"];
const ROUTES: [&str; 3] = ["Suez", "Malacca", "Cape"];

/// A random case: 1 or 2 materials, each with 1 to 3 sources (shares in
/// eighths, which sum to exactly 1), 0 to 3 scheduled events, and often a
/// stockpile and a price response.
pub fn random_case(rng: &mut ChaCha8Rng) -> Case {
    let steps_per_year = [12, 4, 1][rng.random_range(0..3)];
    let years = rng.random_range(1..=8);
    let n_mat = rng.random_range(1..=2);
    let mut materials = Vec::new();
    for m in 0..n_mat {
        let n_src = rng.random_range(1..=3);
        // Eighths summing to 8.
        let mut eighths = vec![1u32; n_src];
        for _ in n_src..8 {
            eighths[rng.random_range(0..n_src)] += 1;
        }
        let sources = eighths
            .iter()
            .enumerate()
            .map(|(k, &e)| {
                let lo = if rng.random_bool(0.3) {
                    0.0
                } else {
                    rng.random_range(0.0..0.8)
                };
                Source {
                    region: REGIONS[(k + m) % REGIONS.len()].to_string(),
                    share: f64::from(e) / 8.0,
                    routes: ROUTES
                        .iter()
                        .filter(|_| rng.random_bool(0.4))
                        .map(|r| r.to_string())
                        .collect(),
                    spare: (lo, lo + rng.random_range(0.0..0.5)),
                    ramp_months: [0.0, 1.0, 3.0, 6.5, 12.0][rng.random_range(0..5)],
                }
            })
            .collect();
        let d_lo = rng.random_range(1.0..500.0);
        let g_lo = rng.random_range(-0.1..0.1);
        let stockpile = rng.random_bool(0.7).then(|| Stockpile {
            target: if rng.random_bool(0.7) {
                StockTarget::Days(rng.random_range(0.0..200.0))
            } else {
                StockTarget::Tonnes(rng.random_range(0.0..2.0 * d_lo))
            },
            initial_fill: rng.random_range(0.0..=1.0),
            release_trigger: if rng.random_bool(0.5) {
                0.0
            } else {
                rng.random_range(0.0..0.3)
            },
            release_fraction: if rng.random_bool(0.5) {
                1.0
            } else {
                rng.random_range(0.1..1.0)
            },
            max_release_tpy: if rng.random_bool(0.5) {
                f64::INFINITY
            } else {
                rng.random_range(0.1..2.0) * d_lo
            },
            replenish_tpy: rng.random_range(0.0..0.5) * d_lo,
            holding_cost_rate: rng.random_range(0.0..0.1),
            buy_initial: rng.random_bool(0.5),
            refill_price_cap: if rng.random_bool(0.6) {
                f64::INFINITY
            } else {
                rng.random_range(1.0..4.0)
            },
            refill_in_shortage: rng.random_bool(0.5),
            price_ceiling: None,
            max_buy_share: if rng.random_bool(0.6) {
                0.05
            } else {
                rng.random_range(0.001..1.0)
            },
        });
        let elasticity = rng.random_bool(0.6).then(|| {
            if rng.random_bool(0.1) {
                -1.0
            } else {
                -rng.random_range(0.05..2.0)
            }
        });
        let max_price_multiple = if rng.random_bool(0.5) {
            10.0
        } else {
            rng.random_range(1.0..20.0)
        };
        let price = rng.random_range(1.0..1e6);
        let mut stockpile = stockpile;
        if let (Some(sp), Some(_)) = (stockpile.as_mut(), elasticity) {
            if rng.random_bool(0.4) {
                sp.price_ceiling = Some(rng.random_range(1.0..=max_price_multiple));
            }
        }
        materials.push(Material {
            id: format!("m{m}"),
            demand_tpy: (d_lo, d_lo * rng.random_range(1.0..2.0)),
            growth: (g_lo, g_lo + rng.random_range(0.0..0.05)),
            price,
            // Above the capped price, as a market that clears needs.
            voll: price * max_price_multiple * rng.random_range(1.01..20.0),
            elasticity,
            supply_elasticity: if rng.random_bool(0.5) {
                0.0
            } else {
                rng.random_range(0.0..1.5)
            },
            market_share: if rng.random_bool(0.4) {
                1.0
            } else {
                rng.random_range(0.02..1.0)
            },
            max_price_multiple,
            sources,
            stockpile,
            inventory: None,
        });
    }
    let months = years * 12;
    let events = (0..rng.random_range(0..=3))
        .map(|_| {
            let target = if rng.random_bool(0.5) {
                let m = &materials[rng.random_range(0..materials.len())];
                let s = &m.sources[rng.random_range(0..m.sources.len())];
                Target::Region(s.region.clone())
            } else {
                Target::Route(ROUTES[rng.random_range(0..ROUTES.len())].to_string())
            };
            Event {
                scope: [None, Some(Scope::World), Some(Scope::Region)][rng.random_range(0..3)],
                materials: rng.random_bool(0.5).then(|| {
                    materials
                        .iter()
                        .filter(|_| rng.random_bool(0.7))
                        .map(|m| m.id.clone())
                        .collect()
                }),
                target,
                start_month: rng.random_range(0..months),
                duration_months: rng.random_range(0.5..30.0),
                severity: if rng.random_bool(0.2) {
                    1.0
                } else {
                    rng.random_range(0.05..1.0)
                },
            }
        })
        .collect();
    // Inventories from a stream of their own, so that adding them left
    // every other number of the cases as it was.
    let mut own = ChaCha8Rng::seed_from_u64(rng.random::<u64>());
    for m in &mut materials {
        if m.elasticity.is_some() && own.random_bool(0.5) {
            let cap = m.max_price_multiple;
            let refill_below = if own.random_bool(0.3) {
                1.0
            } else {
                own.random_range(1.0..(1.0 + cap) / 2.0)
            };
            m.inventory = Some(Inventory {
                days: own.random_range(0.0..120.0),
                release_above: own.random_range(refill_below..=cap),
                refill_below,
                max_release_share: if own.random_bool(0.5) {
                    1.0
                } else {
                    own.random_range(0.01..1.0)
                },
                max_buy_share: if own.random_bool(0.5) {
                    0.05
                } else {
                    own.random_range(0.001..1.0)
                },
            });
        }
    }
    Case {
        start_year: 2025,
        years,
        steps_per_year,
        discount_rate: if rng.random_bool(0.5) {
            0.0
        } else {
            rng.random_range(0.0..0.1)
        },
        runs: rng.random_range(1..=20),
        seed: u64::from(rng.random::<u32>()),
        materials,
        events,
    }
}

impl Case {
    /// Whether `event` hits `source` of material `m`.
    fn hits(&self, event: &Event, m: usize, source: &Source) -> bool {
        let named = match &event.materials {
            None => true,
            Some(ids) => ids.contains(&self.materials[m].id),
        };
        named
            && match &event.target {
                Target::Region(r) => *r == source.region,
                Target::Route(r) => source.routes.contains(r),
            }
    }

    /// Whether the case is a valid scenario: every event hits a flow of a
    /// material it names, and names at least one.
    pub fn valid(&self) -> bool {
        self.events.iter().all(|e| {
            e.materials.as_ref().is_none_or(|ids| !ids.is_empty())
                && (0..self.materials.len())
                    .any(|m| self.materials[m].sources.iter().any(|s| self.hits(e, m, s)))
        })
    }

    /// The scenario file.
    pub fn toml(&self) -> String {
        let step = match self.steps_per_year {
            12 => "month",
            4 => "quarter",
            _ => "year",
        };
        let mut t = format!(
            "[simulation]\nname = \"reference\"\nstart_year = {}\nyears = {}\nstep = \"{step}\"\n\
             runs = {}\nseed = {}\ndiscount_rate = {}\n\n",
            self.start_year,
            self.years,
            self.runs,
            self.seed,
            f(self.discount_rate)
        );
        let uniform = |(lo, hi): (f64, f64)| {
            format!("{{ dist = \"uniform\", min = {}, max = {} }}", f(lo), f(hi))
        };
        for m in &self.materials {
            let _ = writeln!(
                t,
                "[[material]]\nid = \"{}\"\ndemand_tpy = {}\ndemand_growth = {}\n\
                 price_eur_per_t = {}\nvalue_of_lost_load_eur_per_t = {}\nmax_price_multiple = {}",
                m.id,
                uniform(m.demand_tpy),
                uniform(m.growth),
                f(m.price),
                f(m.voll),
                f(m.max_price_multiple)
            );
            if let Some(e) = m.elasticity {
                let _ = writeln!(t, "demand_elasticity = {}", f(e));
            }
            let _ = writeln!(
                t,
                "supply_elasticity = {}\nmarket_share = {}",
                f(m.supply_elasticity),
                f(m.market_share)
            );
            for s in &m.sources {
                let routes: Vec<String> = s.routes.iter().map(|r| format!("\"{r}\"")).collect();
                let _ = writeln!(
                    t,
                    "[[material.source]]\nregion = \"{}\"\nshare = {}\nroutes = [{}]\n\
                     spare_capacity = {}\nramp_months = {}",
                    s.region,
                    f(s.share),
                    routes.join(", "),
                    uniform(s.spare),
                    f(s.ramp_months)
                );
            }
            t.push('\n');
        }
        for (i, e) in self.events.iter().enumerate() {
            let materials = match &e.materials {
                None => "\"all\"".to_string(),
                Some(ids) => format!(
                    "[{}]",
                    ids.iter()
                        .map(|id| format!("\"{id}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let target = match &e.target {
                Target::Region(r) => format!("region = \"{r}\""),
                Target::Route(r) => format!("route = \"{r}\""),
            };
            let scope = match e.scope {
                None => "",
                Some(Scope::World) => "scope = \"world\"\n",
                Some(Scope::Region) => "scope = \"region\"\n",
            };
            let _ = writeln!(
                t,
                "[[disruption]]\nname = \"e{i}\"\nmaterials = {materials}\n{target}\n{scope}\
                 start = \"{}-{:02}\"\nduration_months = {}\nseverity = {}\n",
                self.start_year + (e.start_month / 12) as i32,
                e.start_month % 12 + 1,
                f(e.duration_months),
                f(e.severity)
            );
        }
        for m in &self.materials {
            let Some(sp) = &m.stockpile else { continue };
            let target = match sp.target {
                StockTarget::Days(d) => format!("target_days = {}", f(d)),
                StockTarget::Tonnes(x) => format!("target_t = {}", f(x)),
            };
            let _ = writeln!(
                t,
                "[[stockpile]]\nmaterial = \"{}\"\n{target}\ninitial_fill = {}\n\
                 release_trigger = {}\nrelease_fraction = {}\nreplenish_tpy = {}\n\
                 holding_cost_rate = {}\nbuy_initial = {}\nrefill_in_shortage = {}",
                m.id,
                f(sp.initial_fill),
                f(sp.release_trigger),
                f(sp.release_fraction),
                f(sp.replenish_tpy),
                f(sp.holding_cost_rate),
                sp.buy_initial,
                sp.refill_in_shortage
            );
            if sp.max_release_tpy.is_finite() {
                let _ = writeln!(t, "max_release_tpy = {}", f(sp.max_release_tpy));
            }
            if sp.refill_price_cap.is_finite() {
                let _ = writeln!(t, "refill_price_cap = {}", f(sp.refill_price_cap));
            }
            if let Some(c) = sp.price_ceiling {
                let _ = writeln!(t, "release_rule = \"price\"\nprice_ceiling = {}", f(c));
            }
            let _ = writeln!(t, "max_buy_share = {}", f(sp.max_buy_share));
            t.push('\n');
        }
        for m in &self.materials {
            let Some(v) = &m.inventory else { continue };
            let _ = writeln!(
                t,
                "[[inventory]]\nmaterial = \"{}\"\ndays = {}\nrelease_above = {}\n\
                 refill_below = {}\nmax_release_share = {}\nmax_buy_share = {}\n",
                m.id,
                f(v.days),
                f(v.release_above),
                f(v.refill_below),
                f(v.max_release_share),
                f(v.max_buy_share)
            );
        }
        t
    }
}

/// What one run drew for a material: demand, growth, and each source's
/// spare capacity.
pub struct Draws {
    pub demand_tpy: f64,
    pub growth: f64,
    pub spare: Vec<f64>,
}

impl Draws {
    /// The draws of material `m` among a run's parameters, by name.
    pub fn of(case: &Case, m: usize, names: &[String], values: &[f64]) -> Draws {
        let mat = &case.materials[m];
        let get = |field: &str| {
            let name = format!("material[{}].{field}", mat.id);
            let i = names
                .iter()
                .position(|n| *n == name)
                .unwrap_or_else(|| panic!("no parameter {name} in {names:?}"));
            values[i]
        };
        Draws {
            demand_tpy: get("demand_tpy"),
            growth: get("demand_growth"),
            spare: mat
                .sources
                .iter()
                .map(|s| get(&format!("source[{}].spare_capacity", s.region)))
                .collect(),
        }
    }
}

/// One material's run: each variable's series (in [`Variable::ALL`] order)
/// and each total (in [`Metric::ALL`] order).
pub struct Run {
    pub series: Vec<Vec<f64>>,
    pub totals: [f64; N_METRICS],
    /// Steps in which the private inventory sold, and in which it bought.
    pub inventory_steps: (u32, u32),
}

/// The price multiple x where the market's demand x^e meets its supply
/// (1 - lost) x^eta + extra, by bisection on ln x; the cap when demand is
/// still above supply there.
fn world_price(e: f64, eta: f64, lost: f64, extra: f64, cap: f64) -> f64 {
    let excess = |x: f64| x.powf(e) - (1.0 - lost) * x.powf(eta) - extra;
    if lost == 0.0 && extra == 0.0 {
        // Nothing happens: the base price, exactly.
        return 1.0;
    }
    if excess(cap) >= 0.0 {
        return cap;
    }
    // Demand falls and supply rises with the price; below 1e-3 of the
    // base price no case of the generator has a root.
    let (mut lo, mut hi) = (1e-3f64.ln(), cap.ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if excess(mid.exp()) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// Material `m` of `case` stepped through the horizon with `draws`,
/// following docs/model.md and the market's contract step by step.
pub fn run(case: &Case, m: usize, draws: &Draws) -> Run {
    let mat = &case.materials[m];
    let spy = case.steps_per_year;
    let steps = (case.years * spy) as usize;
    let dt = 1.0 / f64::from(spy);
    let months_per_step = 12 / spy;
    let discount = |years: f64| (1.0 + case.discount_rate).powf(-years);
    let p0 = mat.price;
    let rho = mat.market_share;
    let cap = mat.max_price_multiple;

    // Availability a_s(t): the product of (1 - severity) of the events
    // active at t hitting the source's region or one of its routes; a_w
    // the same over the world-scope events only. An event starts in the
    // step holding its month and lasts its duration rounded up to whole
    // steps, at least one.
    let mut avail = vec![vec![1.0; steps]; mat.sources.len()];
    let mut avail_world = vec![vec![1.0; steps]; mat.sources.len()];
    for e in &case.events {
        let first = (e.start_month / months_per_step) as usize;
        let n = ((e.duration_months / f64::from(months_per_step)).ceil() as usize).max(1);
        let world = match (e.scope, &e.target) {
            (Some(scope), _) => scope == Scope::World,
            (None, Target::Region(_)) => true,
            (None, Target::Route(_)) => false,
        };
        for (k, s) in mat.sources.iter().enumerate() {
            if case.hits(e, m, s) {
                for t in first..(first + n).min(steps) {
                    avail[k][t] *= 1.0 - e.severity;
                    if world {
                        avail_world[k][t] *= 1.0 - e.severity;
                    }
                }
            }
        }
    }

    let mut series = vec![vec![0.0; steps]; Variable::ALL.len()];
    let mut put = |var: Variable, t: usize, x: f64| series[var as usize][t] = x;
    let growth = draws.growth.max(-1.0);
    let mut level = 0.0;
    // The inventory's size (set at the first step) and level.
    let (mut inv_size, mut inv_level) = (0.0, 0.0);
    let mut inventory_steps = (0, 0);
    let mut episode = 0u32;
    let mut totals = [0.0; N_METRICS];
    let mut add = |k: Metric, x: f64| totals[k as usize] += x;
    let (mut short_steps, mut run_length, mut longest) = (0u32, 0u32, 0u32);
    let mut peak = 1.0f64;
    for t in 0..steps {
        let time = t as f64 * dt;
        let disc = discount(time);
        // 1. Demand, growth counted to the start of the step.
        let d = draws.demand_tpy.max(0.0) * (1.0 + growth).powf(time) * dt;
        // 2.-4. No secondary supply and no refinery: the need is the demand.
        let need = d;
        // 5.-6. Losses, and what spare capacity makes up, ramping over the
        // months of the loss episode.
        let lost: f64 = mat
            .sources
            .iter()
            .zip(&avail)
            .map(|(s, a)| s.share * need * (1.0 - a[t]))
            .sum();
        let lost_world: f64 = mat
            .sources
            .iter()
            .zip(&avail_world)
            .map(|(s, a)| s.share * need * (1.0 - a[t]))
            .sum();
        episode = if lost > 0.0 { episode + 1 } else { 0 };
        let k_months = f64::from(episode * months_per_step);
        let spare: f64 = mat
            .sources
            .iter()
            .zip(&avail)
            .zip(&draws.spare)
            .map(|((s, a), &spare)| {
                let ramp = if s.ramp_months > 0.0 {
                    (k_months / s.ramp_months).min(1.0)
                } else {
                    1.0
                };
                spare.max(0.0) * s.share * need * a[t] * ramp
            })
            .sum();
        let compensation = lost.min(spare);
        // 7. Gap, split by scope in proportion to the two losses.
        let gap = (lost - compensation).max(0.0);
        let x_w = if lost > 0.0 {
            gap * lost_world / lost
        } else {
            0.0
        };
        let x_r = gap - x_w;
        let target = mat.stockpile.as_ref().map_or(0.0, |sp| match sp.target {
            StockTarget::Days(days) => days / 365.0 * d / dt,
            StockTarget::Tonnes(x) => x,
        });
        if let (0, Some(sp)) = (t, &mat.stockpile) {
            level = sp.initial_fill * target;
            if sp.buy_initial {
                add(Metric::StockpileCostEur, level * p0);
            }
        }
        let max_release = mat
            .stockpile
            .as_ref()
            .map_or(0.0, |sp| sp.max_release_tpy * dt);
        // 8. The market.
        let (x, x_r_price, consumption, reduction, shortfall, release, supply);
        match mat.elasticity {
            Some(e) => {
                let eta = mat.supply_elasticity;
                let l = if d > 0.0 { x_w / d } else { 0.0 };
                let zshare = |x: f64| x.powf(e);
                // 8.0 The private inventory: it sells down to its release
                // price, or else buys back what keeps the price at or
                // below its refill price; v is its net sale.
                let mut v = 0.0;
                if let Some(inv) = &mat.inventory {
                    if t == 0 {
                        inv_size = inv.days / 365.0 * d / (rho * dt);
                        inv_level = inv_size;
                    }
                    let x_pre = world_price(e, eta, l, 0.0, cap);
                    let (c, r) = (inv.release_above, inv.refill_below);
                    if x_pre > c && d > 0.0 {
                        let sold = ((d / rho) * (c.powf(e) - (1.0 - l) * c.powf(eta)))
                            .min(inv_level)
                            .min(inv_size * inv.max_release_share * f64::from(months_per_step))
                            .max(0.0);
                        inv_level -= sold;
                        v = sold;
                        inventory_steps.0 += u32::from(sold > 0.0);
                    } else if inv_level < inv_size && d > 0.0 {
                        let room = (d / rho) * ((1.0 - l) * r.powf(eta) - r.powf(e));
                        let bought = (inv_size - inv_level)
                            .min(inv.max_buy_share * d / rho)
                            .min(room)
                            .max(0.0);
                        inv_level += bought;
                        v = -bought;
                        inventory_steps.1 += u32::from(bought > 0.0);
                    }
                }
                let world = |extra_t: f64| {
                    if d > 0.0 {
                        world_price(e, eta, l, rho * extra_t / d, cap)
                    } else {
                        world_price(e, eta, l, 0.0, cap)
                    }
                };
                // 8.1 The world price before the stock (with the
                // inventory's trade).
                let x0 = world(v);
                // 8.2 A market release down to the ceiling, on what the
                // inventory left.
                let mut r_m = 0.0;
                if let Some(sp) = &mat.stockpile {
                    if let Some(c) = sp.price_ceiling {
                        if x0 > c && d > 0.0 {
                            r_m = ((d / rho) * (c.powf(e) - (1.0 - l) * c.powf(eta)) - v)
                                .min(level)
                                .min(max_release)
                                .max(0.0);
                            level -= r_m;
                        }
                    }
                }
                let mut xw = if r_m > 0.0 { world(v + r_m) } else { x0 };
                // 8.3 Purchases, when the stock does not release.
                let access0 = if x0 >= cap {
                    (d - x_r).min(d * (1.0 - l) * cap.powf(eta) + rho * v)
                } else {
                    d - x_r
                };
                let gap0 = d * zshare(x0) - access0;
                let mut bought = 0.0;
                if let Some(sp) = &mat.stockpile {
                    let releasing = r_m > 0.0 || gap0 > sp.release_trigger * d;
                    if !releasing
                        && x0 < cap
                        && level < target
                        && x0 <= sp.refill_price_cap
                        && (sp.refill_in_shortage || gap0 <= 0.0)
                        && d > 0.0
                    {
                        let room = (d / rho) * ((1.0 - l) * cap.powf(eta) - cap.powf(e)) + v;
                        bought = (target - level)
                            .min(sp.replenish_tpy * dt)
                            .min(sp.max_buy_share * d / rho)
                            .min(room)
                            .max(0.0);
                        level += bought;
                        add(Metric::StockpileCostEur, bought * p0 * disc);
                        // 8.4 The world price with the purchase.
                        xw = world(v - bought);
                    }
                }
                // 8.5 The region's access; rationed at the cap.
                let mut a1 = d - x_r + r_m;
                // A purchase stops at the cap and never rations.
                if xw >= cap && x0 >= cap {
                    a1 = a1.min(d * (1.0 - l) * cap.powf(eta) + rho * (v + r_m - bought));
                }
                // 8.6 A gap release.
                let wants = d * zshare(xw);
                let mut g = 0.0;
                if let Some(sp) = &mat.stockpile {
                    if wants - a1 > sp.release_trigger * d {
                        g = (sp.release_fraction * (wants - a1))
                            .min(level)
                            .min(max_release - r_m)
                            .max(0.0);
                        level -= g;
                    }
                }
                let a = a1 + g;
                // 8.7-8.8 The region's price and its quantities.
                let (xr, q) = if wants <= a || d == 0.0 {
                    (xw, wants)
                } else {
                    let bid = (a / d).powf(1.0 / e);
                    if bid < cap {
                        // Users get exactly what they bid for.
                        (bid, a)
                    } else {
                        (cap, d * zshare(cap))
                    }
                };
                let delivered = q.min(a);
                x = xw;
                x_r_price = xr;
                consumption = delivered;
                reduction = d - q;
                shortfall = q - delivered;
                release = r_m + g;
                supply = (consumption - release).max(0.0);
            }
            None => {
                // Nothing clears: today's balance.
                let mut g = 0.0;
                if let Some(sp) = &mat.stockpile {
                    if gap > sp.release_trigger * d {
                        g = (sp.release_fraction * gap).min(level).min(max_release);
                        level -= g;
                    } else if level < target
                        && 1.0 <= sp.refill_price_cap
                        && (sp.refill_in_shortage || gap == 0.0)
                    {
                        let buy = (target - level).min(sp.replenish_tpy * dt).min(if d > 0.0 {
                            sp.max_buy_share * d / rho
                        } else {
                            0.0
                        });
                        level += buy;
                        add(Metric::StockpileCostEur, buy * p0 * disc);
                    }
                }
                x = 1.0;
                x_r_price = 1.0;
                shortfall = gap - g;
                consumption = d - shortfall;
                reduction = 0.0;
                release = g;
                supply = d - gap;
            }
        }
        if let Some(sp) = &mat.stockpile {
            // Holding cost on the level at the end of the step, at the
            // base price.
            add(
                Metric::StockpileCostEur,
                level * p0 * sp.holding_cost_rate * dt * disc,
            );
        }
        // 9. Costs.
        if let Some(e) = mat.elasticity {
            let loss = if e == -1.0 {
                x_r_price.ln()
            } else {
                (x_r_price.powf(1.0 + e) - 1.0) / (1.0 + e)
            };
            add(Metric::PriceCostEur, d * p0 * loss * disc);
        }
        add(
            Metric::ShortageCostEur,
            shortfall * (mat.voll - x_r_price * p0) * disc,
        );
        add(Metric::StockpileSalesEur, release * x_r_price * p0 * disc);
        peak = peak.max(x_r_price);

        put(Variable::Demand, t, d);
        put(Variable::Supply, t, supply);
        put(
            Variable::Imports,
            t,
            if mat.elasticity.is_some() {
                supply
            } else {
                need - gap
            },
        );
        put(Variable::StockpileLevel, t, level);
        put(Variable::Release, t, release);
        put(Variable::Shortfall, t, shortfall);
        put(Variable::Price, t, x_r_price * p0);
        put(Variable::WorldPrice, t, x * p0);
        put(Variable::Consumption, t, consumption);
        put(Variable::DemandReduction, t, reduction);
        put(Variable::FeedAvailability, t, 1.0);
        add(Metric::DemandT, d);
        add(Metric::SupplyT, supply);
        add(Metric::ShortfallT, shortfall);
        add(Metric::ReleaseT, release);
        add(Metric::DemandReductionT, reduction);
        if shortfall > 0.0 {
            short_steps += 1;
            run_length += 1;
            longest = longest.max(run_length);
        } else {
            run_length = 0;
        }
    }
    let demand_t = totals[Metric::DemandT as usize];
    totals[Metric::ShortfallFraction as usize] = if demand_t > 0.0 {
        totals[Metric::ShortfallT as usize] / demand_t
    } else {
        0.0
    };
    totals[Metric::ShortfallSteps as usize] = f64::from(short_steps);
    totals[Metric::LongestShortfallSteps as usize] = f64::from(longest);
    totals[Metric::StockpileEndValueEur as usize] = level * p0 * discount(steps as f64 * dt);
    totals[Metric::WelfareLossEur as usize] = totals[Metric::PriceCostEur as usize]
        - totals[Metric::ProducerGainEur as usize]
        + totals[Metric::ShortageCostEur as usize];
    totals[Metric::PeakPriceMultiple as usize] = peak;
    Run {
        series,
        totals,
        inventory_steps,
    }
}

/// A generator of cases, the same every time.
pub fn cases(seed: u64) -> impl Iterator<Item = Case> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    std::iter::repeat_with(move || random_case(&mut rng)).filter(Case::valid)
}
