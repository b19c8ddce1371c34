//! The console's second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30-second steps, what
//! every authenticator app speaks), computed by `totp-rs`. A code is accepted one step
//! early or late (clocks drift, people type slowly), and only for a step later than the
//! newest one the member spent (the store keeps it), so a code seen over a shoulder or in a
//! proxy's log cannot be replayed while it is still valid.

use rand::Rng as _;
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per step (RFC 6238's default).
pub const STEP_SECS: u64 = 30;
/// Steps accepted either side of the current one.
const SKEW: u64 = 1;

/// A fresh secret: 20 random bytes, the length RFC 4226 recommends for SHA-1.
pub fn new_secret() -> Vec<u8> {
    rand::rng().random::<[u8; 20]>().to_vec()
}

/// The secret as authenticator apps take it typed in: base32, no padding.
pub fn base32(secret: &[u8]) -> String {
    Secret::Raw(secret.to_vec()).to_encoded().to_string()
}

/// The `otpauth://` URI an authenticator app takes from a QR code. The label names the
/// service and the staff member's name (staff names are plain tokens: nothing to escape).
pub fn uri(secret: &[u8], issuer: &str, staff_name: &str) -> String {
    let issuer: String = issuer
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "otpauth://totp/{issuer}:{staff_name}?secret={}&issuer={issuer}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        base32(secret)
    )
}

fn totp(secret: &[u8]) -> Option<TOTP> {
    // `new` refuses secrets under 128 bits; every enrolled secret is 160.
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECS, secret.to_vec()).ok()
}

/// The step `code` is valid for at `now_ms` (the current one, or one either side), if any.
/// Compared in constant time, step by step.
pub fn matching_step(secret: &[u8], code: &str, now_ms: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret)?;
    let now = now_ms / 1000 / STEP_SECS;
    (now.saturating_sub(SKEW)..=now + SKEW).find(|step| {
        let expected = totp.generate(step * STEP_SECS);
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), code.as_bytes()).into()
    })
}

/// The code an authenticator app shows at `now_ms` for the base32 secret the enrolment
/// page shows: what a test (or a script that signs in) computes.
pub fn code_now(secret_base32: &str, now_ms: u64) -> Option<String> {
    let secret = Secret::Encoded(secret_base32.trim().to_owned())
        .to_bytes()
        .ok()?;
    Some(code_at(&secret, now_ms / 1000 / STEP_SECS))
}

/// The code for `step` (tests, and nothing else, need to make one).
pub fn code_at(secret: &[u8], step: u64) -> String {
    totp(secret).map_or_else(String::new, |t| t.generate(step * STEP_SECS))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 vectors, last six digits.
    #[test]
    fn codes_match_the_rfc_vectors() {
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(secret, time / STEP_SECS), code);
            assert_eq!(
                matching_step(secret, code, time * 1000),
                Some(time / STEP_SECS)
            );
        }
    }

    #[test]
    fn one_step_either_side_and_no_further() {
        let secret = new_secret();
        let now_ms = 1_800_000_000_000;
        let step = now_ms / 1000 / STEP_SECS;
        for offset in [-1i64, 0, 1] {
            let s = step.wrapping_add_signed(offset);
            assert_eq!(
                matching_step(&secret, &code_at(&secret, s), now_ms),
                Some(s)
            );
        }
        for far in [step - 2, step + 2] {
            assert_eq!(matching_step(&secret, &code_at(&secret, far), now_ms), None);
        }
        assert_eq!(matching_step(&secret, "12345", now_ms), None);
        assert_eq!(matching_step(&secret, "abcdef", now_ms), None);
    }

    #[test]
    fn the_uri_carries_the_base32_secret() {
        let uri = uri(b"12345678901234567890", "pli.local/audit", "ana");
        assert!(uri.starts_with(
            "otpauth://totp/pli.local-audit:ana?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"
        ));
        let code = code_now("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59_000);
        assert_eq!(code.as_deref(), Some("287082"));
    }
}
