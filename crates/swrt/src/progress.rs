//! The terminal UI for background fetches: one live progress bar per fetch
//! (title, bytes, rate, ETA) when stderr is a terminal, plain progress lines
//! otherwise (CI logs, pipes). It is a [`BackgroundFetchUi`], the same trait
//! an embedder implements for its own UI.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use swrt_runtime::{BackgroundFetchUi, FetchControl, FetchView};

/// Plain mode prints a fetch's progress at most this often.
const PLAIN_EVERY: Duration = Duration::from_secs(1);
const MIB: f64 = 1024.0 * 1024.0;

/// Writes lines to stdout without tearing the progress bars.
#[derive(Clone)]
pub struct Printer {
    multi: Option<MultiProgress>,
}

impl Printer {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn detect() -> Self {
        let multi = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10)));
        Printer { multi }
    }

    /// One line on stdout.
    pub fn line(&self, text: &str) {
        let print = || {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        };
        match &self.multi {
            Some(multi) => multi.suspend(print),
            None => print(),
        }
    }

    /// One line on stderr.
    pub fn status(&self, text: &str) {
        match &self.multi {
            Some(multi) => multi.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }
}

struct Tracked {
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
    /// For the plain-mode rate: where this process started counting.
    since: (Instant, u64),
    view: FetchView,
}

/// Shows every background fetch of the host on the terminal.
pub struct TerminalUi {
    printer: Printer,
    fetches: Mutex<HashMap<String, Tracked>>,
    order: Mutex<Vec<String>>,
}

impl TerminalUi {
    /// A UI that draws through `printer`.
    pub fn new(printer: Printer) -> Arc<Self> {
        Arc::new(TerminalUi {
            printer,
            fetches: Mutex::new(HashMap::new()),
            order: Mutex::new(Vec::new()),
        })
    }

    /// The latest view of every fetch shown, in the order they appeared.
    pub fn views(&self) -> Vec<FetchView> {
        let fetches = self.fetches.lock().unwrap();
        self.order
            .lock()
            .unwrap()
            .iter()
            .filter_map(|id| fetches.get(id).map(|t| t.view.clone()))
            .collect()
    }

    /// Stops drawing the bars that are still live (before exiting).
    pub fn abandon(&self) {
        for tracked in self.fetches.lock().unwrap().values() {
            if let Some(bar) = &tracked.bar {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
        }
    }

    fn style() -> ProgressStyle {
        ProgressStyle::with_template(
            "{msg:<34} [{bar:28.cyan/blue}] {bytes:>9}/{total_bytes:<9} {binary_bytes_per_sec:>11}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
    }

    fn plain_line(t: &Tracked) -> String {
        let v = &t.view;
        let elapsed = t.since.0.elapsed().as_secs_f64();
        let rate = if elapsed > 0.2 {
            v.downloaded.saturating_sub(t.since.1) as f64 / elapsed
        } else {
            0.0
        };
        let mut line = format!("{}: {:.1}", v.title, v.downloaded as f64 / MIB);
        if v.download_total > 0 {
            line.push_str(&format!(
                "/{:.1} MiB ({:.0}%)",
                v.download_total as f64 / MIB,
                v.fraction().unwrap_or(0.0) * 100.0
            ));
        } else {
            line.push_str(" MiB");
        }
        if rate > 0.0 {
            line.push_str(&format!(", {:.1} MiB/s", rate / MIB));
            if v.download_total > v.downloaded {
                let eta = (v.download_total - v.downloaded) as f64 / rate;
                line.push_str(&format!(", ETA {eta:.0}s"));
            }
        }
        line
    }
}

fn short(title: &str) -> String {
    const MAX: usize = 34;
    if title.chars().count() <= MAX {
        title.to_string()
    } else {
        let mut s: String = title.chars().take(MAX - 1).collect();
        s.push('…');
        s
    }
}

impl BackgroundFetchUi for TerminalUi {
    fn fetch_shown(&self, fetch: &FetchView, _control: FetchControl) {
        let bar = self.printer.multi.as_ref().map(|multi| {
            let bar = multi.add(
                ProgressBar::new(fetch.download_total.max(fetch.downloaded))
                    .with_style(Self::style())
                    .with_message(short(&fetch.title))
                    .with_position(fetch.downloaded),
            );
            // Rate and ETA should reflect this run's transfer, not the bytes
            // a previous run stored.
            bar.reset_eta();
            bar
        });
        let tracked = Tracked {
            bar,
            last_line: None,
            since: (Instant::now(), fetch.downloaded),
            view: fetch.clone(),
        };
        if tracked.bar.is_none() {
            self.printer.status(&Self::plain_line(&tracked));
        }
        self.order.lock().unwrap().push(fetch.unique_id.clone());
        self.fetches
            .lock()
            .unwrap()
            .insert(fetch.unique_id.clone(), tracked);
    }

    fn progress(&self, fetch: &FetchView) {
        let mut fetches = self.fetches.lock().unwrap();
        let Some(t) = fetches.get_mut(&fetch.unique_id) else {
            return;
        };
        t.view = fetch.clone();
        match &t.bar {
            Some(bar) => {
                if fetch.downloaded > bar.length().unwrap_or(0) {
                    bar.set_length(fetch.downloaded);
                }
                bar.set_position(fetch.downloaded);
            }
            None => {
                let due = t.last_line.is_none_or(|at| at.elapsed() >= PLAIN_EVERY);
                if due {
                    t.last_line = Some(Instant::now());
                    self.printer.status(&Self::plain_line(t));
                }
            }
        }
    }

    fn ui_updated(&self, fetch: &FetchView) {
        let mut fetches = self.fetches.lock().unwrap();
        if let Some(t) = fetches.get_mut(&fetch.unique_id) {
            t.view = fetch.clone();
            if let Some(bar) = &t.bar {
                bar.set_message(short(&fetch.title));
            }
        }
    }

    fn settled(&self, fetch: &FetchView) {
        let mut fetches = self.fetches.lock().unwrap();
        let Some(t) = fetches.get_mut(&fetch.unique_id) else {
            return;
        };
        t.view = fetch.clone();
        let outcome = if fetch.result == "success" {
            "downloaded".to_string()
        } else {
            format!("failed ({})", fetch.failure_reason)
        };
        match &t.bar {
            Some(bar) => {
                bar.set_position(fetch.downloaded);
                bar.finish_with_message(short(&format!("{} ({outcome})", fetch.title)));
            }
            None => self.printer.status(&format!(
                "{}: {outcome}, {:.1} MiB",
                fetch.title,
                fetch.downloaded as f64 / MIB
            )),
        }
    }

    fn finished(&self, fetch: &FetchView) {
        let mut fetches = self.fetches.lock().unwrap();
        if let Some(t) = fetches.get_mut(&fetch.unique_id) {
            t.view = fetch.clone();
            if let Some(bar) = &t.bar {
                bar.set_message(short(&fetch.title));
                bar.tick();
            }
        }
    }
}
