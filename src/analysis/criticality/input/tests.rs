//! Tests of the indicator file's checks: each error and each default.

use super::*;

/// A valid file: one material with a processing stage; `extra` is
/// appended inside that stage table.
fn file(stage: &str, extra: &str) -> String {
    format!(
        "[criticality]\nname = \"t\"\n\
             [[criticality.governance]]\nsource = \"s\"\nyear = 2022\nscores = {{ CN = 6.0 }}\n\
             [[criticality.sector]]\nnace = \"C26\"\n\
             [[criticality.material]]\nid = \"x\"\n{extra}\n\
             [criticality.material.processing]\n{stage}\n"
    )
}

fn parse(text: &str) -> Result<Indicators, IndicatorError> {
    Indicators::from_toml(text, Path::new("t.toml"))
}

fn error(text: &str) -> String {
    parse(text).expect_err("the file is invalid").to_string()
}

#[test]
fn defaults_and_normalized_shares() {
    let ind = parse(&file(
        "global_supply = { shares = { CN = 0.7, other = 0.3 }, source = \"s\", year = 2024 }",
        "",
    ))
    .unwrap();
    assert_eq!((ind.sr_threshold, ind.ei_threshold), (1.0, 2.8));
    assert_eq!(ind.weights.static_sr, 1.0);
    assert_eq!(ind.weights.shortfall_fraction, 1.0);
    let g = ind.materials[0].stages[0].global_supply.as_ref().unwrap();
    assert_eq!(g.other, 0.3);
    assert_eq!(g.countries["CN"], 0.7);
    assert_eq!(
        ind.materials[0].stages[0].ir, None,
        "a missing figure stays missing"
    );
}

#[test]
fn shares_must_sum_to_one() {
    let e = error(&file(
        "global_supply = { shares = { CN = 0.7, RU = 0.2 }, source = \"s\", year = 2024 }",
        "",
    ));
    assert!(
        e.starts_with(
            "t.toml:13: criticality.material[x].processing.global_supply.shares: must sum to 1"
        ),
        "{e}"
    );
    assert!(e.contains("other = 0.100000"), "{e}");
}

#[test]
fn a_share_is_a_fraction() {
    let e = error(&file(
        "eu_sourcing = { shares = { CN = 1.2, other = -0.2 }, source = \"s\", year = 2024 }",
        "",
    ));
    assert!(
        e.ends_with("processing.eu_sourcing.shares.CN: must be a fraction in [0, 1] (got 1.2)"),
        "{e}"
    );
}

#[test]
fn wgi_is_on_zero_to_ten() {
    let text = file("", "").replace("CN = 6.0", "CN = 10.5");
    let e = error(&text);
    assert_eq!(
        e,
        "t.toml:6: criticality.governance[0].scores.CN: must be a scaled WGI in [0, 10] (got 10.5)"
    );
}

#[test]
fn a_country_has_one_score() {
    let text = file("", "").replace(
        "[[criticality.sector]]",
        "[[criticality.governance]]\nsource = \"s\"\nyear = 2023\nscores = { CN = 5.0 }\n\
             [[criticality.sector]]",
    );
    assert!(error(&text).contains("criticality.governance[1].scores.CN: CN has a score"));
}

#[test]
fn trade_factors_are_between_0_8_and_1_5() {
    let ind = parse(&file(
        "export_restrictions = { factors = { CN = 0.8, RU = 1.5 }, source = \"s\", year = 2024 }",
        "",
    ))
    .unwrap();
    let stage = &ind.materials[0].stages[0];
    let both: BTreeMap<String, f64> = [("CN".to_string(), 0.8), ("RU".to_string(), 1.5)]
        .into_iter()
        .collect();
    assert_eq!(stage.export_restrictions.as_ref(), Some(&both));
    assert_eq!(stage.restrictions_gs.as_ref(), Some(&both));
    assert_eq!(stage.restrictions_eu.as_ref(), Some(&both));
    for bad in ["0.79", "1.6", "0"] {
        let e = error(&file(
                &format!(
                    "export_restrictions = {{ factors = {{ CN = {bad} }}, source = \"s\", year = 2024 }}"
                ),
                "",
            ));
        assert!(
            e.contains(&format!(
                "processing.export_restrictions.factors.CN: must be a factor t_c in [0.8, 1.5] \
                     (EU method: 0.8 for EU member states and trade-agreement partners, 1 \
                     otherwise, above 1 under export restrictions) (got {bad})"
            )),
            "{e}"
        );
    }
    let e = error(&file(
        "export_restrictions = { factors = { other = 1.1 }, source = \"s\", year = 2024 }",
        "",
    ));
    assert!(
        e.contains("factors.other: restrictions are per country"),
        "{e}"
    );
}

