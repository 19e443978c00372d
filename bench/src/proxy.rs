//! A TCP proxy between a service instance and PostgreSQL that counts round trips: one starts
//! each time the client sends after the server has last spoken. A statement that costs one
//! round trip counts one however its messages are split into packets; a ping before or after
//! it counts one more.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct CountingProxy {
    /// The database URL that goes through the proxy.
    pub url: String,
    round_trips: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    /// Listens on a loopback port and forwards every connection to `database_url`'s server.
    pub async fn start(database_url: &str) -> anyhow::Result<Self> {
        let mut url = url::Url::parse(database_url)?;
        let upstream = format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port().unwrap_or(5432)
        );
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let local = listener.local_addr()?;
        url.set_host(Some("127.0.0.1"))?;
        url.set_port(Some(local.port()))
            .map_err(|()| anyhow::anyhow!("cannot set the proxy's port"))?;
        let round_trips = Arc::new(AtomicU64::new(0));
        let counter = round_trips.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (counter, upstream) = (counter.clone(), upstream.clone());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        relay(client, server, counter).await;
                    }
                });
            }
        });
        Ok(Self {
            url: url.to_string(),
            round_trips,
            task,
        })
    }

    /// Round trips so far, over every connection.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(client: TcpStream, server: TcpStream, round_trips: Arc<AtomicU64>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    // Whether the server spoke last: the client's next bytes start a round trip.
    let server_spoke = Arc::new(AtomicBool::new(true));
    let answered = server_spoke.clone();
    let upstream = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if server_spoke.swap(false, Ordering::AcqRel) {
                        round_trips.fetch_add(1, Ordering::Relaxed);
                    }
                    if server_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = server_write.shutdown().await;
    };
    let downstream = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answered.store(true, Ordering::Release);
                    if client_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}
