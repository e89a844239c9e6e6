//! Real servers for swrt's tests: a PostgreSQL cluster initialised in a
//! temporary directory (Debian's `postgresql` package), listening on a Unix
//! socket only, and moto's S3 server (PyPI `moto[server]`) on loopback.
//! Both stop when dropped. `scripts/setup.sh` installs them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why a server cannot start here, or `None` when both can.
pub fn servers_missing() -> Option<String> {
    if postgres_bin("initdb").is_none() {
        return Some("PostgreSQL's initdb was not found (apt package postgresql)".into());
    }
    let moto = Command::new("python3")
        .args(["-c", "import moto.server, flask"])
        .stderr(Stdio::null())
        .status();
    if !moto.is_ok_and(|s| s.success()) {
        return Some("moto's S3 server is not installed (pip install 'moto[server]')".into());
    }
    None
}

/// Skips the calling test where the servers are missing, except in CI,
/// where a missing server is a failure.
#[macro_export]
macro_rules! require_servers {
    () => {
        if let Some(missing) = $crate::servers_missing() {
            if std::env::var_os("CI").is_some() {
                panic!("these tests must run in CI, but {missing}");
            }
            eprintln!("SKIPPED: {missing}");
            return;
        }
    };
}

pub fn postgres_bin(name: &str) -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    // Debian keeps the server's programs out of PATH.
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// PostgreSQL refuses to run as root: run its programs as `postgres` then.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A PostgreSQL cluster of its own.
pub struct Postgres {
    dir: tempfile::TempDir,
    pub url: String,
}

impl Postgres {
    pub fn start() -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown the cluster directory");
        }
        let initdb = postgres_bin("initdb").expect("initdb");
        let out = as_server_user(&initdb)
            .arg("-D")
            .arg(&data)
            .args(["-U", "swrt", "-A", "trust", "--no-sync"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pg_ctl = postgres_bin("pg_ctl").expect("pg_ctl");
        let options = format!(
            "-c listen_addresses='' -k {} -p 5432 -c fsync=off -c max_connections=200",
            dir.path().display()
        );
        let out = as_server_user(&pg_ctl)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.path().join("log"))
            .args(["-w", "-o", &options, "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {} {}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(dir.path().join("log")).unwrap_or_default()
        );
        let url = format!(
            "host={} port=5432 user=swrt dbname=postgres",
            dir.path().display()
        );
        Postgres { dir, url }
    }
}

impl Postgres {
    /// Creates database `name` and returns its URL, in the
    /// `postgresql://` form `swrt serve --store` takes.
    pub fn create_database(&self, name: &str) -> String {
        let createdb = postgres_bin("createdb").expect("createdb");
        let out = Command::new(createdb)
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", "5432", "-U", "swrt", name])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "createdb {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!(
            "postgresql://swrt@localhost:5432/{name}?host={}",
            self.dir.path().display()
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(pg_ctl) = postgres_bin("pg_ctl") {
            let _ = as_server_user(&pg_ctl)
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A loopback port that nothing listens on and that no other server of this
/// process was given. The port is free when the system hands it out, but it
/// is released for the server to bind: without the record, two servers
/// starting at once can be handed the same port, one of them fails to bind,
/// and its test talks to the other's server until that one stops.
fn unused_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// moto's S3 server on a loopback port, with one bucket.
pub struct S3 {
    child: Child,
    pub endpoint: String,
    pub bucket: String,
}

impl S3 {
    pub async fn start() -> S3 {
        let port = unused_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m moto.server");
        let endpoint = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let bucket = "swrt-bodies".to_string();
        loop {
            // moto accepts unsigned requests: create the bucket once it answers.
            match client.put(format!("{endpoint}/{bucket}")).send().await {
                Ok(r) if r.status().is_success() => break,
                _ if Instant::now() > deadline => panic!("moto's S3 server did not start"),
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        S3 {
            child,
            endpoint,
            bucket,
        }
    }
}

impl S3 {
    /// The keys stored under `prefix` in the bucket.
    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        let listing = reqwest::Client::new()
            .get(format!(
                "{}/{}?list-type=2&prefix={prefix}",
                self.endpoint, self.bucket
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        listing
            .split("<Key>")
            .skip(1)
            .filter_map(|k| k.split("</Key>").next())
            .map(str::to_string)
            .collect()
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
