//! A shared file in a message (an image inline, a voice note as a player, anything else as
//! a download), and the form that shares one.

use maud::{Markup, html};
use pli_client::attachments::Attachment;

/// Whether the page shows this media type inline (as an image or a player); the file
/// route serves it under its own type only then.
pub fn shown_inline(media_type: &str) -> bool {
    matches!(
        media_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    ) || media_type.starts_with("audio/")
}

pub use pli_client::attachments::size_words as size;

/// The file of message `local_id` in `conversation` (hex).
pub fn shown(conversation: &str, local_id: i64, file: &Attachment) -> Markup {
    let href = format!("/c/{conversation}/files/{local_id}");
    let label = format!("{} ({})", file.name, size(file.size));
    html! {
        div class="attachment" data-attachment=(file.short_id()) {
            @if file.media_type.starts_with("image/") && file.thumbnail.is_some() {
                a href=(href) target="_blank" rel="noopener" title={ "Open " (label) } {
                    img class="thumbnail" src={ (href) "/thumbnail" } alt=(file.name);
                }
            } @else if file.media_type.starts_with("audio/") {
                audio controls preload="none" src=(href) aria-label={ "Voice note " (file.name) } {}
            }
            @if shown_inline(&file.media_type) {
                a class="file" href=(href) target="_blank" rel="noopener" { "📎 " (label) }
            } @else {
                a class="file" href=(href) download=(file.name) { "📎 " (label) }
            }
        }
    }
}

/// The Attach form under the composer, folded away until asked for: a file (a picture, a
/// voice note, anything up to 100 MiB) and its caption; closed with the composer.
pub fn attach_form(conversation: &str, closed: bool) -> Markup {
    html! {
        details class="attach" {
            summary { "📎 Attach a file" }
            form method="post" enctype="multipart/form-data"
                action={ "/c/" (conversation) "/attach" } {
                label for="attach-file" class="visually-hidden" { "File to send" }
                input id="attach-file" type="file" name="file" required disabled[closed];
                label for="attach-caption" class="visually-hidden" { "Caption" }
                input id="attach-caption" name="caption" placeholder="Caption (optional)"
                    disabled[closed];
                button type="submit" disabled[closed] { "Send file" }
            }
            p class="hint" { "Encrypted on this device before it leaves; only this conversation's members can open it." }
        }
    }
}
