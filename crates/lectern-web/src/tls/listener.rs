//! [`TlsListener`]: accepts TCP connections and hands axum only those whose
//! TLS handshake finished. Handshakes run concurrently (a slow or silent
//! client never holds up the others), each under a deadline, and at most
//! `MAX_HANDSHAKES` at once; they are tasks of a `JoinSet` the listener
//! owns, so they end with it.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// Longest a client may take to finish its handshake.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
/// Most handshakes in progress; past it, new connections wait in the
/// kernel's backlog.
const MAX_HANDSHAKES: usize = 1024;

type Handshake = (io::Result<TlsStream<TcpStream>>, SocketAddr);

pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Handshake>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> Self {
        Self {
            tcp,
            acceptor: TlsAcceptor::from(config),
            handshakes: JoinSet::new(),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept(), if self.handshakes.len() < MAX_HANDSHAKES => {
                    match accepted {
                        Ok((stream, addr)) => {
                            let acceptor = self.acceptor.clone();
                            self.handshakes.spawn(async move {
                                let done = tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(stream))
                                    .await
                                    .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "TLS handshake deadline")));
                                (done, addr)
                            });
                        }
                        Err(e) => {
                            // Out of file descriptors and the like: wait a little.
                            tracing::warn!(error = %e, "accepting a connection failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
                Some(joined) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    match joined {
                        Ok((Ok(stream), addr)) => return (stream, addr),
                        Ok((Err(e), addr)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                        Err(e) => tracing::warn!(error = %e, "a TLS handshake task ended abnormally"),
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
