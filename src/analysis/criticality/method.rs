//! The EU criticality method (European Commission 2017 guidelines, Blengini
//! et al., JRC): the formulas, and the static assessment of every material
//! and stage of an indicator file.
//!
//! Scaling (docs/criticality.md gives the derivation):
//! - HHI_WGI,t = sum_c S_c^2 x WGI_c x t_c with S_c a fraction (the guidelines'
//!   shares in per cent give an HHI up to 10,000, divided by 10,000: the same
//!   number), WGI_c scaled to 0-10 and t_c in [0.8, 1.5] (0.8 for EU member
//!   states and trade-agreement partners), so HHI_WGI,t is in [0, 10 t]. Global
//!   supply and EU sourcing each have their own t_c.
//! - SR = [HHI_GS x IR/2 + HHI_EU x (1 - IR/2)] x (1 - EoL_RIR) x SI_SR, or,
//!   for a stage the study assessed on one supply only,
//!   SR = HHI x (1 - EoL_RIR) x SI_SR with that supply's HHI.
//! - EI = 10 x sum_s A_s Q_s / Q_ref x SI_EI, with Q_ref the value added of
//!   the largest NACE two-digit manufacturing sector, so EI is in [0, 10];
//!   A_s are the listed use shares, and uses without a sector add nothing.
//!
//! The unassigned rest of a share table (`other`) contributes nothing to an
//! HHI: it is taken as many small suppliers, which makes the HHI a lower
//! bound when the rest is large (its share is reported next to the HHI).

use super::input::{Indicators, MaterialInputs, Shares, SrBasis, StageInputs, StageKind};
use std::collections::BTreeMap;

/// The Herfindahl index sum_c S_c^2 of the named countries, in [0, 1].
pub fn concentration(shares: &Shares) -> f64 {
    shares.countries().values().map(|s| s * s).sum()
}

/// HHI_WGI,t = sum_c S_c^2 x WGI_c x t_c over the named countries with a
/// positive share; t_c is 1 for countries without a restriction factor.
///
/// # Errors
/// The codes of the countries with a positive share and no WGI score.
pub fn hhi_wgi_t(
    shares: &Shares,
    wgi: &BTreeMap<String, f64>,
    restrictions: &BTreeMap<String, f64>,
) -> Result<f64, Vec<String>> {
    let mut missing = Vec::new();
    let mut hhi = 0.0;
    for (code, &s) in shares.countries() {
        if s <= 0.0 {
            continue;
        }
        match wgi.get(code) {
            Some(&w) => hhi += s * s * w * restrictions.get(code).copied().unwrap_or(1.0),
            None => missing.push(code.clone()),
        }
    }
    if missing.is_empty() {
        Ok(hhi)
    } else {
        Err(missing)
    }
}

/// SR = [HHI_GS x IR/2 + HHI_EU x (1 - IR/2)] x (1 - EoL_RIR) x SI_SR.
pub fn supply_risk(hhi_gs: f64, hhi_eu: f64, ir: f64, eol_rir: f64, si_sr: f64) -> f64 {
    (hhi_gs * ir / 2.0 + hhi_eu * (1.0 - ir / 2.0)) * (1.0 - eol_rir) * si_sr
}

/// SR of a stage assessed on one supply only (global supply or EU
/// sourcing): SR = HHI x (1 - EoL_RIR) x SI_SR. Import reliance does not
/// enter: it only weighs the two supplies against each other.
pub fn supply_risk_one_sided(hhi: f64, eol_rir: f64, si_sr: f64) -> f64 {
    hhi * (1.0 - eol_rir) * si_sr
}

/// EI = 10 x sum_s (A_s x Q_s) / Q_ref x SI_EI; `end_use` pairs the share
/// A_s with the value added Q_s of each sector.
pub fn economic_importance(end_use: &[(f64, f64)], reference: f64, si_ei: f64) -> f64 {
    let sum: f64 = end_use.iter().map(|(a, q)| a * q).sum();
    10.0 * sum / reference * si_ei
}

