//! A TCP forwarder between a test site and its database that a test can cut
//! (the listener closes and every live connection is dropped, so new
//! connections are refused and open ones fail) and restore on the same
//! port: the database "goes away" for one node while the server keeps
//! running.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

pub struct Forwarder {
    addr: SocketAddr,
    target: SocketAddr,
    accept: Mutex<Option<JoinHandle<()>>>,
    live: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

fn bind(addr: SocketAddr) -> tokio::net::TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("reuseaddr");
    socket.bind(addr).expect("bind the forwarder");
    socket.listen(128).expect("listen")
}

impl Forwarder {
    /// Forwards a free loopback port to `target`.
    pub fn start(target: SocketAddr) -> Forwarder {
        let listener = bind("127.0.0.1:0".parse().expect("addr"));
        let addr = listener.local_addr().expect("addr");
        let f = Forwarder {
            addr,
            target,
            accept: Mutex::new(None),
            live: Arc::new(Mutex::new(Vec::new())),
        };
        f.serve(listener);
        f
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (target, live) = (self.target, self.live.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                live.lock().unwrap().push(conn);
            }
        });
        *self.accept.lock().unwrap() = Some(task);
    }

    /// The database goes away: no new connections, open ones dropped.
    pub async fn cut(&self) {
        let accept = self.accept.lock().unwrap().take();
        if let Some(task) = accept {
            task.abort();
            let _ = task.await;
        }
        let conns: Vec<_> = self.live.lock().unwrap().drain(..).collect();
        for c in conns {
            c.abort();
            let _ = c.await;
        }
    }

    /// The database comes back on the same address.
    pub fn restore(&self) {
        self.serve(bind(self.addr));
    }
}
