//! A loopback server that misbehaves on purpose. It speaks HTTP/1.1 by hand
//! over raw TCP, so it can send what a well-behaved server library never
//! would: truncated bodies, broken chunk framing, oversized heads, a plain
//! reply to a TLS handshake.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Validator of the body's first version.
pub const ETAG_V1: &str = "\"v1\"";
/// Validator of the body's second version (see [`Fault::EtagChange`]).
pub const ETAG_V2: &str = "\"v2\"";

/// What the server does wrong. Faults marked "first response" behave
/// correctly from the second request on (honouring `Range`).
#[derive(Debug, Clone)]
pub enum Fault {
    /// No fault: the body with `Content-Length`, honouring `Range`.
    None,
    /// First response: a part of the body, then a TCP reset.
    ResetMidBody,
    /// First response: `Content-Length` announces the body, the server sends
    /// [`FaultServer::cut`] bytes and closes cleanly.
    ShortContentLength,
    /// Every response: `Content-Length` is smaller than what follows.
    LongContentLength { extra: usize },
    /// Every response: chunked encoding with a chunk-size line that is not hex.
    BrokenChunked,
    /// The first `failures` requests get `503 Service Unavailable`.
    ServerErrorThenOk { failures: usize },
    /// Reads the request and never answers.
    NoHeaders,
    /// Sends the response head, then nothing (connection held open).
    StallAfterHeaders,
    /// The body in pieces of `piece` bytes, `gap` apart.
    Trickle { piece: usize, gap: Duration },
    /// Every response is `302` to the same URL.
    RedirectLoop,
    /// The response head carries this many bytes of header values.
    HugeHeaders { bytes: usize },
    /// First response truncated; a request with `Range` gets `200` and
    /// the whole body.
    RangeIgnored,
    /// First response truncated; a request with `Range` gets `206` whose
    /// `Content-Range` starts elsewhere.
    WrongContentRange,
    /// First response truncated; a request with `Range` gets `206` whose
    /// `Content-Range` ends before the body does (with a matching length).
    RangeEndsEarly,
    /// First response truncated; a request with `Range` gets `206` with the
    /// right `Content-Range` but a shorter `Content-Length`.
    PartialBodyShort,
    /// First response truncated; every later response is the body's second
    /// version (each byte inverted) with [`ETAG_V2`].
    EtagChange,
    /// `Content-Encoding: gzip` of `decoded` zero bytes.
    GzipBomb { decoded: usize },
    /// A fault per request path (paths not listed: [`Fault::None`]).
    ByPath(Vec<(&'static str, Fault)>),
}

/// One request (or connection, for bytes that are not HTTP) the server saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Request target, or `"<tls>"` for a TLS handshake.
    pub path: String,
    /// Start of `Range: bytes=N-`, when sent.
    pub range_from: Option<u64>,
}

pub struct FaultServer {
    pub base: String,
    pub body: Arc<Vec<u8>>,
    /// Bytes sent by a truncated first response.
    pub cut: usize,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FaultServer {
    /// Serve `body` at every path with `fault`, on 127.0.0.1.
    pub async fn start(fault: Fault, body: Vec<u8>) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = body.len() * 5 / 8;
        let body = Arc::new(body);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let server = Conn {
            fault,
            body: body.clone(),
            cut,
            seen: seen.clone(),
        };
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move { server.serve(socket).await });
            }
        });
        FaultServer {
            base: format!("http://127.0.0.1:{}", addr.port()),
            body,
            cut,
            seen,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests seen so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// The body's second version.
pub fn second_version(body: &[u8]) -> Vec<u8> {
    body.iter().map(|b| !b).collect()
}

#[derive(Clone)]
struct Conn {
    fault: Fault,
    body: Arc<Vec<u8>>,
    cut: usize,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Conn {
    /// One connection: requests are answered in turn until the client or a
    /// fault closes it.
    async fn serve(&self, mut socket: TcpStream) {
        let mut buf = Vec::new();
        loop {
            let Some(head) = read_head(&mut socket, &mut buf).await else {
                return;
            };
            if head == TLS_HELLO {
                self.seen.lock().unwrap().push(Seen {
                    path: "<tls>".into(),
                    range_from: None,
                });
                // What a plain HTTP server says to a ClientHello.
                let _ = socket
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n")
                    .await;
                return;
            }
            let path = head.split(' ').nth(1).unwrap_or("/").to_string();
            let range_from = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                if !name.trim().eq_ignore_ascii_case("range") {
                    return None;
                }
                value
                    .trim()
                    .strip_prefix("bytes=")?
                    .trim_end_matches('-')
                    .parse::<u64>()
                    .ok()
            });
            let attempt = {
                let mut seen = self.seen.lock().unwrap();
                seen.push(Seen {
                    path: path.clone(),
                    range_from,
                });
                seen.len() - 1
            };
            if !self.respond(&mut socket, &path, attempt, range_from).await {
                return;
            }
        }
    }

    /// Answer one request; false when the connection must end.
    async fn respond(
        &self,
        socket: &mut TcpStream,
        path: &str,
        attempt: usize,
        range_from: Option<u64>,
    ) -> bool {
        self.respond_with(&self.fault, socket, path, attempt, range_from)
            .await
    }

    async fn respond_with(
        &self,
        fault: &Fault,
        socket: &mut TcpStream,
        path: &str,
        attempt: usize,
        range_from: Option<u64>,
    ) -> bool {
        let body = &self.body[..];
        let first = attempt == 0;
        match fault {
            Fault::ByPath(faults) => {
                let fault = faults
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map_or(&Fault::None, |(_, f)| f);
                // Attempts count per path.
                let attempt = self.seen.lock().unwrap()[..attempt]
                    .iter()
                    .filter(|s| s.path == path)
                    .count();
                Box::pin(self.respond_with(fault, socket, path, attempt, range_from)).await
            }
            Fault::NoHeaders => {
                // Hold the connection open, silent, until the client leaves.
                let _ = socket.read(&mut [0u8; 1]).await;
                false
            }
            Fault::StallAfterHeaders => {
                let _ = socket
                    .write_all(head(200, body.len(), ETAG_V1, "").as_bytes())
                    .await;
                let _ = socket.read(&mut [0u8; 1]).await;
                false
            }
            Fault::ServerErrorThenOk { failures } if attempt < *failures => {
                let _ = socket.write_all(head(503, 0, ETAG_V1, "").as_bytes()).await;
                true
            }
            Fault::RedirectLoop => {
                let extra = format!("location: {path}\r\n");
                let _ = socket
                    .write_all(head(302, 0, ETAG_V1, &extra).as_bytes())
                    .await;
                true
            }
            Fault::ResetMidBody if first => {
                let _ = socket
                    .write_all(head(200, body.len(), ETAG_V1, "").as_bytes())
                    .await;
                let _ = socket.write_all(&body[..self.cut]).await;
                let _ = socket.flush().await;
                let _ = socket.set_zero_linger();
                false
            }
            Fault::ShortContentLength
            | Fault::RangeIgnored
            | Fault::WrongContentRange
            | Fault::RangeEndsEarly
            | Fault::PartialBodyShort
            | Fault::EtagChange
                if first =>
            {
                let _ = socket
                    .write_all(head(200, body.len(), ETAG_V1, "").as_bytes())
                    .await;
                let _ = socket.write_all(&body[..self.cut]).await;
                let _ = socket.shutdown().await;
                false
            }
            Fault::RangeIgnored => send(socket, 200, body, ETAG_V1, "").await,
            Fault::WrongContentRange => {
                // A range that starts one byte before the one asked for.
                let from = range_from.map_or(0, |n| n.saturating_sub(1) as usize);
                if range_from.is_some() {
                    let extra = content_range(from, body.len());
                    send(socket, 206, &body[from..], ETAG_V1, &extra).await
                } else {
                    send(socket, 200, body, ETAG_V1, "").await
                }
            }
            Fault::RangeEndsEarly | Fault::PartialBodyShort => match range_from {
                Some(n) if (n as usize) < body.len() => {
                    let n = n as usize;
                    let end = n + (body.len() - n) / 2;
                    let extra = if matches!(fault, Fault::RangeEndsEarly) {
                        format!("content-range: bytes {n}-{}/{}\r\n", end - 1, body.len())
                    } else {
                        content_range(n, body.len())
                    };
                    send(socket, 206, &body[n..end], ETAG_V1, &extra).await
                }
                _ => send(socket, 200, body, ETAG_V1, "").await,
            },
            Fault::EtagChange => {
                let v2 = second_version(body);
                match range_from {
                    Some(n) if (n as usize) <= v2.len() => {
                        let extra = content_range(n as usize, v2.len());
                        send(socket, 206, &v2[n as usize..], ETAG_V2, &extra).await
                    }
                    _ => send(socket, 200, &v2, ETAG_V2, "").await,
                }
            }
            Fault::LongContentLength { extra } => {
                let _ = socket
                    .write_all(head(200, body.len(), ETAG_V1, "").as_bytes())
                    .await;
                let _ = socket.write_all(body).await;
                let _ = socket.write_all(&vec![b'#'; *extra]).await;
                let _ = socket.shutdown().await;
                false
            }
            Fault::BrokenChunked => {
                let h = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\
                         content-type: application/octet-stream\r\n\r\n";
                let _ = socket.write_all(h.as_bytes()).await;
                let half = &body[..body.len() / 2];
                let _ = socket
                    .write_all(format!("{:x}\r\n", half.len()).as_bytes())
                    .await;
                let _ = socket.write_all(half).await;
                let _ = socket.write_all(b"\r\nnot-hex\r\n").await;
                let _ = socket.shutdown().await;
                false
            }
            Fault::Trickle { piece, gap } => {
                let _ = socket
                    .write_all(head(200, body.len(), ETAG_V1, "").as_bytes())
                    .await;
                for part in body.chunks(*piece) {
                    tokio::time::sleep(*gap).await;
                    if socket.write_all(part).await.is_err() {
                        return false;
                    }
                }
                true
            }
            Fault::HugeHeaders { bytes } => {
                let value = "h".repeat(1024);
                let mut extra = String::new();
                for i in 0..bytes / 1024 {
                    extra.push_str(&format!("x-filler-{i}: {value}\r\n"));
                }
                let _ = socket
                    .write_all(head(200, body.len(), ETAG_V1, &extra).as_bytes())
                    .await;
                let _ = socket.write_all(body).await;
                let _ = socket.shutdown().await;
                false
            }
            Fault::GzipBomb { decoded } => {
                let z = gzip_zeros(*decoded);
                let extra = "content-encoding: gzip\r\n";
                send(socket, 200, &z, ETAG_V1, extra).await
            }
            Fault::None
            | Fault::ResetMidBody
            | Fault::ShortContentLength
            | Fault::ServerErrorThenOk { .. } => match range_from {
                Some(n) if (n as usize) <= body.len() => {
                    let extra = content_range(n as usize, body.len());
                    send(socket, 206, &body[n as usize..], ETAG_V1, &extra).await
                }
                _ => send(socket, 200, body, ETAG_V1, "").await,
            },
        }
    }
}

