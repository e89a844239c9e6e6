//! End-to-end tests: a real server on 127.0.0.1:0 serving a temp directory,
//! driven by raw HTTP/1.1 over `TcpStream` (so request targets such as
//! `/../x` reach the server exactly as written).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{ServerError, StaticOrigin};

const SECRET: &str = "TOP-SECRET-OUTSIDE-ROOT";

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request (with `Connection: close`) and reads the whole reply.
async fn request(addr: SocketAddr, method: &str, target: &str, extra: &[(&str, &str)]) -> Resp {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in extra {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let fut = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        raw
    };
    let raw = tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .expect("request timed out");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response has a header block");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let body = raw[split + 4..].to_vec();
    let resp = Resp {
        status,
        headers,
        body,
    };
    assert!(
        resp.header("transfer-encoding").is_none(),
        "test helper expects Content-Length framing"
    );
    resp
}

async fn get(addr: SocketAddr, target: &str) -> Resp {
    request(addr, "GET", target, &[]).await
}

/// `tmp/secret.txt` (outside), and `tmp/root/` served.
struct Fixture {
    _tmp: tempfile::TempDir,
    root: std::path::PathBuf,
    outside: std::path::PathBuf,
    server: StaticOrigin,
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_wpt_conventions(false).await
    }

    /// A fixture whose server applies `.headers` sidecars and `?pipe=`.
    async fn wpt() -> Fixture {
        Fixture::with_wpt_conventions(true).await
    }

    async fn with_wpt_conventions(on: bool) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(tmp.path().join("secret.txt"), SECRET).unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
        std::fs::write(root.join("index.html"), "<h1>home</h1>").unwrap();
        std::fs::write(root.join("hello.txt"), "hello world").unwrap();
        let server = StaticOrigin::builder(&root)
            .wpt_conventions(on)
            .start()
            .await
            .unwrap();
        Fixture {
            _tmp: tmp,
            root,
            outside,
            server,
        }
    }

    fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }
}

