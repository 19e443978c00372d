//! A small SMTP server on loopback for tests: it speaks enough ESMTP for lettre, keeps every
//! message it accepts, and can be told to refuse, fail temporarily or go away. It can also
//! speak STARTTLS or TLS from the first byte, and ask for AUTH PLAIN.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How the server answers the end of DATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// `550` — a permanent failure.
    Reject,
    /// `451` — a temporary failure.
    TryLater,
    /// Closes the connection instead of answering the end of DATA.
    HangUp,
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender.
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
    /// Whether the conversation was encrypted.
    pub tls: bool,
    /// Who authenticated, if anyone.
    pub user: Option<String>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("an RFC 5322 message")
    }
}

pub struct SmtpSink {
    pub address: SocketAddr,
    inbox: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
    delay: Arc<Mutex<Duration>>,
    held: Arc<Held>,
    /// Messages to a recipient containing this never get an answer to their end of DATA.
    hang_for: Arc<Mutex<Option<String>>>,
    security: Option<Arc<Security>>,
    /// Every command, and whether it came encrypted.
    commands: Arc<Mutex<Vec<(bool, String)>>>,
    task: Option<JoinHandle<()>>,
}

/// TLS and authentication of a sink started with [`SmtpSink::start_secure`].
pub struct Security {
    acceptor: TlsAcceptor,
    /// TLS from the first byte (`smtps://`); otherwise STARTTLS is offered.
    implicit: bool,
    /// The only user and password AUTH PLAIN accepts; MAIL needs them.
    login: (String, String),
}

/// Messages whose final answer is being held (see [`SmtpSink::set_delay`]), now and at most.
#[derive(Default)]
struct Held {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut sink = Self::at(listener.local_addr().unwrap(), None);
        sink.serve(listener);
        sink
    }

    /// A sink on `address` that does not listen yet.
    fn at(address: SocketAddr, security: Option<Arc<Security>>) -> Self {
        Self {
            address,
            inbox: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Accept)),
            delay: Arc::default(),
            held: Arc::default(),
            hang_for: Arc::default(),
            security,
            commands: Arc::default(),
            task: None,
        }
    }

    /// A sink that speaks TLS with the certificate for `localhost` in `ca_dir` (see
    /// [`crate::helpers::test_ca`]), from the first byte or after STARTTLS, and takes mail only
    /// from `user` with `password`.
    pub async fn start_secure(
        ca_dir: &std::path::Path,
        implicit: bool,
        user: &str,
        password: &str,
    ) -> Self {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(ca_dir.join("server.pem"))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
        let key = PrivateKeyDer::from_pem_file(ca_dir.join("server.key")).unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let security = Security {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            implicit,
            login: (user.to_owned(), password.to_owned()),
        };
        let mut sink = Self::at(listener.local_addr().unwrap(), Some(Arc::new(security)));
        sink.serve(listener);
        sink
    }

    /// Every command the sink received, with whether it came encrypted.
    pub fn commands(&self) -> Vec<(bool, String)> {
        self.commands.lock().unwrap().clone()
    }

    /// A sink on an address that nothing listens on yet (for "server down" tests).
    pub async fn reserved() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        Self::at(address, None)
    }

    /// Starts listening on the sink's address (again).
    pub async fn come_up(&mut self) {
        let listener = TcpListener::bind(self.address).await.unwrap();
        self.serve(listener);
    }

    /// Stops listening and drops open connections.
    pub fn go_down(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Never answers the end of DATA of a message to a recipient containing `part` (the
    /// connection stays open and silent), or stops doing so with `None`.
    pub fn hang_for(&self, part: Option<&str>) {
        *self.hang_for.lock().unwrap() = part.map(str::to_owned);
    }

    /// Holds the answer to the end of DATA this long.
    pub fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    /// The most messages that were waiting for their answer at the same time: how many
    /// connections the client was sending over at once.
    pub fn peak_held(&self) -> usize {
        self.held.peak.load(Ordering::SeqCst)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..100 {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} messages, got {}", self.messages().len());
    }

    fn serve(&mut self, listener: TcpListener) {
        let shared = Shared {
            inbox: self.inbox.clone(),
            mode: self.mode.clone(),
            delay: self.delay.clone(),
            held: self.held.clone(),
            hang_for: self.hang_for.clone(),
            security: self.security.clone(),
            commands: self.commands.clone(),
        };
        self.task = Some(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((socket, _)) = listener.accept().await {
                let shared = shared.clone();
                connections.spawn(async move {
                    match shared.security.clone() {
                        Some(security) if security.implicit => {
                            if let Ok(tls) = security.acceptor.accept(socket).await {
                                session(Box::new(tls), shared, true, true).await;
                            }
                        }
                        _ => session(Box::new(socket), shared, false, true).await,
                    }
                });
            }
        }));
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.go_down();
    }
}

