//! Validated configuration, built from the command line and environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::Args;
use lettre::message::Mailbox;
use url::Url;

/// A setting that failed validation; its `Display` is the one line printed at start.
#[derive(Debug, thiserror::Error)]
#[error("invalid {setting}: {reason}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub reason: String,
}

impl ConfigError {
    fn new(setting: &'static str, reason: impl Into<String>) -> Self {
        Self {
            setting,
            reason: reason.into(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// Where emails go.
#[derive(Debug, Clone)]
pub enum MailTransport {
    /// An SMTP server (`SMTP_URL`).
    Smtp(SmtpServer),
    /// `.eml` files in this folder.
    Files(PathBuf),
}

/// PostgreSQL pool and session limits (SQLite always uses one connection).
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// A statement running longer is cancelled by the server.
    pub statement_timeout: Duration,
    /// A session idle inside a transaction longer is ended by the server, releasing its locks.
    pub idle_in_transaction_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            statement_timeout: Duration::from_secs(30),
            idle_in_transaction_timeout: Duration::from_secs(60),
        }
    }
}

/// WebSocket hygiene settings.
#[derive(Debug, Clone, Copy)]
pub struct WebSocketLimits {
    /// How long a client has to send `connection_init`.
    pub init_timeout: Duration,
    /// How often the server pings; a client silent for three intervals is closed.
    pub keepalive: Duration,
    /// How long one message may wait for a client that does not read.
    pub send_timeout: Duration,
    /// Open connections per user.
    pub max_per_user: usize,
    /// Open connections per client address.
    pub max_per_address: usize,
    /// Operations one connection may run at once.
    pub max_subscriptions: usize,
}

impl Default for WebSocketLimits {
    fn default() -> Self {
        Self {
            init_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(30),
            send_timeout: Duration::from_secs(30),
            max_per_user: 20,
            max_per_address: 200,
            max_subscriptions: 20,
        }
    }
}

/// Always-on GraphQL limits.
#[derive(Debug, Clone, Copy)]
pub struct GraphqlLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_body_bytes: usize,
    pub introspection: bool,
    /// Longest a query may run; then it answers `TIMEOUT` (mutations run to their end).
    pub query_timeout: Duration,
}

