//! QR codes as inline SVG (drawn here, in Rust: the page needs no script for them, and
//! the style policy allows no inline style: the renderer writes attributes only).

use maud::{Markup, PreEscaped, html};
use qrcode::QrCode;
use qrcode::render::svg;

/// `text` as a QR code, with `label` as its accessible name; empty when `text` is too long
/// for a QR code (the text is always shown beside it).
pub fn code(text: &str, label: &str) -> Markup {
    match QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let image = code
                .render::<svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .dark_color(svg::Color("#000000"))
                .light_color(svg::Color("#ffffff"))
                .build();
            // The renderer's own output: an SVG document; its XML declaration is dropped.
            let svg = image.find("<svg").map_or(image.as_str(), |at| &image[at..]);
            html! { figure class="qr" role="img" aria-label=(label) { (PreEscaped(svg)) } }
        }
        Err(_) => html! {},
    }
}
