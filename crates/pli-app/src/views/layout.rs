//! The page shell every screen shares: head (one stylesheet, one script, nothing inline),
//! the top bar with the connection's state, the navigation, and the alerts still open.

use crate::status::Status;
use maud::{DOCTYPE, Markup, html};
use pli_client::trust::Alert;

/// The screens of the main navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Chats,
    Search,
    Devices,
    AboutMe,
    Settings,
    Onboarding,
}

impl Screen {
    /// Its name for the stylesheet and the script (`data-screen`).
    pub fn key(self) -> &'static str {
        match self {
            Screen::Chats => "chats",
            Screen::Search => "search",
            Screen::Devices => "devices",
            Screen::AboutMe => "me",
            Screen::Settings => "settings",
            Screen::Onboarding => "onboarding",
        }
    }
}

/// What the shell shows around a screen.
pub struct Frame<'a> {
    pub screen: Screen,
    pub username: Option<&'a str>,
    pub status: Status,
    pub alerts: &'a [Alert],
}

/// A whole page: `title` in the tab, `body` inside the shell.
pub fn page(title: &str, frame: &Frame<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · pli" }
                link rel="stylesheet" href="/assets/app.css";
                script type="module" src="/assets/app.js" {}
            }
            body data-screen=(frame.screen.key()) {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    a class="brand" href="/" { "pli" }
                    @if let Some(name) = frame.username {
                        span class="me" { "@" (name) }
                    }
                    (status(match (frame.status, frame.username) {
                        // Registered a moment ago: the engine has not reached the server yet.
                        (Status::NoAccount, Some(_)) => Status::Offline,
                        (status, _) => status,
                    }))
                    @if frame.screen != Screen::Onboarding {
                        (nav(frame.screen))
                    }
                }
                (alerts(frame.alerts))
                (body)
            }
        }
    }
}

/// The connection's state, kept current by the script.
pub fn status(status: Status) -> Markup {
    let (key, words) = match status {
        Status::Online => ("online", "Connected"),
        Status::Offline => (
            "offline",
            "Offline: messages wait and go out when the server is back",
        ),
        Status::AwaitingApproval => ("awaiting", "Waiting for approval"),
        Status::NoAccount => ("none", "No account yet"),
    };
    html! { span id="status" class="status" data-status=(key) role="status" { (words) } }
}

fn nav(current: Screen) -> Markup {
    let items = [
        (Screen::Chats, "/", "Chats"),
        (Screen::Search, "/search", "Search"),
        (Screen::Devices, "/devices", "Devices"),
        (Screen::AboutMe, "/me", "What the server knows"),
        (Screen::Settings, "/settings", "Settings"),
    ];
    html! {
        nav aria-label="Main" {
            ul {
                @for (screen, href, label) in items {
                    li {
                        a href=(href) aria-current=[(screen == current).then_some("page")] { (label) }
                    }
                }
            }
        }
    }
}

/// The alerts the user has not acknowledged, each with what it means and what to do.
pub fn alerts(alerts: &[Alert]) -> Markup {
    html! {
        section id="alerts" aria-label="Alerts" class="alerts" hidden[alerts.is_empty()] {
            @for alert in alerts {
                div class="alert" role="alert" {
                    p class="what" { strong { "Security alert: " } (alert.text) }
                    p class="means" {
                        "This may mean someone, possibly the server, is trying to read or change "
                        "your messages. Compare safety codes with the people concerned (in "
                        "person or over another channel) before you send anything sensitive."
                    }
                    form method="post" action={ "/alerts/" (alert.id) "/ack" } {
                        button type="submit" { "I understand" }
                    }
                }
            }
        }
    }
}

/// An error shown inside a form, kept beside what the user typed.
pub fn form_error(error: Option<&crate::AppError>) -> Markup {
    html! {
        @if let Some(err) = error {
            p role="alert" class="error" data-code=(err.code()) { (err.to_string()) }
        }
    }
}