/// Critical when SR >= its threshold and EI >= its threshold. Known to be
/// false as soon as one known value is below its threshold; unknown (`None`)
/// otherwise when a value is missing.
pub fn critical(
    sr: Option<f64>,
    ei: Option<f64>,
    sr_threshold: f64,
    ei_threshold: f64,
) -> Option<bool> {
    let sr_ok = sr.map(|x| x >= sr_threshold);
    let ei_ok = ei.map(|x| x >= ei_threshold);
    match (sr_ok, ei_ok) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// The assessment of one stage of one material.
#[derive(Debug, Clone, PartialEq)]
pub struct StageResult {
    /// The stage.
    pub stage: StageKind,
    /// HHI_WGI,t of global supply.
    pub hhi_gs: Option<f64>,
    /// HHI_WGI,t of EU sourcing.
    pub hhi_eu: Option<f64>,
    /// Plain concentration sum S_c^2 of global supply.
    pub conc_gs: Option<f64>,
    /// Plain concentration sum S_c^2 of EU sourcing.
    pub conc_eu: Option<f64>,
    /// Unassigned rest of global supply.
    pub other_gs: Option<f64>,
    /// Unassigned rest of EU sourcing.
    pub other_eu: Option<f64>,
    /// EU import reliance.
    pub ir: Option<f64>,
    /// End-of-life recycling input rate (the material's).
    pub eol_rir: Option<f64>,
    /// Substitution index for supply risk (the material's).
    pub si_sr: Option<f64>,
    /// Which supply the SR uses (both, global supply only, EU sourcing only).
    pub sr_basis: SrBasis,
    /// Supply risk.
    pub sr: Option<f64>,
    /// The inputs that are missing for SR, by field path.
    pub sr_missing: Vec<String>,
}

/// The assessment of one material.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialResult {
    /// Material id.
    pub id: String,
    /// One result per stage in the file, extraction first.
    pub stages: Vec<StageResult>,
    /// The material's SR: the highest SR among its stages (the bottleneck),
    /// known when every stage's SR is.
    pub sr: Option<f64>,
    /// The stage that gives [`MaterialResult::sr`].
    pub bottleneck: Option<StageKind>,
    /// Economic importance.
    pub ei: Option<f64>,
    /// The inputs that are missing for EI.
    pub ei_missing: Vec<String>,
    /// Critical at some stage (see [`critical`]): known to be true when one
    /// stage is, known to be false when no stage can be.
    pub critical: Option<bool>,
}

impl MaterialResult {
    /// Critical with stage `s`'s SR.
    pub fn stage_critical(&self, s: &StageResult, a: &Assessment) -> Option<bool> {
        critical(s.sr, self.ei, a.sr_threshold, a.ei_threshold)
    }
}

/// The static assessment of an indicator file.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The assessment's name.
    pub name: String,
    /// SR threshold.
    pub sr_threshold: f64,
    /// EI threshold.
    pub ei_threshold: f64,
    /// One result per material, in file order.
    pub materials: Vec<MaterialResult>,
}

/// HHI_WGI,t of one side of `stage`: global supply (`gs`) or EU sourcing,
/// under that side's t_c. What is missing is recorded in `missing` when the
/// SR needs this side (`needed`), so that a one-sided SR does not list the
/// other side's gaps.
fn stage_hhi(
    ind: &Indicators,
    stage: &StageInputs,
    gs: bool,
    needed: bool,
    missing: &mut Vec<String>,
) -> Option<f64> {
    let (shares, restrictions, field) = if gs {
        (
            stage.global_supply.as_ref(),
            stage.restrictions_gs.as_ref(),
            "global_supply",
        )
    } else {
        (
            stage.eu_sourcing.as_ref(),
            stage.restrictions_eu.as_ref(),
            "eu_sourcing",
        )
    };
    let mut gaps = Vec::new();
    if restrictions.is_none() {
        gaps.push(stage.restrictions_field(gs));
    }
    let hhi = match shares {
        None => {
            gaps.push(format!("{}.{field}", stage.kind.name()));
            None
        }
        Some(shares) => {
            // Scores are looked up even without restriction factors, so that
            // every missing input is listed at once.
            let none = BTreeMap::new();
            match hhi_wgi_t(shares, &ind.wgi, restrictions.unwrap_or(&none)) {
                Ok(h) => restrictions.map(|_| h),
                Err(codes) => {
                    gaps.extend(codes.into_iter().map(|c| format!("wgi.{c}")));
                    None
                }
            }
        }
    };
    if needed {
        missing.extend(gaps);
    }
    hhi
}

