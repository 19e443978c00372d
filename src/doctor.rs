//! `digimentor doctor`: checks the configuration and everything it points at, and says what is
//! wrong in one line each. It changes nothing: no migration is applied, no email sent, no
//! message in the inbound mailbox touched.

use std::fmt;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::config::{Config, MailTransport};

/// How long one check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Works, but probably not as meant in production.
    Warn,
    Fail,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ok => "ok  ",
            Self::Warn => "warn",
            Self::Fail => "FAIL",
        })
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Finding {
    pub status: Status,
    pub check: &'static str,
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.check, self.detail)
    }
}

fn finding(status: Status, check: &'static str, detail: impl Into<String>) -> Finding {
    Finding {
        status,
        check,
        detail: detail.into(),
    }
}

/// Runs every check on a valid configuration (an invalid one is the caller's single finding),
/// printing each line as it is known; returns the findings.
pub async fn check(config: &Config) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut say = |f: Finding| {
        println!("{f}");
        findings.push(f);
    };
    say(finding(
        Status::Ok,
        "configuration",
        "every setting is valid",
    ));
    match database(config).await {
        Ok((db, detail)) => {
            say(finding(Status::Ok, "database", detail));
            say(migrations(&db).await);
            say(outbox(&db).await);
        }
        Err(why) => say(finding(Status::Fail, "database", why)),
    }
    say(smtp(config).await);
    for line in inbound(config).await {
        say(line);
    }
    say(public_url(config).await);
    if let Some(line) = single_sign_on(config).await {
        say(line);
    }
    findings
}

/// The identity provider answers with its discovery document and keys (`OIDC_ISSUER`).
async fn single_sign_on(config: &Config) -> Option<Finding> {
    let settings = config.sign_in.oidc.clone()?;
    let issuer = settings.issuer.clone();
    let oidc = crate::auth::oidc::Oidc::new(settings);
    Some(match oidc.metadata().await {
        Ok(metadata) => finding(
            Status::Ok,
            "single sign-on",
            format!(
                "{issuer} is discovered; people sign in at {}",
                metadata.authorization_endpoint
            ),
        ),
        Err(err) => finding(
            Status::Fail,
            "single sign-on",
            format!("{issuer}: {} (OIDC_ISSUER)", err.detail()),
        ),
    })
}

async fn within<T>(work: impl Future<Output = Result<T, String>>, what: &str) -> Result<T, String> {
    tokio::time::timeout(CHECK_TIMEOUT, work)
        .await
        .map_err(|_| format!("{what} did not answer within {} s", CHECK_TIMEOUT.as_secs()))?
}

async fn database(config: &Config) -> Result<(DatabaseConnection, String), String> {
    let connect = async {
        crate::db::connect(&config.database_url, &config.database)
            .await
            .map_err(|e| format!("cannot connect (DATABASE_URL): {e}"))
    };
    let db = within(connect, "the database").await?;
    let (backend, query) = match db.get_database_backend() {
        DbBackend::Postgres => ("PostgreSQL", "SELECT version()"),
        _ => ("SQLite", "SELECT 'SQLite ' || sqlite_version()"),
    };
    let version = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), query))
        .await
        .map_err(|e| format!("connected, but a query failed: {e}"))?
        .and_then(|row| row.try_get_by_index::<String>(0).ok())
        .unwrap_or_else(|| backend.to_owned());
    let version = version.split(" on ").next().unwrap_or(&version).to_owned();
    Ok((db, format!("reachable ({version})")))
}

async fn migrations(db: &DatabaseConnection) -> Finding {
    let known = Migrator::migrations().len();
    // Fails when the database holds a migration this binary does not know (a newer version
    // ran on it).
    match Migrator::get_pending_migrations(db).await {
        Ok(pending) if pending.is_empty() => {
            finding(Status::Ok, "migrations", format!("all {known} applied"))
        }
        Ok(pending) => finding(
            Status::Fail,
            "migrations",
            format!(
                "{} of {known} pending, first {}: run `digimentor migrate` (a starting server \
                 applies them too)",
                pending.len(),
                pending
                    .first()
                    .map(|m| m.name().to_owned())
                    .unwrap_or_default()
            ),
        ),
        Err(err) => finding(
            Status::Fail,
            "migrations",
            format!("{err} (was the database used by a newer digimentor?)"),
        ),
    }
}

async fn outbox(db: &DatabaseConnection) -> Finding {
    let stats = match crate::notify::outbox::stats(db).await {
        Ok(stats) => stats,
        // Before the migrations there is no outbox to read.
        Err(err) => {
            return finding(
                Status::Warn,
                "outbox",
                format!("not readable: {}", err.client_message()),
            );
        }
    };
    let count = |status: &str| {
        stats
            .by_status
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n)
    };
    let (pending, dead) = (count("pending"), count("dead"));
    let waiting = stats
        .oldest_pending
        .map(|t| (chrono::Utc::now() - t).num_minutes())
        .unwrap_or(0);
    let detail = format!(
        "{pending} waiting (the oldest {waiting} min), {dead} dead{}",
        if dead > 0 {
            " — see the admin outbox page"
        } else {
            ""
        }
    );
    let status = if dead > 0 || waiting > 60 {
        Status::Warn
    } else {
        Status::Ok
    };
    finding(status, "outbox", detail)
}

