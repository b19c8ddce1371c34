//! Profiles on screen: a sender as a picture, a display name and always the username
//! beside it (a name is whatever its owner typed, so it never stands alone); and the
//! Settings card where the user sets their own.

use maud::{Markup, html};
use pli_client::profile_book::ShownProfile;
use pli_client::timeline::HistoryMessage;
use pli_proto::limits::MAX_DISPLAY_NAME_BYTES;

/// Where a user's picture is served from (this device's copy, never the server's).
pub fn avatar_path(username: &pli_proto::Username) -> String {
    format!("/avatars/{username}")
}

/// A received message's sender: picture, name, username.
pub fn who(m: &HistoryMessage) -> Markup {
    html! {
        @if let Some(p) = &m.sender_profile {
            @if p.avatar {
                img class="avatar" src=(avatar_path(&m.sender)) alt="" width="20" height="20";
            }
            @if !p.name.is_empty() { span class="display-name" { (p.name) } " " }
        }
        span class="username" { "@" (m.sender) }
    }
}

/// The Settings card for this account's own profile.
pub fn card(mine: Option<&ShownProfile>) -> Markup {
    let name = mine.map_or("", |p| p.name.as_str());
    html! {
        section class="card" aria-labelledby="profile-title" {
            h2 id="profile-title" { "Your profile" }
            p { "A name and a picture for the people you talk to. They are encrypted on this device; the key goes only to your conversations, so the server stores a blob it cannot open. Your username is always shown beside your name." }
            @if let Some(p) = mine {
                p class="profile-now" {
                    @if p.avatar.is_some() {
                        img class="avatar large" src=(avatar_path(&p.username)) alt="Your picture" width="64" height="64";
                    }
                    span class="display-name" { (p.name) } " " span class="username" { "@" (p.username) }
                }
            }
            form method="post" action="/settings/profile" enctype="multipart/form-data" {
                label for="profile-name" { "Display name" }
                input id="profile-name" name="name" type="text" value=(name) maxlength=(MAX_DISPLAY_NAME_BYTES) autocomplete="name";
                label for="profile-avatar" { "Picture (PNG or JPEG, optional)" }
                input id="profile-avatar" name="avatar" type="file" accept="image/png,image/jpeg";
                button type="submit" { "Save profile" }
            }
            @if mine.is_some() {
                form method="post" action="/settings/profile/clear" {
                    button type="submit" class="secondary" { "Remove profile" }
                }
            }
        }
    }
}
