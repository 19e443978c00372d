//! Command-line interface: every setting is a flag with an environment-variable fallback.

use clap::{Parser, Subcommand};

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
    /// Load data from a file.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
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