#[test]
fn trade_factors_may_differ_between_the_two_supplies() {
    let ind = parse(&file(
        "export_restrictions_gs = { factors = { CN = 1.1 }, source = \"s\", year = 2024 }\n\
             export_restrictions_eu = { factors = {}, source = \"s\", year = 2024 }",
        "",
    ))
    .unwrap();
    let stage = &ind.materials[0].stages[0];
    assert_eq!(stage.export_restrictions, None);
    assert_eq!(stage.restrictions_gs.as_ref().unwrap()["CN"], 1.1);
    assert!(stage.restrictions_eu.as_ref().unwrap().is_empty());
    assert_eq!(
        stage.restrictions_field(true),
        "processing.export_restrictions_gs"
    );
    // One side only: the other side's t is missing, not taken as 1.
    let ind = parse(&file(
        "export_restrictions_eu = { factors = {}, source = \"s\", year = 2024 }",
        "",
    ))
    .unwrap();
    assert_eq!(ind.materials[0].stages[0].restrictions_gs, None);
    // Both forms at once are ambiguous.
    let e = error(&file(
        "export_restrictions = { factors = {}, source = \"s\", year = 2024 }\n\
             export_restrictions_eu = { factors = {}, source = \"s\", year = 2024 }",
        "",
    ));
    assert!(
            e.starts_with("t.toml:14: criticality.material[x].processing.export_restrictions_eu: give either export_restrictions (both sides)"),
            "{e}"
        );
}

#[test]
fn the_sr_basis_is_both_global_or_eu() {
    let basis = |extra: &str| parse(&file(extra, "")).unwrap().materials[0].stages[0].sr_basis;
    assert_eq!(basis(""), SrBasis::Both);
    assert_eq!(basis("sr_basis = \"both\""), SrBasis::Both);
    assert_eq!(basis("sr_basis = \"global\""), SrBasis::Global);
    assert_eq!(basis("sr_basis = \"eu\""), SrBasis::Eu);
    let e = error(&file("sr_basis = \"gs\"", ""));
    assert!(
        e.starts_with(
            "t.toml:13: criticality.material[x].processing.sr_basis: unknown basis \"gs\""
        ),
        "{e}"
    );
}

#[test]
fn end_uses_may_leave_a_rest_and_are_used_as_listed() {
    let text = |shares: &str| {
        file(
            "",
            &format!("end_use = {{ shares = {{ {shares} }}, source = \"s\", year = 2023 }}"),
        )
        .replace(
            "[[criticality.sector]]\nnace = \"C26\"\n",
            "[[criticality.sector]]\nnace = \"C26\"\n[[criticality.sector]]\nnace = \"C27\"\n",
        )
    };
    // 0.97 listed: not scaled, the 3 % rest stays unassigned.
    let ind = parse(&text("C26 = 0.6, C27 = 0.37")).unwrap();
    let eu = ind.materials[0].end_use.as_ref().unwrap();
    assert_eq!((eu["C26"], eu["C27"]), (0.6, 0.37));
    // 1.02 listed, with uses without a sector as other: kept as listed,
    // and other is not a sector.
    let ind = parse(&text("C26 = 0.6, C27 = 0.36, other = 0.06")).unwrap();
    let eu = ind.materials[0].end_use.as_ref().unwrap();
    assert_eq!(eu.len(), 2);
    assert_eq!((eu["C26"], eu["C27"]), (0.6, 0.36));
    // 0.94 and 1.06 are outside [0.95, 1.05].
    for shares in ["C26 = 0.6, C27 = 0.34", "C26 = 0.7, C27 = 0.36"] {
        let e = error(&text(shares));
        assert!(
            e.contains("criticality.material[x].end_use.shares: must sum to between 0.95 and 1.05"),
            "{e}"
        );
    }
}

#[test]
fn the_published_values_are_found_beside_the_file() {
    let text = file("", "").replace(
        "name = \"t\"\n",
        "name = \"t\"\npublished = \"t-published.csv\"\n",
    );
    let ind = parse(&text).unwrap();
    assert_eq!(
        ind.published_path(Path::new("criticality/t.toml")),
        Some(PathBuf::from("criticality/t-published.csv"))
    );
    assert_eq!(
        parse(&file("", ""))
            .unwrap()
            .published_path(Path::new("t.toml")),
        None
    );
    let e = error(&text.replace("t-published.csv", " "));
    assert!(
        e.starts_with("t.toml:3: criticality.published: must name the CSV"),
        "{e}"
    );
}

