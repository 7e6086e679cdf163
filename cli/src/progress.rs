//! Progress display for long CLI operations: indicatif bars and spinners
//! on stderr, shown only to a person (stderr is a terminal and the output is
//! a table), never mixed into JSON output or pipes.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::OutputFormat;

/// Spinner frames; the last one marks a finished step.
const TICKS: &str = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✔";

/// Bars and spinners of one command, stacked when several run at once.
pub struct Progress {
    multi: MultiProgress,
}

impl Progress {
    pub fn new(output: OutputFormat) -> Self {
        let visible = output == OutputFormat::Table && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Progress {
            multi: MultiProgress::with_draw_target(target),
        }
    }

    pub fn bar(&self, message: &str, len: usize) -> ProgressBar {
        let style = ProgressStyle::with_template(
            "{spinner:.green} {msg:<48} [{bar:12.cyan}] {pos}/{len} {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .tick_chars(TICKS)
        .progress_chars("=> ");
        self.start(ProgressBar::new(len as u64).with_style(style), message)
    }

    pub fn spinner(&self, message: &str) -> ProgressBar {
        let style = ProgressStyle::with_template("{spinner:.green} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .tick_chars(TICKS);
        self.start(ProgressBar::new_spinner().with_style(style), message)
    }

    fn start(&self, bar: ProgressBar, message: &str) -> ProgressBar {
        let bar = self.multi.add(bar);
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    pub fn clear(&self) {
        let _ = self.multi.clear();
    }
}
