//! The `swrt` command: run service workers (and, later, their pages) from the
//! command line.

mod cli;
mod demo;
mod output;
mod progress;
mod run;
mod serve;
mod signal;
mod wpt;

use std::process::ExitCode;

use clap::Parser;

/// The service-worker startup snapshot build.rs made (empty when the
/// engine boots from source).
static SERVICE_WORKER_SNAPSHOT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/service_worker.snapshot"));

fn main() -> ExitCode {
    if !SERVICE_WORKER_SNAPSHOT.is_empty() {
        swrt_runtime::snapshot::use_service_worker_snapshot(SERVICE_WORKER_SNAPSHOT);
    }
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout with success; usage errors exit 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("swrt: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            cli::Command::Run(args) => run::run(args).await,
            cli::Command::Wpt(args) => wpt::wpt(args).await,
            cli::Command::Demo(args) => demo::demo(args).await,
            cli::Command::Serve(args) => serve::serve(args).await,
        }
    });
    // Worker threads may still be winding down; don't wait for idle tasks.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    ExitCode::from(code)
}