#[tokio::test]
async fn serves_index_and_directories() {
    let f = Fixture::new().await;
    f.write("sub/index.html", "<p>sub</p>");
    std::fs::create_dir(f.root.join("empty")).unwrap();

    let r = get(f.addr(), "/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "<h1>home</h1>");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(r.header("content-length"), Some("13"));

    assert_eq!(get(f.addr(), "/sub/").await.text(), "<p>sub</p>");
    assert_eq!(get(f.addr(), "/sub").await.text(), "<p>sub</p>");
    assert_eq!(get(f.addr(), "/empty/").await.status, 404);
    // A file addressed like a directory is not found.
    assert_eq!(get(f.addr(), "/hello.txt/").await.status, 404);
    assert_eq!(get(f.addr(), "/hello.txt/x").await.status, 404);
    // Query strings do not affect the file chosen.
    assert_eq!(get(f.addr(), "/hello.txt?x=1").await.text(), "hello world");
    // Percent-encoded names are decoded.
    f.write("with space.txt", "spaced");
    assert_eq!(get(f.addr(), "/with%20space.txt").await.text(), "spaced");
}

#[tokio::test]
async fn content_types() {
    let f = Fixture::new().await;
    let cases = [
        ("a.js", "text/javascript; charset=utf-8"),
        ("a.mjs", "text/javascript; charset=utf-8"),
        ("a.html", "text/html; charset=utf-8"),
        ("a.json", "application/json"),
        ("a.css", "text/css; charset=utf-8"),
        ("a.txt", "text/plain; charset=utf-8"),
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.svg", "image/svg+xml"),
        ("a.webp", "image/webp"),
        ("a.ico", "image/x-icon"),
        ("a.mp3", "audio/mpeg"),
        ("a.ogg", "audio/ogg"),
        ("a.wav", "audio/wav"),
        ("a.m4a", "audio/mp4"),
        ("a.aac", "audio/aac"),
        ("a.opus", "audio/ogg"),
        ("a.flac", "audio/flac"),
        ("a.mp4", "video/mp4"),
        ("a.webm", "video/webm"),
        ("a.wasm", "application/wasm"),
        ("a.xml", "application/xml"),
        ("a.pdf", "application/pdf"),
        ("a.bin", "application/octet-stream"),
        ("noext", "application/octet-stream"),
        ("UPPER.JS", "text/javascript; charset=utf-8"),
    ];
    for (name, _) in &cases {
        f.write(name, "x");
    }
    for (name, ct) in cases {
        let r = get(f.addr(), &format!("/{name}")).await;
        assert_eq!(r.status, 200, "{name}");
        assert_eq!(r.header("content-type"), Some(ct), "{name}");
    }
}

#[tokio::test]
async fn missing_files_are_plain_404() {
    let f = Fixture::new().await;
    for target in ["/nope.js", "/dir/nope", "/hello.txt.bak"] {
        let r = get(f.addr(), target).await;
        assert_eq!(r.status, 404, "{target}");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(r.text(), "404 Not Found\n");
    }
}

#[tokio::test]
async fn traversal_attempts_never_escape() {
    let f = Fixture::new().await;
    f.write("sub/inner.txt", "inner");
    let targets = [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/sub/..%2f..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..%5csecret.txt",
        "/sub%5c..%5c..%5csecret.txt",
        "/..\\secret.txt",
        "/%2f..%2fsecret.txt",
        "//../secret.txt",
        "/hello.txt%00.js",
        "/../outside/secret.txt",
    ];
    for target in targets {
        let r = get(f.addr(), target).await;
        assert!(
            r.status == 404 || r.status == 400 || r.status == 403,
            "{target}: status {}",
            r.status
        );
        assert!(!r.text().contains(SECRET), "{target} leaked the secret");
    }
    // Absolute paths outside the root, in various spellings.
    let abs = f.outside.join("secret.txt");
    let abs = abs.to_str().unwrap();
    for target in [format!("/{abs}"), format!("/{}", abs.replace('/', "%2f"))] {
        let r = get(f.addr(), &target).await;
        assert!(!r.text().contains(SECRET), "{target} leaked the secret");
        assert_ne!(r.status, 200, "{target}");
    }
    // Sanity: the legitimate path still works.
    assert_eq!(get(f.addr(), "/sub/inner.txt").await.text(), "inner");
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_outside_root_are_refused() {
    use std::os::unix::fs::symlink;
    let f = Fixture::wpt().await;
    symlink(f.outside.join("secret.txt"), f.root.join("link.txt")).unwrap();
    symlink(&f.outside, f.root.join("linkdir")).unwrap();
    symlink(
        f.outside.join("secret.txt"),
        f.root.join("leak.txt.headers"),
    )
    .unwrap();
    symlink(f.root.join("hello.txt"), f.root.join("inside.txt")).unwrap();
    f.write("leak.txt", "leak body");

    for target in [
        "/link.txt",
        "/linkdir/secret.txt",
        "/linkdir/",
        "/leak.txt.headers",
    ] {
        let r = get(f.addr(), target).await;
        assert_eq!(r.status, 404, "{target}");
        assert!(!r.text().contains(SECRET), "{target} leaked the secret");
    }
    // A sidecar that escapes the root is ignored, not followed.
    let r = get(f.addr(), "/leak.txt").await;
    assert_eq!(r.status, 200);
    assert!(r.headers.iter().all(|(_, v)| !v.contains(SECRET)));
    // Symlinks that stay inside the root are fine.
    let r = get(f.addr(), "/inside.txt").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello world");
}

#[tokio::test]
async fn range_requests() {
    let f = Fixture::new().await;
    f.write("digits.txt", "0123456789");
    let cases = [
        ("bytes=0-4", "01234", "bytes 0-4/10"),
        ("bytes=5-", "56789", "bytes 5-9/10"),
        ("bytes=-3", "789", "bytes 7-9/10"),
        ("bytes=8-100", "89", "bytes 8-9/10"),
        ("bytes=-100", "0123456789", "bytes 0-9/10"),
    ];
    for (range, body, content_range) in cases {
        let r = request(f.addr(), "GET", "/digits.txt", &[("Range", range)]).await;
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(r.text(), body, "{range}");
        assert_eq!(r.header("content-range"), Some(content_range), "{range}");
        assert_eq!(r.header("accept-ranges"), Some("bytes"));
        assert_eq!(
            r.header("content-length"),
            Some(body.len().to_string().as_str())
        );
    }
    for range in ["bytes=10-", "bytes=20-30", "bytes=5-2", "bytes=-0"] {
        let r = request(f.addr(), "GET", "/digits.txt", &[("Range", range)]).await;
        assert_eq!(r.status, 416, "{range}");
        assert_eq!(r.header("content-range"), Some("bytes */10"), "{range}");
        assert!(r.body.is_empty());
    }
    // Unsupported forms are ignored: the whole file with 200.
    for range in ["bytes=0-1,4-5", "lines=1-2", "bytes=x-"] {
        let r = request(f.addr(), "GET", "/digits.txt", &[("Range", range)]).await;
        assert_eq!(r.status, 200, "{range}");
        assert_eq!(r.text(), "0123456789");
    }
    let plain = get(f.addr(), "/digits.txt").await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("accept-ranges"), Some("bytes"));
    assert!(plain.header("content-range").is_none());
}

#[tokio::test]
async fn large_file_streams_fully_and_by_range() {
    let f = Fixture::new().await;
    let data: Vec<u8> = (0..3 * 1024 * 1024 + 17).map(|i| (i % 251) as u8).collect();
    f.write("big.bin", &data);

    let r = get(f.addr(), "/big.bin").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-length"),
        Some(data.len().to_string().as_str())
    );
    assert!(r.body == data, "full body differs");

    let (start, end) = (1_000_000usize, 2_500_000usize);
    let range = format!("bytes={start}-{end}");
    let r = request(f.addr(), "GET", "/big.bin", &[("Range", &range)]).await;
    assert_eq!(r.status, 206);
    assert!(r.body == data[start..=end], "range body differs");
}