/// What every session of one sink shares.
#[derive(Clone)]
struct Shared {
    inbox: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
    delay: Arc<Mutex<Duration>>,
    held: Arc<Held>,
    hang_for: Arc<Mutex<Option<String>>>,
    security: Option<Arc<Security>>,
    commands: Arc<Mutex<Vec<(bool, String)>>>,
}

/// A byte stream, plain or encrypted.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One SMTP conversation over `stream`, encrypted already or not; after STARTTLS it goes on
/// in a new session over the TLS stream, without a greeting.
fn session(stream: Box<dyn Io>, shared: Shared, tls: bool, greet: bool) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let Shared {
            inbox,
            mode,
            delay,
            held,
            hang_for,
            security,
            commands,
        } = shared.clone();
        let (read, mut write) = tokio::io::split(stream);
        let mut lines = BufReader::new(read);
        if greet {
            let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
        }
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut user: Option<String> = None;
        let mut line = String::new();
        loop {
            line.clear();
            match lines.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let command = line.trim_end().to_owned();
            commands.lock().unwrap().push((tls, command.clone()));
            let upper = command.to_ascii_uppercase();
            let ehlo;
            let reply: &[u8] = if upper.starts_with("EHLO") {
                let mut extensions = vec!["sink.test", "8BITMIME", "SMTPUTF8"];
                match &security {
                    Some(_) if !tls => extensions.push("STARTTLS"),
                    Some(_) => extensions.push("AUTH PLAIN"),
                    None => {}
                }
                let last = extensions.len() - 1;
                ehlo = extensions
                    .iter()
                    .enumerate()
                    .map(|(i, e)| format!("250{}{e}\r\n", if i == last { ' ' } else { '-' }))
                    .collect::<String>();
                ehlo.as_bytes()
            } else if upper == "STARTTLS" {
                let Some(security) = security.clone().filter(|_| !tls) else {
                    let _ = write.write_all(b"502 not implemented\r\n").await;
                    continue;
                };
                let _ = write.write_all(b"220 go ahead\r\n").await;
                let stream = lines.into_inner().unsplit(write);
                if let Ok(encrypted) = security.acceptor.accept(stream).await {
                    session(Box::new(encrypted), shared, true, false).await;
                }
                return;
            } else if upper.starts_with("AUTH PLAIN") {
                let Some(security) = security.clone().filter(|_| tls) else {
                    let _ = write.write_all(b"538 encryption required\r\n").await;
                    continue;
                };
                use base64::Engine;
                let given = command[10..].trim();
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(given)
                    .unwrap_or_default();
                let parts: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
                let (name, password) = &security.login;
                if parts.len() == 3
                    && parts[1] == name.as_bytes()
                    && parts[2] == password.as_bytes()
                {
                    user = Some(name.clone());
                    b"235 authenticated\r\n"
                } else {
                    b"535 authentication failed\r\n"
                }
            } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                b"250 OK\r\n"
            } else if upper.starts_with("RSET") {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                if security.is_some() && user.is_none() {
                    b"530 authentication required\r\n"
                } else {
                    from = command[10..].trim().to_owned();
                    to.clear();
                    b"250 OK\r\n"
                }
            } else if upper.starts_with("RCPT TO:") {
                to.push(command[8..].trim().to_owned());
                b"250 OK\r\n"
            } else if upper == "DATA" {
                let _ = write.write_all(b"354 go ahead\r\n").await;
                let mut data = Vec::new();
                loop {
                    let mut chunk = String::new();
                    match lines.read_line(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if chunk == ".\r\n" {
                        break;
                    }
                    let chunk = chunk.strip_prefix('.').unwrap_or(&chunk).to_owned();
                    data.extend_from_slice(chunk.as_bytes());
                }
                let hang = hang_for.lock().unwrap().clone();
                if hang.is_some_and(|part| to.iter().any(|r| r.contains(&part))) {
                    std::future::pending::<()>().await;
                }
                let pause = *delay.lock().unwrap();
                let now = held.now.fetch_add(1, Ordering::SeqCst) + 1;
                held.peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(pause).await;
                held.now.fetch_sub(1, Ordering::SeqCst);
                let current = *mode.lock().unwrap();
                match current {
                    Mode::Accept => {
                        inbox.lock().unwrap().push(Received {
                            from: from.clone(),
                            to: to.clone(),
                            data,
                            tls,
                            user: user.clone(),
                        });
                        b"250 queued\r\n"
                    }
                    Mode::Reject => b"550 mailbox unavailable\r\n",
                    Mode::TryLater => b"451 try again later\r\n",
                    Mode::HangUp => return,
                }
            } else if upper.starts_with("QUIT") {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            } else {
                b"502 not implemented\r\n"
            };
            if write.write_all(reply).await.is_err() {
                return;
            }
        }
    })
}
