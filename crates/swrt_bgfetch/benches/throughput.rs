//! Loopback throughput benchmark: swrt-bgfetch against curl.
//!
//! (a) one large body (1 GiB; 64 MiB with `--quick`),
//! (b) 10,000 bodies of 16 KiB (1,000 with `--quick`), with the same
//!     parallelism N for both tools (`curl --parallel --parallel-max N`).
//!
//! Run: `cargo bench -p swrt_bgfetch --bench throughput -- [--quick] [--n N] [--sweep] [--runs R]`
//! (R runs, alternating which tool goes first; the table shows medians)
//!
//! Each tool runs as a child process; peak RSS is the child's `ru_maxrss`
//! from wait4(2). swrt's numbers include what curl does not do: fsync of
//! every body and a SQLite transaction per state change (durability).

use axum::body::Body;
use axum::extract::Query;
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const MIB: u64 = 1 << 20;

struct Run {
    secs: f64,
    /// User + system CPU time of the child.
    cpu: f64,
    rss_kib: i64,
    stdout: String,
    ok: bool,
}

// The child is reaped with wait4(2) (to get its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run_measured(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain syscall on our own child; rusage is a POD out-parameter.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(rc, pid, "wait4 failed");
    let stdout = reader.join().unwrap();
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Run {
        secs,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        rss_kib: ru.ru_maxrss,
        stdout,
        ok: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    }
}

fn start_server(rt: &tokio::runtime::Runtime) -> u16 {
    let chunk = Bytes::from(
        (0..MIB as usize)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    let small = Bytes::from(
        (0..16384usize)
            .map(|i| (i % 239) as u8)
            .collect::<Vec<u8>>(),
    );
    let big = {
        let chunk = chunk.clone();
        move |Query(q): Query<HashMap<String, String>>| {
            let chunk = chunk.clone();
            async move {
                let mib: u64 = q.get("mib").and_then(|v| v.parse().ok()).unwrap_or(1);
                let stream = futures::stream::iter(
                    (0..mib).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
                );
                Response::builder()
                    .header("content-length", mib * MIB)
                    .header("etag", "\"big\"")
                    .body(Body::from_stream(stream))
                    .unwrap()
            }
        }
    };
    let small_h = move || {
        let small = small.clone();
        async move {
            Response::builder()
                .header("etag", "\"s\"")
                .body(Body::from(small))
                .unwrap()
        }
    };
    let app = Router::new()
        .route("/big", axum::routing::get(big))
        .route("/small", axum::routing::get(small_h));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

fn swrt(data: &Path, n: usize) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_swrt-bgfetch"));
    c.arg("--data-dir")
        .arg(data)
        .arg("--quiet")
        .arg("--connections")
        .arg(n.to_string())
        .arg("--per-host")
        .arg(n.to_string())
        .arg("--per-fetch")
        .arg(n.to_string());
    c
}

fn downloaded(stdout: &str) -> u64 {
    stdout
        .lines()
        .filter(|l| l.starts_with("event"))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("downloaded="))
        })
        .filter_map(|v| v.parse::<u64>().ok())
        .sum()
}