/// How the delivery worker paces itself (used by `notify::worker`).
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// Deliveries claimed per batch.
    pub batch_size: u64,
    /// How long a claim keeps other workers away; a worker that dies loses its claim after it.
    pub lease: Duration,
    /// Attempts before a temporarily failing delivery becomes dead.
    pub max_attempts: i32,
    /// First retry delay; each further attempt doubles it (with ±25 % jitter), up to six hours.
    pub retry_base: Duration,
    /// Fallback poll when nobody wakes the worker.
    pub poll_interval: Duration,
    /// Emails of a batch sent at once (and SMTP connections kept open for them).
    pub concurrency: usize,
    /// The longest one email's SMTP conversation may take; then it is retried later.
    pub message_deadline: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            batch_size: 20,
            lease: Duration::from_secs(300),
            max_attempts: 8,
            retry_base: Duration::from_secs(30),
            poll_interval: Duration::from_secs(30),
            concurrency: 8,
            message_deadline: Duration::from_secs(60),
        }
    }
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

    /// Domain of the addresses that take replies (`reply+…@`) and bounces (`bounce+…@`), e.g.
    /// `reply.digimentor.example.edu`; the university's mail server routes it to
    /// INBOUND_SMTP_BIND. Unset: emails carry the people's own addresses in Reply-To.
    #[arg(long, env = "REPLY_DOMAIN", global = true)]
    pub reply_domain: Option<String>,

    /// Address and port of the inbound SMTP/LMTP listener that takes replies and bounces, e.g.
    /// `0.0.0.0:2525`. Unset: no listener.
    #[arg(long, env = "INBOUND_SMTP_BIND", global = true)]
    pub inbound_smtp_bind: Option<String>,

    /// Serve `/metrics` only on this internal address (e.g. `10.0.0.5:9090`), for a Prometheus
    /// that scrapes each instance directly; the public address then answers 404 there. Unset:
    /// `/metrics` is on BIND.
    #[arg(long, env = "METRICS_BIND", global = true)]
    pub metrics_bind: Option<String>,

    /// An IMAP mailbox to poll for replies and bounces, for a mail server that delivers the
    /// REPLY_DOMAIN to a mailbox instead of forwarding it to INBOUND_SMTP_BIND:
    /// `imaps://user:password@imap.example.edu/INBOX` (TLS; `imap://` only on a trusted
    /// network). Handled messages are deleted from it. Unset: no polling.
    #[arg(long, env = "INBOUND_IMAP_URL", global = true, hide_env_values = true)]
    pub inbound_imap_url: Option<String>,

    /// Extra trusted certificate authorities for `imaps://` (a PEM file), for a university's
    /// internal CA.
    #[arg(long, env = "INBOUND_IMAP_CA_FILE", global = true)]
    pub inbound_imap_ca_file: Option<PathBuf>,

    /// Seconds between polls of INBOUND_IMAP_URL.
    #[arg(
        long,
        env = "INBOUND_IMAP_POLL_SECONDS",
        default_value = "60",
        global = true
    )]
    pub inbound_imap_poll_seconds: String,

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

    /// Single sign-on: the OpenID provider's issuer URL (its discovery document is at
    /// `ISSUER/.well-known/openid-configuration`), e.g. `https://login.microsoftonline.com/TENANT/v2.0`.
    /// Register `PUBLIC_URL/sign-in/sso/callback` as the redirect URI and `PUBLIC_URL/` as the
    /// address to return to after signing out.
    #[arg(long, env = "OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,

    /// Single sign-on: this service's client id at the provider.
    #[arg(long, env = "OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,

    /// Single sign-on: this service's client secret at the provider.
    #[arg(
        long,
        env = "OIDC_CLIENT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub oidc_client_secret: Option<String>,

    /// Single sign-on: the scopes asked for.
    #[arg(
        long,
        env = "OIDC_SCOPES",
        default_value = "openid email profile",
        global = true
    )]
    pub oidc_scopes: String,

    /// Single sign-on: the ID token claim that holds the email address.
    #[arg(long, env = "OIDC_EMAIL_CLAIM", default_value = "email", global = true)]
    pub oidc_email_claim: String,

    /// Single sign-on: the ID token claim that holds the person's name.
    #[arg(long, env = "OIDC_NAME_CLAIM", default_value = "name", global = true)]
    pub oidc_name_claim: String,

    /// Single sign-on: the ID token claim that names a person's department, for people
    /// made staff of their community on their first sign-in (OIDC_UNKNOWN_PEOPLE=create).
    #[arg(long, env = "OIDC_COMMUNITY_CLAIM", global = true)]
    pub oidc_community_claim: Option<String>,

    /// Single sign-on: which community each value of the community claim means, as
    /// `VALUE=SLUG;VALUE=SLUG` (e.g. `Faculty of Science=science`); unset, the value is the
    /// community's slug.
    #[arg(long, env = "OIDC_COMMUNITIES", global = true)]
    pub oidc_communities: Option<String>,

    /// Single sign-on: what to do with someone the service does not know: `refuse` (say so
    /// on a page) or `create` (make them staff of the community their claim names).
    #[arg(
        long,
        env = "OIDC_UNKNOWN_PEOPLE",
        default_value = "refuse",
        global = true
    )]
    pub oidc_unknown_people: String,

    /// Single sign-on: match people by their email even when the token does not say
    /// `email_verified` (for providers such as Entra ID that only issue addresses they own).
    #[arg(long, env = "OIDC_TRUST_EMAIL", default_value = "false", global = true)]
    pub oidc_trust_email: String,

    /// Whether people may sign in with a password (`false` with single sign-on in use).
    #[arg(long, env = "PASSWORD_SIGN_IN", default_value = "true", global = true)]
    pub password_sign_in: String,

    /// Whether people may sign in with a link sent by email.
    #[arg(long, env = "LINK_SIGN_IN", default_value = "true", global = true)]
    pub link_sign_in: String,

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

    /// Extra trusted certificate authorities for SMTP over TLS (a PEM file), for a university's
    /// internal CA.
    #[arg(long, env = "SMTP_CA_FILE", global = true)]
    pub smtp_ca_file: Option<PathBuf>,

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

/// A mail domain: letters, digits, hyphens and dots, at least two labels, lower-cased.
fn mail_domain(raw: &str) -> Result<String, ConfigError> {
    let domain = raw.to_ascii_lowercase();
    let valid = domain.len() <= 253
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if valid {
        Ok(domain)
    } else {
        Err(ConfigError::new(
            "REPLY_DOMAIN",
            format!("{raw:?} is not a mail domain like reply.example.edu"),
        ))
    }
}

/// The validated configuration of one process.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub database: PoolSettings,
    pub bind: SocketAddr,
    pub public_url: Url,
    pub mail: MailTransport,
    pub mail_from: Mailbox,
    pub graphql: GraphqlLimits,
    pub websocket: WebSocketLimits,
    pub token_ttl: Duration,
    /// Longest time a plain HTTP request (its body included) may take; then 408.
    pub request_timeout: Duration,
    /// Longest time a client may take to send a request's headers (and an idle keep-alive
    /// connection may stay open); then the connection is closed.
    pub header_timeout: Duration,
    pub log_format: LogFormat,
    /// Proxies whose `X-Forwarded-For` names the client (for login throttling).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins (`scheme://host[:port]`) whose pages may call the API; empty allows none.
    pub cors_allowed_origins: Vec<String>,
    /// Run the delivery worker and scheduler here.
    pub run_workers: bool,
    pub worker: WorkerSettings,
    /// How long before a deadline the first reminder goes out.
    pub reminder_lead: Duration,
    /// The domain of reply and bounce addresses (`REPLY_DOMAIN`), lower-case.
    pub reply_domain: Option<String>,
    /// Where the inbound SMTP/LMTP listener listens (`INBOUND_SMTP_BIND`).
    pub inbound_smtp_bind: Option<SocketAddr>,
    /// The IMAP mailbox polled for replies and bounces (`INBOUND_IMAP_URL`).
    pub inbound_imap: Option<ImapMailbox>,
    /// Where `/metrics` is served instead of on `bind` (`METRICS_BIND`).
    pub metrics_bind: Option<SocketAddr>,
    /// How people may sign in.
    pub sign_in: SignInSettings,
}