/// Sorted and without repeats, so each missing input is listed once.
fn tidy(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// The SR-related result of one stage.
pub(crate) fn assess_stage(
    ind: &Indicators,
    m: &MaterialInputs,
    stage: &StageInputs,
) -> StageResult {
    let mut missing = Vec::new();
    let basis = stage.sr_basis;
    let hhi_gs = stage_hhi(ind, stage, true, basis.uses_global(), &mut missing);
    let hhi_eu = stage_hhi(ind, stage, false, basis.uses_eu(), &mut missing);
    // Import reliance weighs the two supplies; a one-sided SR has no use for it.
    if stage.ir.is_none() && basis == SrBasis::Both {
        missing.push(format!("{}.ir", stage.kind.name()));
    }
    if m.eol_rir.is_none() {
        missing.push("eol_rir".into());
    }
    if m.si_sr.is_none() {
        missing.push("si_sr".into());
    }
    let sr = match (basis, m.eol_rir, m.si_sr) {
        (SrBasis::Both, Some(eol), Some(si)) => match (hhi_gs, hhi_eu, stage.ir) {
            (Some(g), Some(e), Some(ir)) => Some(supply_risk(g, e, ir, eol, si)),
            _ => None,
        },
        (SrBasis::Global, Some(eol), Some(si)) => hhi_gs.map(|h| supply_risk_one_sided(h, eol, si)),
        (SrBasis::Eu, Some(eol), Some(si)) => hhi_eu.map(|h| supply_risk_one_sided(h, eol, si)),
        _ => None,
    };
    StageResult {
        stage: stage.kind,
        hhi_gs,
        hhi_eu,
        conc_gs: stage.global_supply.as_ref().map(concentration),
        conc_eu: stage.eu_sourcing.as_ref().map(concentration),
        other_gs: stage.global_supply.as_ref().map(Shares::other),
        other_eu: stage.eu_sourcing.as_ref().map(Shares::other),
        ir: stage.ir,
        eol_rir: m.eol_rir,
        si_sr: m.si_sr,
        sr_basis: basis,
        sr,
        sr_missing: tidy(missing),
    }
}

fn assess_ei(ind: &Indicators, m: &MaterialInputs) -> (Option<f64>, Vec<String>) {
    let mut missing = Vec::new();
    let mut pairs = Vec::new();
    match &m.end_use {
        Some(shares) => {
            for (nace, &a) in shares {
                match ind.sectors.get(nace).copied().flatten() {
                    Some(q) => pairs.push((a, q)),
                    None if a > 0.0 => {
                        missing.push(format!("sector.{nace}.value_added_meur"));
                    }
                    None => {}
                }
            }
        }
        None => missing.push("end_use".into()),
    }
    if ind.ei_reference.is_none() {
        missing.push("ei_reference_meur".into());
    }
    if m.si_ei.is_none() {
        missing.push("si_ei".into());
    }
    let ei = match (missing.is_empty(), ind.ei_reference, m.si_ei) {
        (true, Some(r), Some(si)) => Some(economic_importance(&pairs, r, si)),
        _ => None,
    };
    (ei, tidy(missing))
}

/// Assesses every material and stage of `ind`.
pub fn assess(ind: &Indicators) -> Assessment {
    let materials = ind
        .materials
        .iter()
        .map(|m| {
            let stages: Vec<StageResult> =
                m.stages.iter().map(|s| assess_stage(ind, m, s)).collect();
            // The bottleneck: the stage with the highest SR (the first on a
            // tie), known only when every stage's SR is known.
            let mut bottleneck: Option<(StageKind, f64)> = None;
            for s in &stages {
                if let Some(sr) = s.sr {
                    if bottleneck.is_none_or(|(_, b)| sr > b) {
                        bottleneck = Some((s.stage, sr));
                    }
                }
            }
            if stages.iter().any(|s| s.sr.is_none()) {
                bottleneck = None;
            }
            let (ei, ei_missing) = assess_ei(ind, m);
            // Critical at any stage: true if one stage is, false if all are not.
            let per_stage: Vec<Option<bool>> = stages
                .iter()
                .map(|s| critical(s.sr, ei, ind.sr_threshold, ind.ei_threshold))
                .collect();
            let critical = if per_stage.contains(&Some(true)) {
                Some(true)
            } else if per_stage.iter().all(|c| *c == Some(false)) {
                Some(false)
            } else {
                None
            };
            MaterialResult {
                id: m.id.clone(),
                stages,
                sr: bottleneck.map(|b| b.1),
                bottleneck: bottleneck.map(|b| b.0),
                ei,
                ei_missing,
                critical,
            }
        })
        .collect();
    Assessment {
        name: ind.name.clone(),
        sr_threshold: ind.sr_threshold,
        ei_threshold: ind.ei_threshold,
        materials,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(pairs: &[(&str, f64)], other: f64) -> Shares {
        Shares {
            countries: pairs.iter().map(|(c, s)| (c.to_string(), *s)).collect(),
            other,
        }
    }

    fn map(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(c, s)| (c.to_string(), *s)).collect()
    }

    #[test]
    fn hhi_by_hand() {
        // 0.6^2 x 6 x 1.25 + 0.3^2 x 2 + 0.1^2 x 4 = 2.7 + 0.18 + 0.04 = 2.92.
        let s = shares(&[("A", 0.6), ("B", 0.3), ("C", 0.1)], 0.0);
        let wgi = map(&[("A", 6.0), ("B", 2.0), ("C", 4.0)]);
        let h = hhi_wgi_t(&s, &wgi, &map(&[("A", 1.25)])).unwrap();
        assert!((h - 2.92).abs() < 1e-12, "{h}");
        // Plain concentration 0.36 + 0.09 + 0.01.
        assert!((concentration(&s) - 0.46).abs() < 1e-12);
        // The rest contributes nothing; a country without a score is named.
        let s = shares(&[("A", 0.5), ("D", 0.25)], 0.25);
        assert_eq!(
            hhi_wgi_t(&s, &wgi, &BTreeMap::new()),
            Err(vec!["D".to_string()])
        );
        let s = shares(&[("A", 0.5)], 0.5);
        assert_eq!(hhi_wgi_t(&s, &wgi, &BTreeMap::new()), Ok(1.5));
    }

    #[test]
    fn sr_and_ei_by_hand() {
        // [2.92 x 0.4 + 2.375 x 0.6] x 0.9 x 0.9 = 2.593 x 0.81 = 2.10033.
        let sr = supply_risk(2.92, 2.375, 0.8, 0.1, 0.9);
        assert!((sr - 2.10033).abs() < 1e-12, "{sr}");
        // IR = 1 weighs both HHIs equally; IR = 0 uses EU sourcing only.
        assert_eq!(supply_risk(4.0, 2.0, 1.0, 0.0, 1.0), 3.0);
        assert_eq!(supply_risk(4.0, 2.0, 0.0, 0.0, 1.0), 2.0);
        // 10 x (0.7 x 100,000 + 0.3 x 200,000) / 250,000 x 0.95 = 4.94.
        let ei = economic_importance(&[(0.7, 100_000.0), (0.3, 200_000.0)], 250_000.0, 0.95);
        assert!((ei - 4.94).abs() < 1e-12, "{ei}");
    }

    #[test]
    fn a_trade_agreement_lowers_the_hhi() {
        // 0.5^2 x 2 x 0.8 + 0.5^2 x 6 x 1.1 = 0.4 + 1.65 = 2.05.
        let s = shares(&[("A", 0.5), ("B", 0.5)], 0.0);
        let wgi = map(&[("A", 2.0), ("B", 6.0)]);
        let h = hhi_wgi_t(&s, &wgi, &map(&[("A", 0.8), ("B", 1.1)])).unwrap();
        assert!((h - 2.05).abs() < 1e-12, "{h}");
    }

    #[test]
    fn one_sided_sr_by_hand() {
        // 3.0 x (1 - 0.2) x 0.9 = 2.16; import reliance does not enter.
        let sr = supply_risk_one_sided(3.0, 0.2, 0.9);
        assert!((sr - 2.16).abs() < 1e-12, "{sr}");
    }

    /// One material, processing stage `stage`, WGI A 2, B 6; EoL-RIR 0.2,
    /// SI_SR 0.9; sectors S1 (100,000) and S2 (50,000), Q_ref 200,000.
    fn indicators(stage: &str, end_use: &str) -> Indicators {
        let text = format!(
            "[criticality]\nname = \"t\"\n\
             ei_reference_meur = {{ value = 200000, source = \"s\", year = 2020 }}\n\
             [[criticality.governance]]\nsource = \"s\"\nyear = 2020\nscores = {{ A = 2.0, B = 6.0 }}\n\
             [[criticality.sector]]\nnace = \"S1\"\n\
             value_added_meur = {{ value = 100000, source = \"s\", year = 2020 }}\n\
             [[criticality.sector]]\nnace = \"S2\"\n\
             value_added_meur = {{ value = 50000, source = \"s\", year = 2020 }}\n\
             [[criticality.material]]\nid = \"x\"\n\
             eol_rir = {{ value = 0.2, source = \"s\", year = 2020 }}\n\
             si_sr = {{ value = 0.9, source = \"s\", year = 2020 }}\n\
             si_ei = {{ value = 0.5, source = \"s\", year = 2020 }}\n{end_use}\n\
             [criticality.material.processing]\n\
             global_supply = {{ shares = {{ A = 0.5, B = 0.5 }}, source = \"s\", year = 2020 }}\n{stage}\n"
        );
        Indicators::from_toml(&text, std::path::Path::new("t.toml"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    const EU_B: &str = "eu_sourcing = { shares = { B = 1.0 }, source = \"s\", year = 2020 }\n";
    const IR: &str = "ir = { value = 0.5, source = \"s\", year = 2020 }\n";

    #[test]
    fn each_supply_has_its_own_trade_factors() {
        // GS: A 0.8, B 1.1: HHI_GS = 0.25 x 2 x 0.8 + 0.25 x 6 x 1.1 = 2.05.
        // EU: B 1.0 (no restriction in the EU table): HHI_EU = 1 x 6 = 6.
        // SR = (2.05 x 0.25 + 6 x 0.75) x 0.8 x 0.9 = 5.0125 x 0.72 = 3.609.
        let t = "export_restrictions_gs = { factors = { A = 0.8, B = 1.1 }, source = \"s\", year = 2020 }\n\
                 export_restrictions_eu = { factors = {}, source = \"s\", year = 2020 }\n";
        let a = assess(&indicators(&format!("{EU_B}{IR}{t}"), ""));
        let s = &a.materials[0].stages[0];
        assert!((s.hhi_gs.unwrap() - 2.05).abs() < 1e-12, "{:?}", s.hhi_gs);
        assert!((s.hhi_eu.unwrap() - 6.0).abs() < 1e-12, "{:?}", s.hhi_eu);
        assert!((s.sr.unwrap() - 3.609).abs() < 1e-12, "{:?}", s.sr);
        // With one table for both sides, B's 1.1 also weighs on EU
        // sourcing: HHI_EU = 6.6, SR = (2.05 x 0.25 + 6.6 x 0.75) x 0.72 = 3.933.
        let t = "export_restrictions = { factors = { A = 0.8, B = 1.1 }, source = \"s\", year = 2020 }\n";
        let a = assess(&indicators(&format!("{EU_B}{IR}{t}"), ""));
        let s = &a.materials[0].stages[0];
        assert!((s.sr.unwrap() - 3.933).abs() < 1e-12, "{:?}", s.sr);
        // A missing side table is named by its field.
        let t = "export_restrictions_gs = { factors = {}, source = \"s\", year = 2020 }\n";
        let a = assess(&indicators(&format!("{EU_B}{IR}{t}"), ""));
        let s = &a.materials[0].stages[0];
        assert_eq!(s.sr, None);
        assert_eq!(s.sr_missing, ["processing.export_restrictions_eu"]);
    }

    #[test]
    fn a_stage_assessed_on_one_supply() {
        let t = "export_restrictions = { factors = { A = 0.8 }, source = \"s\", year = 2020 }\n";
        // Global supply only: HHI_GS = 0.25 x 2 x 0.8 + 0.25 x 6 = 1.9,
        // SR = 1.9 x 0.8 x 0.9 = 1.368; no EU sourcing or IR needed.
        let a = assess(&indicators(&format!("sr_basis = \"global\"\n{t}"), ""));
        let s = &a.materials[0].stages[0];
        assert_eq!(s.sr_basis, SrBasis::Global);
        assert!((s.sr.unwrap() - 1.368).abs() < 1e-12, "{:?}", s.sr);
        assert!(s.sr_missing.is_empty(), "{:?}", s.sr_missing);
        assert_eq!(a.materials[0].sr, s.sr);
        // EU sourcing only: HHI_EU = 6, SR = 6 x 0.72 = 4.32, whatever IR is.
        let a = assess(&indicators(&format!("sr_basis = \"eu\"\n{EU_B}{t}"), ""));
        let s = &a.materials[0].stages[0];
        assert!((s.sr.unwrap() - 4.32).abs() < 1e-12, "{:?}", s.sr);
        // EU only without EU sourcing: that is what is missing.
        let a = assess(&indicators(&format!("sr_basis = \"eu\"\n{t}"), ""));
        assert_eq!(
            a.materials[0].stages[0].sr_missing,
            ["processing.eu_sourcing"]
        );
        // Both (the default) needs IR and EU sourcing.
        let a = assess(&indicators(t, ""));
        assert_eq!(
            a.materials[0].stages[0].sr_missing,
            ["processing.eu_sourcing", "processing.ir"]
        );
    }

    #[test]
    fn the_unassigned_end_use_rest_adds_nothing_to_ei() {
        // Listed 0.6 + 0.37 = 0.97: EI = 10 x (0.6 x 100,000 + 0.37 x 50,000)
        // / 200,000 x 0.5 = 10 x 78,500 / 200,000 x 0.5 = 1.9625.
        let eu = "end_use = { shares = { S1 = 0.6, S2 = 0.37 }, source = \"s\", year = 2020 }";
        let a = assess(&indicators("", eu));
        assert!((a.materials[0].ei.unwrap() - 1.9625).abs() < 1e-12);
        // 1.02 listed with uses without a sector (other 0.05), used as listed:
        // 10 x (0.6 x 100,000 + 0.37 x 50,000) / 200,000 x 0.5 = 1.9625 again.
        let eu = "end_use = { shares = { S1 = 0.6, S2 = 0.37, other = 0.05 }, source = \"s\", year = 2020 }";
        let a = assess(&indicators("", eu));
        assert!((a.materials[0].ei.unwrap() - 1.9625).abs() < 1e-12);
        assert!(a.materials[0].ei_missing.is_empty());
    }

    #[test]
    fn critical_is_known_when_it_can_be() {
        assert_eq!(critical(Some(1.0), Some(2.8), 1.0, 2.8), Some(true));
        assert_eq!(critical(Some(0.99), Some(9.0), 1.0, 2.8), Some(false));
        assert_eq!(critical(Some(0.5), None, 1.0, 2.8), Some(false));
        assert_eq!(critical(None, Some(1.0), 1.0, 2.8), Some(false));
        assert_eq!(critical(Some(3.0), None, 1.0, 2.8), None);
        assert_eq!(critical(None, None, 1.0, 2.8), None);
    }
}
