//! Sending: SMTP over connections this service keeps open, or `.eml` files in a folder when no
//! SMTP server is configured.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use crate::config::{MailTransport, SmtpSecurity, SmtpServer};

/// Why a send failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Connection refused, timeout, 4xx: retry later.
    Temporary(String),
    /// 5xx or a message that cannot be built: retrying will not help.
    Permanent(String),
}

impl SendError {
    pub fn message(&self) -> &str {
        match self {
            Self::Temporary(m) | Self::Permanent(m) => m,
        }
    }
}

/// Where emails go.
#[derive(Clone)]
pub enum Mailer {
    Smtp(Arc<Smtp>),
    Files(PathBuf),
}

/// SMTP connections this service opens itself, kept open between messages.
///
/// lettre speaks SMTP over them (`AsyncSmtpConnection::connect_with_transport`), but the
/// socket is ours, with `TCP_NODELAY`: lettre writes a message and its final dot separately,
/// and without it the dot waits for the server's delayed ACK (about 40 ms a message).
pub struct Smtp {
    server: SmtpServer,
    hello: ClientId,
    credentials: Option<Credentials>,
    /// STARTTLS: lettre upgrades the stream with these.
    starttls: Option<TlsParameters>,
    /// `smtps://`: TLS from the first byte, ours.
    implicit: Option<TlsConnector>,
    /// The whole conversation for one message, connecting included, must end within this.
    deadline: Duration,
    /// At most this many conversations at once (`SMTP_MAX_CONNECTIONS`).
    permits: Semaphore,
    /// Open connections not in use, with the moment each was last used.
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

/// Longest wait for connecting.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// An idle connection older than this is closed rather than reused (servers drop idle
/// clients after a minute or more).
const IDLE_LIMIT: Duration = Duration::from_secs(50);

/// An idle connection at least this old is checked with `NOOP` before a message goes over it.
const CHECK_AFTER: Duration = Duration::from_secs(5);

/// Why one conversation failed.
enum Failure {
    /// The server's answer or lettre's protocol handling.
    Smtp(lettre::transport::smtp::Error),
    /// Connecting, TLS, or the deadline.
    Network(String),
}

impl From<lettre::transport::smtp::Error> for Failure {
    fn from(err: lettre::transport::smtp::Error) -> Self {
        Self::Smtp(err)
    }
}

/// A TLS stream of ours, for lettre to speak SMTP over.
#[derive(Debug)]
struct TlsStream(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for TlsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsStream {
    fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl Smtp {
    fn new(server: &SmtpServer, connections: usize, deadline: Duration) -> anyhow::Result<Self> {
        let hello = match &server.hello_name {
            Some(name) => ClientId::Domain(name.clone()),
            None => ClientId::default(),
        };
        let credentials = server
            .credentials
            .as_ref()
            .map(|(user, password)| Credentials::new(user.clone(), password.clone()));
        let (mut starttls, mut implicit) = (None, None);
        match server.security {
            SmtpSecurity::Plain => {}
            SmtpSecurity::StartTls | SmtpSecurity::StartTlsIfOffered => {
                let mut builder = TlsParameters::builder(server.host.clone());
                if let Some(file) = &server.ca_file {
                    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
                        .and_then(Iterator::collect)
                        .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
                    for cert in certs {
                        builder =
                            builder.add_root_certificate(Certificate::from_der(cert.to_vec())?);
                    }
                }
                starttls = Some(builder.build_rustls()?);
            }
            SmtpSecurity::Implicit => {
                let config = crate::values::tls::client_config(server.ca_file.as_deref())
                    .map_err(anyhow::Error::msg)?;
                implicit = Some(TlsConnector::from(Arc::new(config)));
            }
        }
        Ok(Self {
            server: server.clone(),
            hello,
            credentials,
            starttls,
            implicit,
            deadline,
            permits: Semaphore::new(connections.max(1)),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// A new conversation: TCP with `TCP_NODELAY`, TLS as configured, EHLO, AUTH.
    async fn connect(&self) -> Result<AsyncSmtpConnection, Failure> {
        let address = (self.server.host.as_str(), self.server.port);
        let tcp = tokio::time::timeout(SMTP_TIMEOUT, TcpStream::connect(address))
            .await
            .map_err(|_| {
                Failure::Network(format!(
                    "connecting to {}:{} timed out",
                    address.0, address.1
                ))
            })?
            .map_err(|e| {
                Failure::Network(format!("connecting to {}:{}: {e}", address.0, address.1))
            })?;
        tcp.set_nodelay(true)
            .map_err(|e| Failure::Network(format!("setting TCP_NODELAY: {e}")))?;
        let stream: Box<dyn AsyncTokioStream> = match &self.implicit {
            Some(connector) => {
                let name = ServerName::try_from(self.server.host.clone())
                    .map_err(|e| Failure::Network(format!("{}: {e}", self.server.host)))?;
                let tls = connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| Failure::Network(format!("TLS with {}: {e}", self.server.host)))?;
                Box::new(TlsStream(tls))
            }
            None => Box::new(tcp),
        };
        let mut connection =
            AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await?;
        if let Some(parameters) = &self.starttls
            && (self.server.security == SmtpSecurity::StartTls || connection.can_starttls())
        {
            connection.starttls(parameters.clone(), &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await?;
        }
        Ok(connection)
    }

    /// An open connection that still answers, or a new one.
    async fn connection(&self) -> Result<AsyncSmtpConnection, Failure> {
        loop {
            let taken = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some((mut connection, since)) = taken else {
                return self.connect().await;
            };
            let idle = since.elapsed();
            if connection.has_broken() || idle >= IDLE_LIMIT {
                connection.abort().await;
                continue;
            }
            if idle < CHECK_AFTER || connection.test_connected().await {
                return Ok(connection);
            }
            connection.abort().await;
        }
    }

    async fn send_over(&self, message: &Message) -> Result<(), Failure> {
        let mut connection = self.connection().await?;
        match connection
            .send(message.envelope(), &message.formatted())
            .await
        {
            Ok(_) => {
                self.idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((connection, Instant::now()));
                Ok(())
            }
            Err(err) => {
                // A refused message leaves the conversation usable (lettre marks it broken
                // otherwise), but a fresh one costs little and leaves no doubt.
                connection.abort().await;
                Err(err.into())
            }
        }
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let Ok(_permit) = self.permits.acquire().await else {
            return Err(SendError::Temporary("the mailer is shutting down".into()));
        };
        // A conversation that outlives the deadline is dropped with its connection, so the
        // next message never finds it stuck.
        match tokio::time::timeout(self.deadline, self.send_over(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Failure::Smtp(err))) if err.is_permanent() => {
                Err(SendError::Permanent(crate::error::error_chain(&err)))
            }
            Ok(Err(Failure::Smtp(err))) => {
                Err(SendError::Temporary(crate::error::error_chain(&err)))
            }
            Ok(Err(Failure::Network(why))) => Err(SendError::Temporary(why)),
            Err(_) => Err(SendError::Temporary(format!(
                "the SMTP server did not finish the message within {} s",
                self.deadline.as_secs()
            ))),
        }
    }
}

impl Mailer {
    /// Sends over up to `connections` SMTP connections at once, kept open between messages; a
    /// connection that failed is closed, never reused. Each message must be done within
    /// `deadline` (lettre itself has no time limit once connected).
    pub fn new(
        transport: &MailTransport,
        connections: usize,
        deadline: Duration,
    ) -> anyhow::Result<Self> {
        Ok(match transport {
            MailTransport::Smtp(server) => {
                Self::Smtp(Arc::new(Smtp::new(server, connections, deadline)?))
            }
            MailTransport::Files(dir) => Self::Files(dir.clone()),
        })
    }

    /// Checks that mail can go out, without sending any: an SMTP conversation up to EHLO,
    /// STARTTLS and AUTH as configured, then QUIT; in folder mode, that the folder can be
    /// written. Says what was reached.
    pub async fn check(&self) -> Result<String, String> {
        match self {
            Self::Smtp(smtp) => {
                let mut connection = smtp.connect().await.map_err(|e| match e {
                    Failure::Smtp(err) => crate::error::error_chain(&err),
                    Failure::Network(why) => why,
                })?;
                let _ = connection.quit().await;
                Ok(format!(
                    "{}:{} accepts a conversation{}",
                    smtp.server.host,
                    smtp.server.port,
                    if smtp.credentials.is_some() {
                        " and the login"
                    } else {
                        ""
                    }
                ))
            }
            Self::Files(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| format!("creating {}: {e}", dir.display()))?;
                let probe = dir.join(".digimentor-doctor");
                tokio::fs::write(&probe, b"")
                    .await
                    .map_err(|e| format!("writing in {}: {e}", dir.display()))?;
                let _ = tokio::fs::remove_file(&probe).await;
                Ok(format!(
                    "SMTP_URL is unset: emails are written to {} as files, not sent",
                    dir.display()
                ))
            }
        }
    }

    /// Sends one message; `file_stem` names the `.eml` file in folder mode.
    #[tracing::instrument(skip(self, message))]
    pub async fn send(&self, message: &Message, file_stem: &str) -> Result<(), SendError> {
        match self {
            Self::Smtp(smtp) => smtp.send(message).await,
            Self::Files(dir) => {
                tokio::fs::create_dir_all(dir).await.map_err(|e| {
                    SendError::Temporary(format!("creating {}: {e}", dir.display()))
                })?;
                let path = dir.join(format!("{file_stem}.eml"));
                tokio::fs::write(&path, message.formatted())
                    .await
                    .map_err(|e| {
                        SendError::Temporary(format!("writing {}: {e}", path.display()))
                    })?;
                tracing::info!(path = %path.display(), "email written to file (SMTP_URL is not set)");
                Ok(())
            }
        }
    }
}