/// How people may sign in: password, emailed link, single sign-on.
#[derive(Debug, Clone)]
pub struct SignInSettings {
    pub password: bool,
    pub link: bool,
    pub oidc: Option<OidcSettings>,
}

impl Default for SignInSettings {
    fn default() -> Self {
        Self {
            password: true,
            link: true,
            oidc: None,
        }
    }
}

/// What single sign-on does with someone the service does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownPeople {
    /// A page says they have no account here.
    Refuse,
    /// They are made staff of the community their claim names.
    Create,
}

/// The OpenID provider (`OIDC_*`); the secret never reaches `Debug` output.
#[derive(Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: String,
    pub email_claim: String,
    pub name_claim: String,
    pub community_claim: Option<String>,
    /// Claim value → community slug; empty: the value is the slug.
    pub communities: Vec<(String, String)>,
    pub unknown_people: UnknownPeople,
    pub trust_email: bool,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"…")
            .field("community_claim", &self.community_claim)
            .field("unknown_people", &self.unknown_people)
            .finish_non_exhaustive()
    }
}

impl OidcSettings {
    /// The community slug a value of the community claim means.
    pub fn community_slug(&self, value: &str) -> Option<String> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        if self.communities.is_empty() {
            return Some(value.to_lowercase());
        }
        self.communities
            .iter()
            .find(|(v, _)| v.eq_ignore_ascii_case(value))
            .map(|(_, slug)| slug.clone())
    }

    fn parse(s: &Settings) -> Result<Option<Self>, ConfigError> {
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let (issuer, id, secret) = match (
            given(&s.oidc_issuer),
            given(&s.oidc_client_id),
            given(&s.oidc_client_secret),
        ) {
            (None, None, None) => return Ok(None),
            (Some(i), Some(c), Some(k)) => (i, c, k),
            (None, _, _) => {
                return Err(ConfigError::new(
                    "OIDC_ISSUER",
                    "is needed with OIDC_CLIENT_ID and OIDC_CLIENT_SECRET",
                ));
            }
            (_, None, _) => {
                return Err(ConfigError::new(
                    "OIDC_CLIENT_ID",
                    "is needed with OIDC_ISSUER",
                ));
            }
            (_, _, None) => {
                return Err(ConfigError::new(
                    "OIDC_CLIENT_SECRET",
                    "is needed with OIDC_ISSUER",
                ));
            }
        };
        let url = Url::parse(issuer)
            .map_err(|e| ConfigError::new("OIDC_ISSUER", format!("{issuer:?}: {e}")))?;
        let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && local) {
            return Err(ConfigError::new(
                "OIDC_ISSUER",
                format!("{issuer:?} is not an https URL"),
            ));
        }
        let unknown_people = match s.oidc_unknown_people.trim() {
            "refuse" => UnknownPeople::Refuse,
            "create" => UnknownPeople::Create,
            other => {
                return Err(ConfigError::new(
                    "OIDC_UNKNOWN_PEOPLE",
                    format!("{other:?}: expected refuse or create"),
                ));
            }
        };
        let community_claim = given(&s.oidc_community_claim).map(str::to_owned);
        if unknown_people == UnknownPeople::Create && community_claim.is_none() {
            return Err(ConfigError::new(
                "OIDC_UNKNOWN_PEOPLE",
                "create needs OIDC_COMMUNITY_CLAIM: the claim that names their community",
            ));
        }
        let mut communities = Vec::new();
        for pair in given(&s.oidc_communities).unwrap_or_default().split(';') {
            if pair.trim().is_empty() {
                continue;
            }
            let (value, slug) = pair.split_once('=').ok_or_else(|| {
                ConfigError::new("OIDC_COMMUNITIES", format!("{pair:?} is not VALUE=SLUG"))
            })?;
            communities.push((value.trim().to_owned(), slug.trim().to_lowercase()));
        }
        let claim = |setting: &'static str, raw: &str| {
            let raw = raw.trim();
            if raw.is_empty() {
                Err(ConfigError::new(setting, "names no claim"))
            } else {
                Ok(raw.to_owned())
            }
        };
        if !s
            .oidc_scopes
            .split_whitespace()
            .any(|scope| scope == "openid")
        {
            return Err(ConfigError::new("OIDC_SCOPES", "must include openid"));
        }
        Ok(Some(Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
            scopes: s
                .oidc_scopes
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            email_claim: claim("OIDC_EMAIL_CLAIM", &s.oidc_email_claim)?,
            name_claim: claim("OIDC_NAME_CLAIM", &s.oidc_name_claim)?,
            community_claim,
            communities,
            unknown_people,
            trust_email: boolean("OIDC_TRUST_EMAIL", &s.oidc_trust_email)?,
        }))
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: none (a relay on a trusted network).
    Plain,
    /// `smtp://…?tls=required`: STARTTLS, or no conversation at all.
    StartTls,
    /// `smtp://…?tls=opportunistic`: STARTTLS when the server offers it.
    StartTlsIfOffered,
    /// `smtps://`: TLS from the first byte.
    Implicit,
}

