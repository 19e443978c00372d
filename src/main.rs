use std::process::ExitCode;

use digimentor::cli::{Cli, Command};
use digimentor::config::Config;
use digimentor::{commands, telemetry};

/// See `Cargo.toml`: freed memory goes back to the system after a burst.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse_args();
    let config = match Config::from_settings(&cli.settings) {
        Ok(config) => config,
        Err(err) if matches!(cli.command, Some(Command::Doctor)) => {
            // The doctor's first finding; nothing else can be checked without a configuration.
            println!("FAIL configuration: {err}");
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("digimentor: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("digimentor: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let command = cli.command.unwrap_or(Command::Serve { demo: cli.demo });
    match runtime.block_on(commands::run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("digimentor: {err:#}");
            ExitCode::FAILURE
        }
    }
}