async fn smtp(config: &Config) -> Finding {
    let mailer =
        match crate::notify::mailer::Mailer::new(&config.mail, 1, config.worker.message_deadline) {
            Ok(mailer) => mailer,
            Err(err) => return finding(Status::Fail, "smtp", format!("{err:#}")),
        };
    match within(mailer.check(), "the SMTP server").await {
        Ok(detail) => match config.mail {
            MailTransport::Smtp(_) => finding(Status::Ok, "smtp", detail),
            MailTransport::Files(_) => finding(Status::Warn, "smtp", detail),
        },
        Err(why) => finding(Status::Fail, "smtp", format!("{why} (SMTP_URL)")),
    }
}

async fn inbound(config: &Config) -> Vec<Finding> {
    let Some(domain) = &config.reply_domain else {
        return vec![finding(
            Status::Warn,
            "inbound mail",
            "REPLY_DOMAIN is unset: replies go to people's own addresses and are not taken in",
        )];
    };
    let mut lines = Vec::new();
    if config.inbound_smtp_bind.is_none() && config.inbound_imap.is_none() {
        lines.push(finding(
            Status::Fail,
            "inbound mail",
            format!(
                "REPLY_DOMAIN is {domain}, but neither INBOUND_SMTP_BIND nor INBOUND_IMAP_URL \
                 takes its mail in"
            ),
        ));
    }
    if let Some(addr) = config.inbound_smtp_bind {
        lines.push(inbound_listener(addr).await);
    }
    if let Some(mailbox) = &config.inbound_imap {
        let what = format!("{}@{}/{}", mailbox.user, mailbox.host, mailbox.mailbox);
        lines.push(
            match within(crate::inbound::imap::check(mailbox), "the IMAP server").await {
                Ok(unseen) => finding(
                    Status::Ok,
                    "inbound imap",
                    format!("{what}: logged in, {unseen} unread waiting"),
                ),
                Err(why) => finding(
                    Status::Fail,
                    "inbound imap",
                    format!("{what}: {why} (INBOUND_IMAP_URL)"),
                ),
            },
        );
    }
    lines
}

/// The inbound listener belongs to a running server: it answers with an SMTP greeting, or the
/// address is free (no server runs yet) or taken by something else.
async fn inbound_listener(addr: std::net::SocketAddr) -> Finding {
    use tokio::io::AsyncReadExt;
    let mut target = addr;
    if target.ip().is_unspecified() {
        target.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let greeting = async {
        let mut stream = tokio::net::TcpStream::connect(target)
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 256];
        let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(String::from_utf8_lossy(&buf[..n]).trim().to_owned())
    };
    match tokio::time::timeout(Duration::from_secs(5), greeting).await {
        Ok(Ok(line)) if line.starts_with("220") => finding(
            Status::Ok,
            "inbound smtp",
            format!("the listener on {addr} greets: {line}"),
        ),
        Ok(Ok(line)) => finding(
            Status::Fail,
            "inbound smtp",
            format!("{addr} answers, but not as an SMTP server: {line:?} (INBOUND_SMTP_BIND)"),
        ),
        Ok(Err(_)) | Err(_) => match tokio::net::TcpListener::bind(addr).await {
            Ok(_) => finding(
                Status::Warn,
                "inbound smtp",
                format!("nothing listens on {addr} yet: a running server takes mail there"),
            ),
            Err(err) => finding(
                Status::Fail,
                "inbound smtp",
                format!("{addr} cannot be bound: {err} (INBOUND_SMTP_BIND)"),
            ),
        },
    }
}

/// The public URL reaches a running instance: `PUBLIC_URL/readyz` answers 200.
async fn public_url(config: &Config) -> Finding {
    let base = config.public_url.as_str().trim_end_matches('/');
    let url = format!("{base}/readyz");
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(err) => return finding(Status::Fail, "public url", err.to_string()),
    };
    let plain_http = config.public_url.scheme() == "http"
        && !matches!(
            config.public_url.host_str(),
            Some("localhost" | "127.0.0.1" | "[::1]")
        );
    match client.get(&url).send().await {
        Ok(response) if response.status().is_success() && plain_http => finding(
            Status::Warn,
            "public url",
            format!(
                "{url} answers, but over plain http: sign-in cookies and links travel \
                 unencrypted (put TLS in front, see the operations guide)"
            ),
        ),
        Ok(response) if response.status().is_success() => {
            finding(Status::Ok, "public url", format!("{url} answers 200"))
        }
        Ok(response) => finding(
            Status::Fail,
            "public url",
            format!(
                "{url} answers {} (PUBLIC_URL, or the proxy in front)",
                response.status()
            ),
        ),
        Err(err) => finding(
            Status::Fail,
            "public url",
            format!(
                "{url}: {} (is a server running, and PUBLIC_URL its address?)",
                crate::error::error_chain(&err)
            ),
        ),
    }
}