/// The SMTP server emails go to (`SMTP_URL`, in lettre's URL form); the password never reaches
/// `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpServer {
    /// The URL as configured.
    pub url: String,
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// The name this service gives in EHLO (the URL's path), else this machine's host name.
    pub hello_name: Option<String>,
    /// User and password for AUTH PLAIN or LOGIN.
    pub credentials: Option<(String, String)>,
    /// Extra trusted roots for TLS (`SMTP_CA_FILE`).
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("hello_name", &self.hello_name)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

impl SmtpServer {
    /// Parses `smtp://[user:password@]host[:port][/ehlo-name][?tls=required|opportunistic]` or
    /// `smtps://…`, as lettre reads them (user and password percent-encoded; the default port
    /// is 25 without TLS, 587 with STARTTLS, 465 with TLS).
    pub fn parse(raw: &str, ca_file: Option<PathBuf>) -> Result<Self, ConfigError> {
        let invalid = |why: String| ConfigError::new("SMTP_URL", why);
        let url = Url::parse(raw.trim()).map_err(|e| invalid(format!("{raw:?}: {e}")))?;
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (SmtpSecurity::Plain, 25),
            ("smtp", Some("required")) => (SmtpSecurity::StartTls, 587),
            ("smtp", Some("opportunistic")) => (SmtpSecurity::StartTlsIfOffered, 587),
            ("smtps", _) => (SmtpSecurity::Implicit, 465),
            (scheme, tls) => {
                return Err(invalid(format!(
                    "unknown scheme {scheme:?} or tls parameter {tls:?} (smtp://, \
                     smtp://…?tls=required, smtp://…?tls=opportunistic or smtps://)"
                )));
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| invalid("names no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let decode = |part: &str| {
            percent_decode(part).ok_or_else(|| {
                invalid("the user or password is not valid percent-encoded UTF-8".into())
            })
        };
        let credentials = match url.password() {
            Some(password) => Some((decode(url.username())?, decode(password)?)),
            None => None,
        };
        let hello_name = Some(url.path().trim_matches('/').to_owned()).filter(|n| !n.is_empty());
        Ok(Self {
            url: raw.trim().to_owned(),
            port: url.port().unwrap_or(default_port),
            host,
            security,
            hello_name,
            credentials,
            ca_file,
        })
    }
}

/// An IMAP mailbox to poll (`INBOUND_IMAP_URL`); its password never reaches `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapMailbox {
    pub host: String,
    pub port: u16,
    /// `imaps://`: TLS from the first byte.
    pub tls: bool,
    pub user: String,
    pub password: String,
    pub mailbox: String,
    /// Extra trusted roots for TLS (`INBOUND_IMAP_CA_FILE`).
    pub ca_file: Option<PathBuf>,
    pub every: Duration,
}

impl std::fmt::Debug for ImapMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapMailbox")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("mailbox", &self.mailbox)
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

