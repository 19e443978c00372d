//! Log set-up: human-readable or JSON lines, level from `RUST_LOG` (default `info`, with the
//! migration library's line per migration turned down: the service logs one line for all).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The log filter without `RUST_LOG`.
pub const DEFAULT_FILTER: &str = "info,sea_orm_migration=warn";

/// Installs the global subscriber. Safe to call once per process.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    let result = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    if let Err(err) = result {
        eprintln!("logging was already initialised: {err}");
    }
}
