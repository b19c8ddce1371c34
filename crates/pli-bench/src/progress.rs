//! Progress bars on standard error (hidden when it is not a terminal).

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

pub fn bar(bars: &MultiProgress, length: u64, label: &str) -> ProgressBar {
    let bar = bars.add(ProgressBar::new(length));
    bar.set_style(
        ProgressStyle::with_template("{msg:32} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .expect("a valid progress template")
            .progress_chars("=> "),
    );
    bar.set_message(label.to_owned());
    bar
}