#[tokio::test]
async fn head_has_headers_but_no_body() {
    let f = Fixture::new().await;
    let r = request(f.addr(), "HEAD", "/hello.txt", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("11"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert!(r.header("etag").is_some());
    assert!(r.header("last-modified").is_some());
    assert!(r.body.is_empty());

    let r = request(f.addr(), "HEAD", "/hello.txt", &[("Range", "bytes=0-1")]).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-length"), Some("2"));
    assert!(r.body.is_empty());

    let r = request(f.addr(), "HEAD", "/missing", &[]).await;
    assert_eq!(r.status, 404);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn etag_and_conditional_requests() {
    let f = Fixture::new().await;
    let first = get(f.addr(), "/hello.txt").await;
    let etag = first.header("etag").unwrap().to_owned();
    let last_modified = first.header("last-modified").unwrap().to_owned();
    assert!(etag.starts_with('"'));
    // Stable across requests.
    assert_eq!(
        get(f.addr(), "/hello.txt").await.header("etag"),
        Some(etag.as_str())
    );

    let r = request(f.addr(), "GET", "/hello.txt", &[("If-None-Match", &etag)]).await;
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(r.header("cache-control"), Some("no-cache"));

    let r = request(
        f.addr(),
        "GET",
        "/hello.txt",
        &[("If-None-Match", "\"nope\"")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello world");

    let r = request(
        f.addr(),
        "GET",
        "/hello.txt",
        &[("If-Modified-Since", &last_modified)],
    )
    .await;
    assert_eq!(r.status, 304);

    // If-None-Match wins over If-Modified-Since.
    let r = request(
        f.addr(),
        "GET",
        "/hello.txt",
        &[
            ("If-None-Match", "\"nope\""),
            ("If-Modified-Since", &last_modified),
        ],
    )
    .await;
    assert_eq!(r.status, 200);

    // If-Range: matching validator honours the range, a stale one does not.
    let r = request(
        f.addr(),
        "GET",
        "/hello.txt",
        &[("Range", "bytes=0-4"), ("If-Range", &etag)],
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.text(), "hello");
    let r = request(
        f.addr(),
        "GET",
        "/hello.txt",
        &[("Range", "bytes=0-4"), ("If-Range", "\"stale\"")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello world");

    // Changing the file changes the ETag.
    f.write("hello.txt", "hello world, again");
    let r = request(f.addr(), "GET", "/hello.txt", &[("If-None-Match", &etag)]).await;
    assert_eq!(r.status, 200);
    assert_ne!(r.header("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn other_methods_get_405() {
    let f = Fixture::new().await;
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let r = request(f.addr(), method, "/hello.txt", &[("Content-Length", "0")]).await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method}");
    }
}

#[tokio::test]
async fn headers_sidecar() {
    let f = Fixture::wpt().await;
    f.write("sw.js", "self.onfetch = null;");
    f.write(
        "sw.js.headers",
        "Service-Worker-Allowed: /\nX-Multi: one\r\nX-Multi: two\n\nContent-Type: application/x-custom\nnot a header line\n",
    );
    let r = get(f.addr(), "/sw.js").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "self.onfetch = null;");
    assert_eq!(r.header("service-worker-allowed"), Some("/"));
    assert_eq!(r.header_all("x-multi"), ["one", "two"]);
    assert_eq!(r.header_all("content-type"), ["application/x-custom"]);

    // The sidecar itself is an ordinary file.
    let r = get(f.addr(), "/sw.js.headers").await;
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("Service-Worker-Allowed: /"));

    // Directory index sidecars apply too.
    f.write("app/index.html", "app");
    f.write("app/index.html.headers", "X-Index: yes\n");
    assert_eq!(get(f.addr(), "/app/").await.header("x-index"), Some("yes"));

    // A sidecar cannot break framing.
    f.write("framed.txt", "12345");
    f.write(
        "framed.txt.headers",
        "Content-Length: 1\nTransfer-Encoding: chunked\n",
    );
    let r = get(f.addr(), "/framed.txt").await;
    assert_eq!(r.header("content-length"), Some("5"));
    assert_eq!(r.text(), "12345");
}

#[tokio::test]
async fn pipe_header_and_status() {
    let f = Fixture::wpt().await;
    let r = get(f.addr(), "/hello.txt?pipe=header(X-Test,hello)|status(404)").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-test"), Some("hello"));
    assert_eq!(r.text(), "hello world");

    // Replace vs. append.
    let r = get(
        f.addr(),
        "/hello.txt?pipe=header(Content-Type,text/x-one)|header(X-A,1)|header(X-A,2,True)",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header_all("content-type"), ["text/x-one"]);
    assert_eq!(r.header_all("x-a"), ["1", "2"]);

    // Escapes (percent-encoded on the wire): \, \) \|
    let r = get(
        f.addr(),
        "/hello.txt?a=b&pipe=header(X-Esc,a%5C%2Cb%5C)c%5C%7Cd)",
    )
    .await;
    assert_eq!(r.header("x-esc"), Some("a,b)c|d"));

    // Pipes override sidecar headers.
    f.write("hello.txt.headers", "X-From: sidecar\n");
    let r = get(f.addr(), "/hello.txt?pipe=header(X-From,pipe)").await;
    assert_eq!(r.header_all("x-from"), ["pipe"]);

    // Unknown pipes are ignored; malformed pipe strings are ignored entirely.
    let r = get(f.addr(), "/hello.txt?pipe=trickle(d1)|header(X-Ok,1)").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ok"), Some("1"));
    let r = get(f.addr(), "/hello.txt?pipe=status(404").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello world");

    // status() works on HEAD and keeps the body length honest.
    let r = request(f.addr(), "HEAD", "/hello.txt?pipe=status(201)", &[]).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("content-length"), Some("11"));
}

#[tokio::test]
async fn files_are_served_as_they_are_without_wpt_conventions() {
    let f = Fixture::new().await;
    f.write("sw.js", "self.onfetch = null;");
    f.write(
        "sw.js.headers",
        "Service-Worker-Allowed: /\nX-Sidecar: yes\n",
    );
    let r = get(f.addr(), "/sw.js").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("service-worker-allowed"), None);
    assert_eq!(r.header("x-sidecar"), None);
    let r = get(f.addr(), "/hello.txt?pipe=header(X-Test,hello)|status(404)").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-test"), None);
    assert_eq!(r.text(), "hello world");
}

#[tokio::test]
async fn origin_url_and_shutdown() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.txt"), "a").unwrap();

    let server = StaticOrigin::bind(tmp.path(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    assert_eq!(
        server.origin().as_str(),
        format!("http://127.0.0.1:{}/", addr.port())
    );
    assert_eq!(server.root(), std::fs::canonicalize(tmp.path()).unwrap());

    // An idle keep-alive connection must not hold up shutdown.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(std::str::from_utf8(&buf[..n])
        .unwrap()
        .starts_with("HTTP/1.1 200"));

    tokio::time::timeout(Duration::from_secs(3), server.shutdown())
        .await
        .expect("graceful shutdown finished promptly");
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");

    let named = StaticOrigin::builder(tmp.path())
        .host_name("localhost")
        .start()
        .await
        .unwrap();
    let port = named.local_addr().port();
    assert_eq!(named.origin().as_str(), format!("http://localhost:{port}/"));
    let r = get(named.local_addr(), "/a.txt").await;
    assert_eq!(r.text(), "a");
    named.shutdown().await;

    let v6 = StaticOrigin::builder(tmp.path())
        .host_name("::1")
        .start()
        .await
        .unwrap();
    assert_eq!(v6.origin().host_str(), Some("[::1]"));
    drop(v6);
}

#[tokio::test]
async fn start_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    let err = StaticOrigin::bind(&missing, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, ServerError::Root { .. }), "{err}");

    let file = tmp.path().join("file.txt");
    std::fs::write(&file, "x").unwrap();
    let err = StaticOrigin::bind(&file, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, ServerError::RootNotDirectory(_)), "{err}");

    for bad in ["bad host", "a/b", "", "host:1"] {
        let err = StaticOrigin::builder(tmp.path())
            .host_name(bad)
            .start()
            .await
            .unwrap_err();
        assert!(
            matches!(err, ServerError::InvalidHostName { .. }),
            "{bad}: {err}"
        );
    }

    let taken = StaticOrigin::bind(tmp.path(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let err = StaticOrigin::bind(tmp.path(), taken.local_addr())
        .await
        .unwrap_err();
    assert!(matches!(err, ServerError::Bind { .. }), "{err}");
    taken.shutdown().await;
}
