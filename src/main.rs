//! The `crmsim` command: parse the command line, run, report the error once.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = crmsim::cli::Cli::parse();
    match crmsim::app::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(e.exit_code())
        }
    }
}
