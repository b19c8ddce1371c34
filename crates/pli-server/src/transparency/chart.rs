//! Horizontal bar charts as inline SVG: no script, no external resource, colours from the
//! stylesheet (classes, not inline styles, so a strict CSP holds). Each bar carries its
//! value as text, and every chart sits beside a table with the same figures, so the chart
//! is never the only way to read them.

use maud::{Markup, html};
use pli_proto::report::BAND_BELOW;

/// One bar's value as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Exact(u64),
    /// Only the band `0–(BAND_BELOW - 1)` is published: drawn as a dashed bar across the
    /// whole band, so its length claims nothing the band does not.
    Band,
}

impl Value {
    /// The value as the page writes it.
    pub fn text(self) -> String {
        match self {
            Value::Exact(count) => count.to_string(),
            Value::Band => format!("0\u{2013}{}", BAND_BELOW - 1),
        }
    }

    /// The largest count it may stand for.
    fn top(self) -> u64 {
        match self {
            Value::Exact(count) => count,
            Value::Band => BAND_BELOW - 1,
        }
    }
}

/// One labelled bar.
pub struct Bar {
    pub label: String,
    pub value: Value,
}

const WIDTH: u64 = 720;
/// Room right of the longest bar for its value.
const VALUE_ROOM: u64 = 90;
const ROW: u64 = 46;

/// A chart of `bars`, one row each (label above, bar below), all on one scale; `summary`
/// names it for screen readers, which are pointed to the table beside it.
pub fn bars(summary: &str, bars: &[Bar]) -> Markup {
    // A band spans half the chart at most: drawn across the whole width, it would look
    // like the largest figure there is.
    let floor = if bars.iter().any(|b| b.value == Value::Band) {
        2 * (BAND_BELOW - 1)
    } else {
        1
    };
    let scale = bars
        .iter()
        .map(|b| b.value.top())
        .max()
        .unwrap_or(0)
        .max(floor);
    let track = WIDTH - VALUE_ROOM;
    let height = ROW * bars.len() as u64 + 4;
    html! {
        svg class="chart" role="img" viewBox={ "0 0 " (WIDTH) " " (height) }
            aria-label={ (summary) ". The table that follows gives the same figures." } {
            @for (i, bar) in bars.iter().enumerate() {
                @let y = ROW * i as u64;
                @let length = (bar.value.top() * track).div_ceil(scale);
                text class="label" x="0" y=(y + 15) { (bar.label) }
                rect class="track" x="0" y=(y + 22) width=(track) height="16" rx="3" {}
                @match bar.value {
                    Value::Exact(_) => {
                        rect class="bar" x="0" y=(y + 22) width=(length) height="16" rx="3" {}
                    }
                    Value::Band => {
                        rect class="band" x="0" y=(y + 22) width=(length) height="16" rx="3" {}
                    }
                }
                text class="value" x=(length + 8) y=(y + 35) {
                    (bar.value.text())
                    @if bar.value == Value::Band { " (band)" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_share_one_scale_and_carry_their_values() {
        let svg = bars(
            "Requests",
            &[
                Bar {
                    label: "a <b>".into(),
                    value: Value::Exact(20),
                },
                Bar {
                    label: "half".into(),
                    value: Value::Exact(10),
                },
                Bar {
                    label: "small".into(),
                    value: Value::Band,
                },
            ],
        )
        .into_string();
        let track = WIDTH - VALUE_ROOM;
        assert!(svg.contains(&format!("class=\"bar\" x=\"0\" y=\"22\" width=\"{track}\"")));
        assert!(svg.contains(&format!(
            "class=\"bar\" x=\"0\" y=\"68\" width=\"{}\"",
            track / 2
        )));
        assert!(svg.contains("0\u{2013}9 (band)"));
        assert!(svg.contains("a &lt;b&gt;"), "labels are escaped: {svg}");
        assert!(!svg.contains("style="), "no inline style: {svg}");
    }

    #[test]
    fn a_band_alone_spans_half_the_chart() {
        let svg = bars(
            "Banded",
            &[Bar {
                label: "small".into(),
                value: Value::Band,
            }],
        )
        .into_string();
        let half = (WIDTH - VALUE_ROOM).div_ceil(2);
        assert!(
            svg.contains(&format!("class=\"band\" x=\"0\" y=\"22\" width=\"{half}\"")),
            "{svg}"
        );
    }

    #[test]
    fn a_chart_of_zeros_draws_no_bar_length() {
        let svg = bars(
            "None",
            &[Bar {
                label: "zero".into(),
                value: Value::Exact(0),
            }],
        )
        .into_string();
        assert!(svg.contains("class=\"bar\" x=\"0\" y=\"22\" width=\"0\""));
        assert!(svg.contains(">0</text>"));
    }
}
