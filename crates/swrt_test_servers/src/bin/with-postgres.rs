//! `with-postgres COMMAND [ARGS...]`: runs COMMAND with a PostgreSQL
//! cluster of its own, named by `SWRT_TEST_POSTGRES` (a key=value
//! connection string with the right to create databases), and stops the
//! cluster after. The test command uses it to run the store's tests against
//! PostgreSQL.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: with-postgres COMMAND [ARGS...]");
        return ExitCode::from(2);
    };
    let postgres = swrt_test_servers::Postgres::start();
    eprintln!("with-postgres: SWRT_TEST_POSTGRES={}", postgres.url);
    let status = Command::new(&program)
        .args(args)
        .env("SWRT_TEST_POSTGRES", &postgres.url)
        .status();
    drop(postgres);
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(s.code().unwrap_or(1).clamp(1, 255) as u8),
        Err(e) => {
            eprintln!(
                "with-postgres: cannot run {}: {e}",
                program.to_string_lossy()
            );
            ExitCode::from(2)
        }
    }
}
