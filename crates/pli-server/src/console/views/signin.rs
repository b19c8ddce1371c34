//! The sign-in and enrolment pages.

use super::layout;
use crate::console::views::qr;
use maud::{Markup, html};
use pli_proto::ErrorCode;

fn refusal(error: Option<(ErrorCode, &str)>) -> Markup {
    html! {
        @if let Some((code, message)) = error {
            div class="refusal" role="alert" data-code=(code.as_str()) {
                p { (message) }
                p class="code" { "Error code " code { (code.as_str()) } }
            }
        }
    }
}

pub fn signin(error: Option<(ErrorCode, &str)>) -> Markup {
    layout::bare(
        "Sign in",
        html! {
            p { "Staff sign in with the credential file an operator gave them (" code { "pli admin staff add" } ") and, once enrolled, a code from their authenticator app." }
            (refusal(error))
            form method="post" action="/console/signin" class="stacked" {
                label for="staff_id" { "Staff id (" code { "staff_id" } " in your credential file)" }
                input id="staff_id" name="staff_id" inputmode="numeric" autocomplete="username" required;
                label for="secret" { "Secret (" code { "secret" } " in your credential file)" }
                input id="secret" name="secret" type="password" autocomplete="current-password" required;
                label for="code" { "Six-digit code from your authenticator app" }
                input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" aria-describedby="code-hint";
                p id="code-hint" class="hint" { "Leave it empty the first time: you will enrol an authenticator next." }
                button type="submit" class="primary" { "Sign in" }
            }
        },
    )
}

pub fn enrol(
    secret_base32: &str,
    uri: &str,
    csrf: &str,
    error: Option<(ErrorCode, &str)>,
) -> Markup {
    layout::bare(
        "Enrol your second factor",
        html! {
            p { "The console needs a second factor. Add this account to an authenticator app (any app for TOTP codes), then type the code it shows to finish signing in. Your enrolment is written to the audit log." }
            (refusal(error))
            div class="enrol" {
                (qr::code(uri, "QR code of the authenticator secret"))
                div {
                    p { "Or type this secret into the app:" }
                    p { code id="totp-secret" class="mono secret" { (secret_base32) } }
                    details { summary { "The setup link" } p { code class="mono wrap" { (uri) } } }
                }
            }
            form method="post" action="/console/enrol" class="stacked" {
                input type="hidden" name="csrf" value=(csrf);
                label for="code" { "Six-digit code from the app" }
                input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required;
                button type="submit" class="primary" { "Confirm and sign in" }
            }
        },
    )
}