impl ImapMailbox {
    /// Parses `imaps://user:password@host[:port][/MAILBOX]` (user and password percent-encoded).
    pub fn parse(
        raw: &str,
        ca_file: Option<PathBuf>,
        every: Duration,
    ) -> Result<Self, ConfigError> {
        let invalid = |why: &str| ConfigError::new("INBOUND_IMAP_URL", why.to_owned());
        let url = Url::parse(raw.trim())
            .map_err(|_| invalid("expected imaps://user:password@host/MAILBOX"))?;
        let tls = match url.scheme() {
            "imaps" => true,
            "imap" => false,
            _ => {
                return Err(invalid(
                    "the scheme is imaps:// (or imap:// on a trusted network)",
                ));
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| invalid("names no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let decode = |part: &str| {
            percent_decode(part)
                .ok_or_else(|| invalid("user or password is not valid percent-encoded UTF-8"))
        };
        let user = decode(url.username())?;
        let password = decode(url.password().unwrap_or_default())?;
        if user.is_empty() || password.is_empty() {
            return Err(invalid("needs a user and a password"));
        }
        let mailbox = match decode(url.path().trim_start_matches('/'))? {
            m if m.is_empty() => "INBOX".to_owned(),
            m => m,
        };
        if [&user, &password, &mailbox]
            .iter()
            .any(|part| part.chars().any(char::is_control))
        {
            return Err(invalid("holds a control character"));
        }
        Ok(Self {
            port: url.port().unwrap_or(if tls { 993 } else { 143 }),
            host,
            tls,
            user,
            password,
            mailbox,
            ca_file,
            every,
        })
    }
}

/// Percent-decodes a URL part as UTF-8.
fn percent_decode(part: &str) -> Option<String> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

impl Config {
    /// Validates raw settings; the first invalid one is reported.
    pub fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let database_url = s.database_url.trim().to_owned();
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "expected a sqlite: or postgres:// URL",
            ));
        }
        let database = PoolSettings {
            max_connections: u32::try_from(positive(
                "DATABASE_MAX_CONNECTIONS",
                &s.database_max_connections,
            )?)
            .unwrap_or(u32::MAX),
            statement_timeout: Duration::from_millis(positive(
                "DATABASE_STATEMENT_TIMEOUT_MS",
                &s.database_statement_timeout_ms,
            )? as u64),
            idle_in_transaction_timeout: Duration::from_millis(positive(
                "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                &s.database_idle_in_transaction_timeout_ms,
            )? as u64),
        };
        let bind = SocketAddr::from_str(s.bind.trim())
            .map_err(|_| ConfigError::new("BIND", format!("{:?} is not host:port", s.bind)))?;
        let public_url = match &s.public_url {
            Some(raw) => {
                let url = Url::parse(raw.trim())
                    .map_err(|e| ConfigError::new("PUBLIC_URL", format!("{raw:?}: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(ConfigError::new(
                        "PUBLIC_URL",
                        format!("{raw:?} is not an absolute http(s) URL"),
                    ));
                }
                url
            }
            None => Url::parse(&format!("http://{bind}"))
                .map_err(|e| ConfigError::new("PUBLIC_URL", e.to_string()))?,
        };
        let mail = match &s.smtp_url {
            Some(raw) if !raw.trim().is_empty() => {
                MailTransport::Smtp(SmtpServer::parse(raw, s.smtp_ca_file.clone())?)
            }
            _ => MailTransport::Files(PathBuf::from(&s.mail_dir)),
        };
        let mail_from = Mailbox::from_str(s.mail_from.trim())
            .map_err(|e| ConfigError::new("MAIL_FROM", format!("{:?}: {e}", s.mail_from)))?;
        let graphql = GraphqlLimits {
            max_depth: positive("GRAPHQL_MAX_DEPTH", &s.graphql_max_depth)?,
            max_complexity: positive("GRAPHQL_MAX_COMPLEXITY", &s.graphql_max_complexity)?,
            max_body_bytes: positive("GRAPHQL_MAX_BODY_BYTES", &s.graphql_max_body_bytes)?,
            introspection: boolean("GRAPHQL_INTROSPECTION", &s.graphql_introspection)?,
            query_timeout: Duration::from_secs(positive(
                "GRAPHQL_QUERY_TIMEOUT_SECONDS",
                &s.graphql_query_timeout_seconds,
            )? as u64),
        };
        let cors_allowed_origins = s
            .cors_allowed_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(origin)
            .collect::<Result<Vec<_>, _>>()?;
        let websocket = WebSocketLimits {
            init_timeout: Duration::from_secs(positive(
                "WS_INIT_TIMEOUT_SECONDS",
                &s.ws_init_timeout_seconds,
            )? as u64),
            keepalive: Duration::from_secs(positive(
                "WS_KEEPALIVE_SECONDS",
                &s.ws_keepalive_seconds,
            )? as u64),
            send_timeout: Duration::from_secs(positive(
                "WS_SEND_TIMEOUT_SECONDS",
                &s.ws_send_timeout_seconds,
            )? as u64),
            max_per_user: positive(
                "WS_MAX_CONNECTIONS_PER_USER",
                &s.ws_max_connections_per_user,
            )?,
            max_per_address: positive(
                "WS_MAX_CONNECTIONS_PER_ADDRESS",
                &s.ws_max_connections_per_address,
            )?,
            max_subscriptions: positive(
                "WS_MAX_SUBSCRIPTIONS_PER_CONNECTION",
                &s.ws_max_subscriptions_per_connection,
            )?,
        };
        let trusted_proxies = s
            .trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::new(
                            "TRUSTED_PROXIES",
                            format!("{p:?} is not an address or a network like 10.0.0.0/8"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let request_timeout = Duration::from_secs(positive(
            "HTTP_REQUEST_TIMEOUT_SECONDS",
            &s.http_request_timeout_seconds,
        )? as u64);
        let header_timeout = Duration::from_secs(positive(
            "HTTP_HEADER_TIMEOUT_SECONDS",
            &s.http_header_timeout_seconds,
        )? as u64);
        let token_ttl_hours = positive("TOKEN_TTL_HOURS", &s.token_ttl_hours)?;
        let log_format = match s.log_format.trim() {
            "human" => LogFormat::Human,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::new(
                    "LOG_FORMAT",
                    format!("{other:?}: expected human or json"),
                ));
            }
        };
        let worker = WorkerSettings {
            max_attempts: i32::try_from(positive(
                "DELIVERY_MAX_ATTEMPTS",
                &s.delivery_max_attempts,
            )?)
            .unwrap_or(i32::MAX),
            retry_base: Duration::from_secs(positive(
                "DELIVERY_RETRY_BASE_SECONDS",
                &s.delivery_retry_base_seconds,
            )? as u64),
            lease: Duration::from_secs(positive(
                "DELIVERY_LEASE_SECONDS",
                &s.delivery_lease_seconds,
            )? as u64),
            concurrency: positive("SMTP_MAX_CONNECTIONS", &s.smtp_max_connections)?,
            message_deadline: Duration::from_secs(positive(
                "SMTP_MESSAGE_TIMEOUT_SECONDS",
                &s.smtp_message_timeout_seconds,
            )? as u64),
            ..WorkerSettings::default()
        };
        let reminder_lead = Duration::from_secs(
            positive("REMINDER_LEAD_DAYS", &s.reminder_lead_days)? as u64 * 86_400,
        );
        let reply_domain = match s.reply_domain.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => Some(mail_domain(raw)?),
            _ => None,
        };
        let inbound_smtp_bind = match s.inbound_smtp_bind.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => Some(SocketAddr::from_str(raw).map_err(|_| {
                ConfigError::new("INBOUND_SMTP_BIND", format!("{raw:?} is not host:port"))
            })?),
            _ => None,
        };
        let metrics_bind = match s.metrics_bind.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => Some(SocketAddr::from_str(raw).map_err(|_| {
                ConfigError::new("METRICS_BIND", format!("{raw:?} is not host:port"))
            })?),
            _ => None,
        };
        let inbound_imap = match s.inbound_imap_url.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => {
                let every = positive("INBOUND_IMAP_POLL_SECONDS", &s.inbound_imap_poll_seconds)?;
                Some(ImapMailbox::parse(
                    raw,
                    s.inbound_imap_ca_file.clone(),
                    Duration::from_secs(every as u64),
                )?)
            }
            _ => None,
        };
        if inbound_imap.is_some() && reply_domain.is_none() {
            return Err(ConfigError::new(
                "INBOUND_IMAP_URL",
                "needs REPLY_DOMAIN: only mail to that domain is taken",
            ));
        }
        if inbound_smtp_bind.is_some() && reply_domain.is_none() {
            return Err(ConfigError::new(
                "INBOUND_SMTP_BIND",
                "needs REPLY_DOMAIN: the listener takes mail only at that domain",
            ));
        }
        let sign_in = SignInSettings {
            password: boolean("PASSWORD_SIGN_IN", &s.password_sign_in)?,
            link: boolean("LINK_SIGN_IN", &s.link_sign_in)?,
            oidc: OidcSettings::parse(s)?,
        };
        if !sign_in.password && !sign_in.link && sign_in.oidc.is_none() {
            return Err(ConfigError::new(
                "PASSWORD_SIGN_IN",
                "with LINK_SIGN_IN off and no OIDC_ISSUER nobody could sign in",
            ));
        }
        Ok(Self {
            sign_in,
            reply_domain,
            inbound_smtp_bind,
            inbound_imap,
            metrics_bind,
            run_workers: boolean("RUN_WORKERS", &s.run_workers)?,
            worker,
            reminder_lead,
            database_url,
            database,
            bind,
            public_url,
            mail,
            mail_from,
            graphql,
            websocket,
            request_timeout,
            header_timeout,
            token_ttl: Duration::from_secs(token_ttl_hours as u64 * 3600),
            log_format,
            cors_allowed_origins,
            trusted_proxies,
        })
    }
}

