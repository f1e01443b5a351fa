//! `crmsim catalogue`: event parameters fitted from the catalogue of past
//! disruptions (docs/catalogue.md), printed as a table or as
//! `[[disruption]]` tables for a scenario. Runs no simulation.

use super::*;
use crate::analysis::catalogue::{Catalogue, Filter, WorldShares};

pub(super) fn catalogue_cmd(args: &CatalogueArgs) -> Result<()> {
    let filter = Filter {
        material: args.material.clone(),
        region: args.region.clone(),
        until: args.until,
    };
    let shares = match &args.shares {
        Some(path) => WorldShares::load(path)?,
        None => WorldShares::beside(&args.data)?,
    };
    let fit = Catalogue::load(&args.data)?.fit_with(&filter, &shares)?;
    if args.toml {
        print!("{}", output::catalogue::render_toml(&fit));
    } else {
        print!("{}", output::catalogue::render_table(&fit));
    }
    Ok(())
}
