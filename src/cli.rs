//! Command-line interface: every setting is a flag with an environment-variable fallback.

use clap::{Args, Parser, Subcommand};

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
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. Without --password-stdin a strong password is generated and printed once.
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
        /// Read the password from the first line of standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Settings shared by every command. Each flag falls back to the environment variable named in
/// its help; invalid values stop the program with one line that names the setting.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database URL: `sqlite://FILE?mode=rwc` (embedded default) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://digimentor.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// PostgreSQL: connections in this instance's pool (the event listener has one more).
    #[arg(
        long,
        env = "DATABASE_MAX_CONNECTIONS",
        default_value = "16",
        global = true
    )]
    pub database_max_connections: String,

    /// PostgreSQL: milliseconds a single statement may run before it is cancelled.
    #[arg(
        long,
        env = "DATABASE_STATEMENT_TIMEOUT_MS",
        default_value = "30000",
        global = true
    )]
    pub database_statement_timeout_ms: String,

    /// PostgreSQL: milliseconds a transaction may sit idle before the server ends its session.
    #[arg(
        long,
        env = "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        default_value = "60000",
        global = true
    )]
    pub database_idle_in_transaction_timeout_ms: String,

    /// Address and port to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,

    /// Public base URL of the service, used in links of emails and feeds (default: http://BIND).
    #[arg(long, env = "PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// SMTP server in lettre URL form, e.g. `smtp://user:pass@host:587?tls=required` or
    /// `smtps://host`. Unset: emails are written as .eml files to --mail-dir.
    #[arg(long, env = "SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// Sender of every email, e.g. `Digimentor <digimentor@example.edu>`.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "Digimentor <digimentor@localhost>",
        global = true
    )]
    pub mail_from: String,

    /// Folder for .eml files when SMTP_URL is unset.
    #[arg(long, env = "MAIL_DIR", default_value = "outbox", global = true)]
    pub mail_dir: String,

    /// Maximum depth of a GraphQL query.
    #[arg(long, env = "GRAPHQL_MAX_DEPTH", default_value = "12", global = true)]
    pub graphql_max_depth: String,

    /// Maximum complexity of a GraphQL query: every field counts 1, and a list counts its page
    /// size (`first`, else 20; unpaged lists 10) times what one item costs.
    #[arg(
        long,
        env = "GRAPHQL_MAX_COMPLEXITY",
        default_value = "5000",
        global = true
    )]
    pub graphql_max_complexity: String,

    /// Maximum size of a GraphQL request body in bytes; larger bodies get 413.
    #[arg(
        long,
        env = "GRAPHQL_MAX_BODY_BYTES",
        default_value = "262144",
        global = true
    )]
    pub graphql_max_body_bytes: String,

    /// Serve schema introspection (GraphiQL needs it). Turn off in production if you do not
    /// want to publish the schema: `false`.
    #[arg(
        long,
        env = "GRAPHQL_INTROSPECTION",
        default_value = "true",
        global = true
    )]
    pub graphql_introspection: String,

    /// Seconds a GraphQL query may run before it is stopped with `TIMEOUT` (mutations, which
    /// change data, always run to their end).
    #[arg(
        long,
        env = "GRAPHQL_QUERY_TIMEOUT_SECONDS",
        default_value = "10",
        global = true
    )]
    pub graphql_query_timeout_seconds: String,

    /// Lifetime of a login token in hours.
    #[arg(long, env = "TOKEN_TTL_HOURS", default_value = "720", global = true)]
    pub token_ttl_hours: String,

    /// Run the delivery worker and the scheduler (reminders) in this process.
    #[arg(long, env = "RUN_WORKERS", default_value = "true", global = true)]
    pub run_workers: String,

    /// Attempts before a temporarily failing email is given up as dead.
    #[arg(
        long,
        env = "DELIVERY_MAX_ATTEMPTS",
        default_value = "8",
        global = true
    )]
    pub delivery_max_attempts: String,

    /// Seconds before the first retry of a failed email; each further retry doubles it.
    #[arg(
        long,
        env = "DELIVERY_RETRY_BASE_SECONDS",
        default_value = "30",
        global = true
    )]
    pub delivery_retry_base_seconds: String,

    /// Seconds a worker's claim on an email lasts; after it another worker may send it.
    #[arg(
        long,
        env = "DELIVERY_LEASE_SECONDS",
        default_value = "300",
        global = true
    )]
    pub delivery_lease_seconds: String,

    /// Emails sent at once by one worker, each over its own pooled SMTP connection.
    #[arg(long, env = "SMTP_MAX_CONNECTIONS", default_value = "8", global = true)]
    pub smtp_max_connections: String,

    /// Seconds one email's whole SMTP conversation may take (connecting, sending, the server's
    /// answer); a server that hangs longer gets the email again later, and the other emails
    /// of the batch go on over other connections.
    #[arg(
        long,
        env = "SMTP_MESSAGE_TIMEOUT_SECONDS",
        default_value = "60",
        global = true
    )]
    pub smtp_message_timeout_seconds: String,

    /// Days before an inquiry's deadline that pending communities' mentors are reminded
    /// (they are reminded again on the deadline day).
    #[arg(long, env = "REMINDER_LEAD_DAYS", default_value = "3", global = true)]
    pub reminder_lead_days: String,

    /// Seconds a plain HTTP request, its body included, may take before it gets 408.
    #[arg(
        long,
        env = "HTTP_REQUEST_TIMEOUT_SECONDS",
        default_value = "30",
        global = true
    )]
    pub http_request_timeout_seconds: String,

    /// Seconds a client may take to send a request's headers, and an idle keep-alive
    /// connection may stay open; then the connection is closed (slow-header clients).
    #[arg(
        long,
        env = "HTTP_HEADER_TIMEOUT_SECONDS",
        default_value = "10",
        global = true
    )]
    pub http_header_timeout_seconds: String,

    /// Seconds a WebSocket client has to send `connection_init` before it is closed (4408).
    #[arg(
        long,
        env = "WS_INIT_TIMEOUT_SECONDS",
        default_value = "10",
        global = true
    )]
    pub ws_init_timeout_seconds: String,

    /// Seconds between keepalive pings; a client silent for three intervals is closed.
    #[arg(
        long,
        env = "WS_KEEPALIVE_SECONDS",
        default_value = "30",
        global = true
    )]
    pub ws_keepalive_seconds: String,

    /// Seconds one message may wait for a WebSocket client that does not read before it is closed.
    #[arg(
        long,
        env = "WS_SEND_TIMEOUT_SECONDS",
        default_value = "30",
        global = true
    )]
    pub ws_send_timeout_seconds: String,

    /// WebSocket connections one user may hold open at once (per instance).
    #[arg(
        long,
        env = "WS_MAX_CONNECTIONS_PER_USER",
        default_value = "20",
        global = true
    )]
    pub ws_max_connections_per_user: String,

    /// WebSocket connections one client address may hold open at once (per instance), logged
    /// in or not; behind `TRUSTED_PROXIES` the address is the forwarded client's.
    #[arg(
        long,
        env = "WS_MAX_CONNECTIONS_PER_ADDRESS",
        default_value = "200",
        global = true
    )]
    pub ws_max_connections_per_address: String,

    /// Subscriptions (and other operations) one WebSocket connection may run at once.
    #[arg(
        long,
        env = "WS_MAX_SUBSCRIPTIONS_PER_CONNECTION",
        default_value = "20",
        global = true
    )]
    pub ws_max_subscriptions_per_connection: String,

    /// Load balancers or proxies in front of the service, comma-separated addresses or networks
    /// (`10.0.0.0/8`); behind them the client's address is taken from `X-Forwarded-For`.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "", global = true)]
    pub trusted_proxies: String,

    /// Web origins allowed to call the API from a browser (CORS), comma-separated, e.g.
    /// `https://intra.example.edu`; empty allows none.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", default_value = "", global = true)]
    pub cors_allowed_origins: String,

    /// Log format: `human` or `json`. The level is set with RUST_LOG (default `info`).
    #[arg(long, env = "LOG_FORMAT", default_value = "human", global = true)]
    pub log_format: String,
}
