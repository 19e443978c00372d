//! A small SMTP server on loopback for tests: it speaks enough ESMTP for lettre, keeps every
//! message it accepts, and can be told to refuse, fail temporarily or go away.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

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
    task: Option<JoinHandle<()>>,
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
        let address = listener.local_addr().unwrap();
        let mut sink = Self {
            address,
            inbox: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Accept)),
            delay: Arc::default(),
            held: Arc::default(),
            hang_for: Arc::default(),
            task: None,
        };
        sink.serve(listener);
        sink
    }

    /// A sink on an address that nothing listens on yet (for "server down" tests).
    pub async fn reserved() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        Self {
            address,
            inbox: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Accept)),
            delay: Arc::default(),
            held: Arc::default(),
            hang_for: Arc::default(),
            task: None,
        }
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
        let inbox = self.inbox.clone();
        let mode = self.mode.clone();
        let delay = self.delay.clone();
        let held = self.held.clone();
        let hang_for = self.hang_for.clone();
        self.task = Some(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((socket, _)) = listener.accept().await {
                connections.spawn(session(
                    socket,
                    inbox.clone(),
                    mode.clone(),
                    delay.clone(),
                    held.clone(),
                    hang_for.clone(),
                ));
            }
        }));
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.go_down();
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    inbox: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
    delay: Arc<Mutex<Duration>>,
    held: Arc<Held>,
    hang_for: Arc<Mutex<Option<String>>>,
) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..].trim().to_owned();
            to.clear();
            b"250 OK\r\n"
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
}