fn positive(setting: &'static str, raw: &str) -> Result<usize, ConfigError> {
    match raw.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ConfigError::new(
            setting,
            format!("{raw:?} is not a positive whole number"),
        )),
    }
}

/// A web origin as browsers send it: scheme, host and optional port, nothing else.
fn origin(raw: &str) -> Result<String, ConfigError> {
    let invalid = || {
        ConfigError::new(
            "CORS_ALLOWED_ORIGINS",
            format!("{raw:?} is not an origin like https://intra.example.edu"),
        )
    };
    let url = Url::parse(raw).map_err(|_| invalid())?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare {
        return Err(invalid());
    }
    if raw.trim_end_matches('/') != url.origin().ascii_serialization() {
        return Err(invalid());
    }
    Ok(url.origin().ascii_serialization())
}

fn boolean(setting: &'static str, raw: &str) -> Result<bool, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(
            setting,
            format!("{raw:?}: expected true or false"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// The settings alone, parsed as the command line parses them.
    #[derive(Parser)]
    struct SettingsOnly {
        #[command(flatten)]
        settings: Settings,
    }

    fn settings(args: &[&str]) -> Settings {
        let mut argv = vec!["digimentor"];
        argv.extend_from_slice(args);
        SettingsOnly::try_parse_from(argv)
            .map(|cli| cli.settings)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn defaults_are_valid_and_use_embedded_sqlite_and_eml_files() {
        let config = Config::from_settings(&settings(&[])).unwrap();
        assert!(config.database_url.starts_with("sqlite:"));
        assert!(matches!(config.mail, MailTransport::Files(_)));
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
    }

    #[test]
    fn single_sign_on_settings_are_checked_and_the_secret_never_printed() {
        let sso = |extra: &[&str]| {
            let mut args = vec![
                "--oidc-issuer",
                "https://login.uni.example/",
                "--oidc-client-id",
                "digimentor",
                "--oidc-client-secret",
                "s3cret-value",
            ];
            args.extend_from_slice(extra);
            Config::from_settings(&settings(&args))
        };
        let config = sso(&[
            "--oidc-community-claim",
            "department",
            "--oidc-communities",
            "Faculty of Science=science; Arts = ARTS",
            "--oidc-unknown-people",
            "create",
            "--password-sign-in",
            "false",
        ])
        .unwrap();
        assert!(!config.sign_in.password && config.sign_in.link);
        let oidc = config.sign_in.oidc.unwrap();
        assert_eq!(oidc.issuer, "https://login.uni.example");
        assert_eq!(oidc.unknown_people, UnknownPeople::Create);
        assert_eq!(
            oidc.community_slug("faculty of science").as_deref(),
            Some("science")
        );
        assert_eq!(oidc.community_slug("Arts").as_deref(), Some("arts"));
        assert_eq!(oidc.community_slug("Medicine"), None);
        assert!(!format!("{oidc:?}").contains("s3cret"));

        let refused = |args: &[&str]| Config::from_settings(&settings(args)).unwrap_err().setting;
        assert_eq!(
            refused(&["--oidc-issuer", "https://x.example"]),
            "OIDC_CLIENT_ID"
        );
        assert_eq!(
            refused(&["--oidc-client-id", "a", "--oidc-client-secret", "b"]),
            "OIDC_ISSUER"
        );
        assert_eq!(
            refused(&["--password-sign-in", "false", "--link-sign-in", "false"]),
            "PASSWORD_SIGN_IN"
        );
        let plain = Config::from_settings(&settings(&[
            "--oidc-issuer",
            "http://login.uni.example",
            "--oidc-client-id",
            "a",
            "--oidc-client-secret",
            "b",
        ]));
        assert_eq!(plain.unwrap_err().setting, "OIDC_ISSUER");
        assert_eq!(
            sso(&["--oidc-unknown-people", "create"])
                .unwrap_err()
                .setting,
            "OIDC_UNKNOWN_PEOPLE"
        );
        assert_eq!(
            sso(&["--oidc-unknown-people", "maybe"])
                .unwrap_err()
                .setting,
            "OIDC_UNKNOWN_PEOPLE"
        );
        assert_eq!(
            sso(&["--oidc-communities", "no pair here"])
                .unwrap_err()
                .setting,
            "OIDC_COMMUNITIES"
        );
        assert_eq!(
            sso(&["--oidc-scopes", "email"]).unwrap_err().setting,
            "OIDC_SCOPES"
        );
        // Links and passwords both off is fine when single sign-on is there.
        assert!(sso(&["--password-sign-in", "false", "--link-sign-in", "false"]).is_ok());
    }

    #[test]
    fn cors_origins_are_a_comma_separated_list_of_bare_origins() {
        let config = Config::from_settings(&settings(&[
            "--cors-allowed-origins",
            " https://intra.example.edu , http://localhost:3000/",
        ]))
        .unwrap();
        assert_eq!(
            config.cors_allowed_origins,
            ["https://intra.example.edu", "http://localhost:3000"]
        );
        let none = Config::from_settings(&settings(&[])).unwrap();
        assert!(none.cors_allowed_origins.is_empty());
    }

    #[test]
    fn an_imap_mailbox_url_is_parsed_and_its_password_never_printed() {
        let config = Config::from_settings(&settings(&[
            "--reply-domain",
            "reply.x.edu",
            "--inbound-imap-url",
            "imaps://digimentor%40x.edu:p%C3%A4ss%20w%2Fo%3Ard@imap.x.edu/Replies%20in",
        ]))
        .unwrap();
        let mailbox = config.inbound_imap.unwrap();
        assert_eq!(
            (
                mailbox.host.as_str(),
                mailbox.port,
                mailbox.tls,
                mailbox.user.as_str(),
                mailbox.password.as_str(),
                mailbox.mailbox.as_str(),
                mailbox.every.as_secs()
            ),
            (
                "imap.x.edu",
                993,
                true,
                "digimentor@x.edu",
                "päss w/o:rd",
                "Replies in",
                60
            )
        );
        assert!(!format!("{mailbox:?}").contains("päss"));
        let plain =
            ImapMailbox::parse("imap://u:p@127.0.0.1:1143", None, Duration::from_secs(5)).unwrap();
        assert_eq!(
            (plain.port, plain.tls, plain.mailbox.as_str()),
            (1143, false, "INBOX")
        );
    }

    #[test]
    fn smtp_urls_in_every_tls_mode_and_with_auth_are_accepted() {
        for url in [
            "smtp://mail.example.edu:25",
            "smtp://user:secret@mail.example.edu:587?tls=required",
            "smtp://mail.example.edu:587?tls=opportunistic",
            "smtps://user:secret@mail.example.edu:465",
        ] {
            let config = Config::from_settings(&settings(&["--smtp-url", url])).unwrap();
            assert!(
                matches!(config.mail, MailTransport::Smtp(ref s) if s.url == url),
                "{url}"
            );
        }
    }

    #[test]
    fn each_invalid_setting_is_named() {
        for (args, setting) in [
            (vec!["--bind", "nowhere"], "BIND"),
            (vec!["--public-url", "ftp://x"], "PUBLIC_URL"),
            (vec!["--smtp-url", "gopher://x"], "SMTP_URL"),
            (vec!["--mail-from", "not an address"], "MAIL_FROM"),
            (vec!["--reply-domain", "localhost"], "REPLY_DOMAIN"),
            (vec!["--reply-domain", "a..b"], "REPLY_DOMAIN"),
            (vec!["--reply-domain", "reply@x.edu"], "REPLY_DOMAIN"),
            (
                vec!["--reply-domain", "r.x.edu", "--inbound-smtp-bind", "x"],
                "INBOUND_SMTP_BIND",
            ),
            (
                vec!["--inbound-smtp-bind", "127.0.0.1:2525"],
                "INBOUND_SMTP_BIND",
            ),
            (
                vec!["--inbound-imap-url", "imaps://u:p@imap.x.edu/INBOX"],
                "INBOUND_IMAP_URL",
            ),
            (
                vec![
                    "--reply-domain",
                    "r.x.edu",
                    "--inbound-imap-url",
                    "pop3://u:p@x.edu",
                ],
                "INBOUND_IMAP_URL",
            ),
            (
                vec![
                    "--reply-domain",
                    "r.x.edu",
                    "--inbound-imap-url",
                    "imaps://u@x.edu",
                ],
                "INBOUND_IMAP_URL",
            ),
            (
                vec![
                    "--reply-domain",
                    "r.x.edu",
                    "--inbound-imap-url",
                    "imaps://u:%ff@x.edu",
                ],
                "INBOUND_IMAP_URL",
            ),
            (
                vec![
                    "--reply-domain",
                    "r.x.edu",
                    "--inbound-imap-url",
                    "imaps://u:a%0Ab@x.edu",
                ],
                "INBOUND_IMAP_URL",
            ),
            (
                vec![
                    "--reply-domain",
                    "r.x.edu",
                    "--inbound-imap-url",
                    "imaps://u:p@x.edu",
                    "--inbound-imap-poll-seconds",
                    "0",
                ],
                "INBOUND_IMAP_POLL_SECONDS",
            ),
            (vec!["--graphql-max-depth", "0"], "GRAPHQL_MAX_DEPTH"),
            (
                vec!["--graphql-introspection", "maybe"],
                "GRAPHQL_INTROSPECTION",
            ),
            (vec!["--log-format", "xml"], "LOG_FORMAT"),
            (vec!["--smtp-max-connections", "0"], "SMTP_MAX_CONNECTIONS"),
            (vec!["--trusted-proxies", "10.0.0.0/40"], "TRUSTED_PROXIES"),
            (
                vec!["--cors-allowed-origins", "https://ok.example.edu,*"],
                "CORS_ALLOWED_ORIGINS",
            ),
            (
                vec!["--cors-allowed-origins", "https://x.example.edu/path"],
                "CORS_ALLOWED_ORIGINS",
            ),
            (vec!["--database-url", "mysql://x"], "DATABASE_URL"),
            (
                vec!["--database-statement-timeout-ms", "soon"],
                "DATABASE_STATEMENT_TIMEOUT_MS",
            ),
            (
                vec!["--database-max-connections", "0"],
                "DATABASE_MAX_CONNECTIONS",
            ),
        ] {
            let err = Config::from_settings(&settings(&args)).unwrap_err();
            assert_eq!(err.setting, setting, "{args:?}");
            assert!(err.to_string().starts_with(&format!("invalid {setting}:")));
            assert!(!err.to_string().contains('\n'));
        }
    }
}
