//! `crmsim catalogue`: event parameters fitted from the catalogue of past
//! disruptions (docs/catalogue.md), printed as a table or as
//! `[[disruption]]` tables for a scenario. Runs no simulation.

use super::*;
use crate::analysis::catalogue::{catalogue, Filter};

pub(super) fn catalogue_cmd(args: &CatalogueArgs) -> Result<()> {
    let filter = Filter {
        material: args.material.clone(),
        region: args.region.clone(),
        until: args.until,
    };
    let fit = catalogue(&args.data, &filter)?;
    if args.toml {
        print!("{}", output::catalogue::render_toml(&fit));
    } else {
        print!("{}", output::catalogue::render_table(&fit));
    }
    Ok(())
}