/// Marker returned by [`read_head`] for a TLS ClientHello.
const TLS_HELLO: &str = "\u{16}";

/// Read one request head (request bodies are not used here). `None` when
/// the client closed the connection.
async fn read_head(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if buf.first() == Some(&0x16) {
            // A TLS record (handshake), not HTTP.
            buf.clear();
            return Some(TLS_HELLO.into());
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return Some(head);
        }
        let mut chunk = [0u8; 4096];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn head(status: u16, len: usize, etag: &str, extra: &str) -> String {
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        503 => "Service Unavailable",
        _ => "Status",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-length: {len}\r\netag: {etag}\r\n\
         accept-ranges: bytes\r\ncontent-type: application/octet-stream\r\n{extra}\r\n"
    )
}

fn content_range(from: usize, total: usize) -> String {
    format!(
        "content-range: bytes {from}-{}/{total}\r\n",
        total.saturating_sub(1)
    )
}

/// Send a complete response; true (the connection stays usable) unless
/// the client went away.
async fn send(socket: &mut TcpStream, status: u16, body: &[u8], etag: &str, extra: &str) -> bool {
    socket
        .write_all(head(status, body.len(), etag, extra).as_bytes())
        .await
        .is_ok()
        && socket.write_all(body).await.is_ok()
}

fn gzip_zeros(n: usize) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(zeros.len());
        enc.write_all(&zeros[..k]).unwrap();
        left -= k;
    }
    enc.finish().unwrap()
}
