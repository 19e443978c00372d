//! Command-line interface: every setting is a flag with an environment-variable fallback.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Digimentor: the GraphQL service of a university's digimentor network.
#[derive(Debug, Parser)]
#[command(name = "digimentor", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Without a command: serve, loading the demo network first (same as `serve --demo`).
    #[arg(long)]
    pub demo: bool,

    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, then serve GraphQL over HTTP and WebSocket (the default command).
    Serve {
        /// Load the demo network (idempotent) before serving.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Load the demo network (organizations, people, topics) idempotently and print the demo
    /// admin's credentials.
    Demo,
    /// Digests: build and queue those due now (or at --at), as the servers' scheduler does.
    Digests {
        #[command(subcommand)]
        command: RunCommand,
    },
    /// Deadline and training reminders: queue those due now (or at --at), as the servers'
    /// scheduler does.
    Reminders {
        #[command(subcommand)]
        command: RunCommand,
    },
    /// Back up the SQLite database into FILE while servers keep running (`VACUUM INTO`), then
    /// check the copy. On PostgreSQL it says how to use `pg_dump` instead.
    Backup {
        /// Where to write the copy; must not exist yet.
        file: std::path::PathBuf,
    },
    /// Check the configuration and what it points at (database, migrations, outbox, SMTP,
    /// inbound mail, the public URL), changing nothing; one line for each, and exit status 1
    /// when something is wrong.
    Doctor,
    /// Load data from a file.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

/// Runs time-driven work once. Idempotent and safe beside running servers: every digest and
/// reminder has a dedupe key, so one queued already is not queued again. A running server's
/// delivery worker sends what was queued.
#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// Run it once.
    Run {
        /// The moment to run it as (RFC 3339, e.g. 2027-03-01T07:00:00+02:00); by default now.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Load a network file (TOML, the format of `demo/network.toml`): organizations, topics,
    /// people with their roles, and optionally content. Idempotent; all or nothing, and an error
    /// names the entry. New people are emailed a link to choose their password.
    Network {
        /// The network file.
        file: std::path::PathBuf,
    },
    /// Load the staff directory from a CSV file with the columns email, name, community (a
    /// faculty's or education unit's slug), role (staff or mentor) and optionally locale (fi,
    /// sv, en); one line per community role. Adds new people (emailed a link to choose their
    /// password), updates names, languages and roles, and prints what was added, changed and
    /// left. Idempotent; nothing is applied when any line is wrong, and each error names its
    /// line and column.
    Staff {
        /// The CSV file (comma- or semicolon-separated, with a header line).
        file: std::path::PathBuf,
        /// Print what would change, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Deactivate people with a staff or mentor role who are not in the file (leavers);
        /// administrators are never deactivated this way.
        #[arg(long)]
        deactivate_missing: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. Without --password-stdin the person is emailed a link to choose a password.
    Add {
        /// Email address (unique, case-insensitive).
        #[arg(long)]
        email: String,
        /// Display name shown to other users.
        #[arg(long)]
        name: String,
        /// Language of emails and pages: fi, sv or en.
        #[arg(long, default_value = "fi")]
        locale: String,
        /// IANA time zone used for digests and reminders.
        #[arg(long, default_value = "Europe/Helsinki")]
        time_zone: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input (no link is emailed then).
        #[arg(long)]
        password_stdin: bool,
    },
}

pub use crate::config::Settings;

/// What a command other than `serve` says of the server settings it no longer lists.
const SETTINGS_NOTE: &str = "Server settings (DATABASE_URL, PUBLIC_URL, SMTP_URL, MAIL_FROM, …) \
are read from the environment, or given as flags; `digimentor serve --help` lists them all.";

/// The command line, with each command other than `serve` listing only its own options: the
/// server settings stay accepted everywhere (as flags or from the environment) but are shown
/// only by `digimentor --help` and `digimentor serve --help`.
pub fn command() -> clap::Command {
    let mut root = Cli::command();
    root.build();
    let names: Vec<String> = root
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .filter(|name| name != "serve" && name != "help")
        .collect();
    for name in names {
        root = root.mut_subcommand(name, hide_settings);
    }
    root
}

fn hide_settings(command: clap::Command) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .filter(|name| name != "help")
        .collect();
    let mut command = command
        .mut_args(|arg| {
            if arg.is_global_set() {
                arg.hide(true)
            } else {
                arg
            }
        })
        .after_help(SETTINGS_NOTE);
    for name in names {
        command = command.mut_subcommand(name, hide_settings);
    }
    command
}

impl Cli {
    /// Parses the process's arguments (see [`command`]); `--help` and mistakes exit here.
    pub fn parse_args() -> Self {
        let matches = command().get_matches();
        match Self::from_arg_matches(&matches) {
            Ok(cli) => cli,
            Err(err) => err.exit(),
        }
    }
}