fn dir_bytes(d: &Path) -> u64 {
    std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let sweep = args.iter().any(|a| a == "--sweep");
    let n: usize = args
        .iter()
        .position(|a| a == "--n")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let (big_mib, small_count) = if quick {
        (64u64, 1000usize)
    } else {
        (1024, 10_000)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let port = start_server(&rt);
    let base = format!("http://127.0.0.1:{port}");
    let work = tempfile::Builder::new()
        .prefix("swrt-bench")
        .tempdir_in(std::env::temp_dir())
        .unwrap();
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let ns: Vec<usize> = if sweep {
        vec![4, 8, 16, 32, 64]
    } else {
        vec![n]
    };
    let urls: Vec<String> = (0..small_count)
        .map(|i| format!("{base}/small?i={i}"))
        .collect();
    let list = work.path().join("urls.txt");
    std::fs::write(&list, urls.join("\n")).unwrap();

    let big_url = format!("{base}/big?mib={big_mib}");
    let bytes = big_mib * MIB;
    let a_swrt = || {
        let data = work.path().join("a-swrt");
        let r = run_measured(
            swrt(&data, n)
                .arg("fetch")
                .arg("--id")
                .arg("big")
                .arg(&big_url),
        );
        assert!(
            r.ok && downloaded(&r.stdout) == bytes,
            "swrt (a) failed: {}",
            r.stdout
        );
        std::fs::remove_dir_all(&data).ok();
        Row::new(
            "(a) 1 body",
            format!("{big_mib} MiB"),
            "swrt-bgfetch",
            &r,
            bytes as f64 / MIB as f64,
            "MiB/s",
        )
    };
    let a_curl = || {
        let out = work.path().join("a-curl.bin");
        let r = run_measured(
            Command::new("curl")
                .arg("-sS")
                .arg("-o")
                .arg(&out)
                .arg(&big_url),
        );
        assert!(
            r.ok && std::fs::metadata(&out).unwrap().len() == bytes,
            "curl (a) failed"
        );
        std::fs::remove_file(&out).ok();
        Row::new(
            "(a) 1 body",
            format!("{big_mib} MiB"),
            "curl",
            &r,
            bytes as f64 / MIB as f64,
            "MiB/s",
        )
    };
    let b_swrt = |n: usize| {
        let data = work.path().join(format!("b-swrt-{n}"));
        let r = run_measured(
            swrt(&data, n)
                .arg("fetch")
                .arg("--id")
                .arg("small")
                .arg("--url-file")
                .arg(&list),
        );
        assert!(
            r.ok && downloaded(&r.stdout) == small_count as u64 * 16384,
            "swrt (b) failed: {}",
            r.stdout
        );
        std::fs::remove_dir_all(&data).ok();
        Row::new(
            "(b) 16 KiB bodies",
            format!("{small_count} x N={n}"),
            "swrt-bgfetch",
            &r,
            small_count as f64,
            "bodies/s",
        )
    };
    // curl's output files are kept until the end (the work dir goes then):
    // on ext4 without a journal, creating files soon after many were deleted
    // in the same block group is slow (`recently_deleted()` skips their
    // inode numbers), and deleting 10,000 files between runs would charge
    // that to the next tool that creates files: curl itself.
    let curl_runs = std::cell::Cell::new(0);
    let b_curl = |n: usize| {
        curl_runs.set(curl_runs.get() + 1);
        let outdir = work.path().join(format!("b-curl-{n}-{}", curl_runs.get()));
        std::fs::create_dir_all(&outdir).unwrap();
        let cfg = work.path().join("curl.cfg");
        let mut text = String::new();
        for (i, u) in urls.iter().enumerate() {
            text.push_str(&format!(
                "url = \"{u}\"\noutput = \"{}\"\n",
                outdir.join(i.to_string()).display()
            ));
        }
        std::fs::write(&cfg, text).unwrap();
        let r = run_measured(
            Command::new("curl")
                .arg("-sS")
                .arg("--parallel")
                .arg("--parallel-max")
                .arg(n.to_string())
                .arg("-K")
                .arg(&cfg),
        );
        assert!(
            r.ok && dir_bytes(&outdir) == small_count as u64 * 16384,
            "curl (b) failed"
        );
        Row::new(
            "(b) 16 KiB bodies",
            format!("{small_count} x N={n}"),
            "curl",
            &r,
            small_count as f64,
            "bodies/s",
        )
    };

    // Runs alternate which tool goes first in each case: the first to touch
    // fresh page-cache memory after the other tool freed its files pays for
    // it (on this VM, noticeably), so a fixed order would favour one tool.
    let mut rows: Vec<Row> = Vec::new();
    for run in 0..runs {
        let swrt_first = run % 2 == 0;
        let mut pair = |s: &dyn Fn() -> Row, c: &dyn Fn() -> Row| {
            let (x, y) = if swrt_first { (s(), c()) } else { (c(), s()) };
            for r in [x, y] {
                eprintln!(
                    "run {run}: {} {} {}: {:.2} s (cpu {:.2} s), {:.1} {}, {:.1} MiB",
                    r.case,
                    r.size,
                    r.tool,
                    r.secs,
                    r.cpu,
                    r.amount / r.secs,
                    r.unit,
                    r.rss_kib as f64 / 1024.0
                );
                rows.push(r);
            }
        };
        pair(&a_swrt, &a_curl);
        for &n in &ns {
            pair(&|| b_swrt(n), &|| b_curl(n));
        }
    }

    println!("\n{runs} run(s); median per row (wall time and peak RSS medians taken separately)");
    println!("\n| case | size | tool | wall time (s) | throughput | peak RSS (MiB) |");
    println!("|---|---|---|---:|---:|---:|");
    let mut keys: Vec<(String, String, String)> = Vec::new();
    for r in &rows {
        let k = (r.case.to_string(), r.size.clone(), r.tool.to_string());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for (case, size, tool) in keys {
        let sel: Vec<&Row> = rows
            .iter()
            .filter(|r| r.case == case && r.size == size && r.tool == tool)
            .collect();
        let secs = median(sel.iter().map(|r| r.secs).collect());
        let rss = median(sel.iter().map(|r| r.rss_kib as f64).collect());
        let (amount, unit) = (sel[0].amount, sel[0].unit);
        println!(
            "| {case} | {size} | {tool} | {secs:.2} | {:.1} {unit} | {:.1} |",
            amount / secs,
            rss / 1024.0
        );
    }
}

struct Row {
    case: &'static str,
    size: String,
    tool: &'static str,
    secs: f64,
    cpu: f64,
    /// MiB or bodies moved in the run (throughput = amount / secs).
    amount: f64,
    unit: &'static str,
    rss_kib: i64,
}

impl Row {
    fn new(
        case: &'static str,
        size: String,
        tool: &'static str,
        r: &Run,
        amount: f64,
        unit: &'static str,
    ) -> Row {
        Row {
            case,
            size,
            tool,
            secs: r.secs,
            cpu: r.cpu,
            amount,
            unit,
            rss_kib: r.rss_kib,
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