#[test]
fn ir_and_material_fractions_are_in_zero_one() {
    let e = error(&file(
        "ir = { value = 1.5, source = \"s\", year = 2023 }",
        "",
    ));
    assert!(
        e.ends_with("processing.ir.value: must be a fraction in [0, 1] (got 1.5)"),
        "{e}"
    );
    let e = error(&file(
        "",
        "eol_rir = { value = -0.1, source = \"s\", year = 2023 }",
    ));
    assert!(
        e.contains("criticality.material[x].eol_rir.value: must be a fraction"),
        "{e}"
    );
}

#[test]
fn every_figure_names_its_source_and_year() {
    let e = error(&file(
        "ir = { value = 0.5, source = \" \", year = 2023 }",
        "",
    ));
    assert!(
        e.contains("processing.ir.source: must say where the figure comes from"),
        "{e}"
    );
    let e = error(&file("ir = { value = 0.5, source = \"s\", year = 23 }", ""));
    assert!(
        e.contains("processing.ir.year: must be a year in 1900..=2100 (got 23)"),
        "{e}"
    );
    let e = error(&file("ir = { value = 0.5, year = 2023 }", ""));
    assert!(e.starts_with("t.toml:13:"), "{e}");
    assert!(e.contains("missing field `source`"), "{e}");
}

#[test]
fn a_misspelt_field_is_an_error_at_its_line() {
    let e = error(&file(
        "irr = { value = 0.5, source = \"s\", year = 2023 }",
        "",
    ));
    assert!(e.starts_with("t.toml:13:1: unknown field `irr`"), "{e}");
}

#[test]
fn end_uses_name_declared_sectors() {
    let e = error(&file(
        "",
        "end_use = { shares = { C27 = 1.0 }, source = \"s\", year = 2023 }",
    ));
    assert!(
            e.contains(
                "criticality.material[x].end_use.shares.C27: \"C27\" is not a declared sector: \
                 add a [[criticality.sector]] with nace = \"C27\", or count the use under \"other\""
            ),
            "{e}"
        );
}

#[test]
fn materials_are_unique_and_have_a_stage() {
    let text =
        file("", "") + "[[criticality.material]]\nid = \"x\"\n[criticality.material.extraction]\n";
    assert!(error(&text).contains("criticality.material[x].id: material x is listed twice"));
    let text = "[criticality]\nname = \"t\"\n[[criticality.material]]\nid = \"y\"\n";
    let e = error(text);
    assert!(
        e.starts_with("t.toml:3: criticality.material[y]: needs an"),
        "{e}"
    );
}

#[test]
fn the_scenario_stage_is_one_of_the_material_s_stages() {
    let e = error(&file("", "scenario_stage = \"extraction\""));
    assert!(
        e.contains("criticality.material[x].scenario_stage: the material has no extraction table"),
        "{e}"
    );
    let e = error(&file("", "scenario_stage = \"mining\""));
    assert!(e.contains("unknown stage \"mining\""), "{e}");
}

#[test]
fn some_weight_must_count() {
    let text = file("", "")
        + "[weights]\nstatic_sr = 0\ndynamic_sr = 0\np_shortfall = 0\nshortfall_fraction = 0\n";
    assert!(error(&text).ends_with("weights: at least one weight must be > 0"));
    let text = file("", "") + "[weights]\np_shortfall = -1\n";
    assert!(error(&text).contains("weights.p_shortfall: must be a weight >= 0"));
}

#[test]
fn yearly_weights_default_to_1_and_are_checked() {
    let ind = parse(&file("", "")).unwrap();
    let w = ind.yearly_weights;
    assert_eq!(
        (
            w.welfare_loss_per_eur,
            w.peak_price_p95,
            w.p_shortfall,
            w.ei
        ),
        (1.0, 1.0, 1.0, 1.0)
    );
    let text = file("", "")
        + "[yearly_weights]\nwelfare_loss_per_eur = 0\npeak_price_p95 = 0\np_shortfall = 0\nei = 0\n";
    assert!(error(&text).ends_with("yearly_weights: at least one weight must be > 0"));
    let text = file("", "") + "[yearly_weights]\n\nei = -0.5\n";
    let e = error(&text);
    assert!(
        e.contains(":16: yearly_weights.ei: must be a weight >= 0 (0 leaves it out) (got -0.5)"),
        "{e}"
    );
    let text = file("", "") + "[yearly_weights]\nei = inf\n";
    assert!(error(&text).contains("yearly_weights.ei: must be a weight >= 0"));
    let text = file("", "") + "[yearly_weights]\nshortfall_fraction = 1\n";
    assert!(error(&text).contains("unknown field `shortfall_fraction`"));
}
