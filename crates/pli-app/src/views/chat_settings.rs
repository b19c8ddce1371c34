//! A conversation's own settings: its disappearing-message timer (for every member) and
//! whether this user sends receipts there.

use maud::{Markup, html};
use pli_client::disappearing::describe;

/// The timers offered, in seconds (0: off): the lengths people pick in other messengers.
pub const TIMERS: [u64; 8] = [
    0,
    30,
    300,
    3_600,
    8 * 3_600,
    86_400,
    7 * 86_400,
    28 * 86_400,
];

/// The timer in words, or "Off".
pub fn timer_words(seconds: Option<u64>) -> String {
    seconds.map_or_else(|| "Off".to_owned(), describe)
}

/// The page: `timer` is the conversation's, `receipts` whether this user sends them here.
pub fn pane(conversation: &str, title: &str, timer: Option<u64>, receipts: bool) -> Markup {
    let current = timer.unwrap_or(0);
    html! {
        section class="pane-body chat-settings" aria-labelledby="settings-title" {
            a class="back" href={ "/c/" (conversation) } { "← " (title) }
            h2 id="settings-title" { "Chat settings" }
            section class="card" aria-labelledby="timer-title" {
                h3 id="timer-title" { "Disappearing messages" }
                p { "For everyone in this chat: each device deletes new messages this long after they are sent, and the server drops any it still holds. Everyone sees who changed it. Someone can still copy a message before it goes." }
                form method="post" action={ "/c/" (conversation) "/disappearing" } {
                    label for="timer" { "Delete messages after" }
                    select id="timer" name="seconds" {
                        @for seconds in TIMERS {
                            option value=(seconds) selected[seconds == current] {
                                (timer_words((seconds > 0).then_some(seconds)))
                            }
                        }
                        @if !TIMERS.contains(&current) {
                            option value=(current) selected { (describe(current)) }
                        }
                    }
                    button type="submit" { "Save" }
                }
            }
            section class="card" aria-labelledby="chat-receipts-title" {
                h3 id="chat-receipts-title" { "Receipts in this chat" }
                p { "Whether you tell the others here when you got and read their messages. This overrides your choice in Settings for this chat only." }
                form method="post" action={ "/c/" (conversation) "/receipts" } {
                    label class="check" {
                        input type="checkbox" name="receipts" value="on" checked[receipts];
                        " Send delivery and read receipts here"
                    }
                    button type="submit" { "Save" }
                }
            }
        }
    }
}
