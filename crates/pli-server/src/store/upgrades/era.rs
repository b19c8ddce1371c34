//! A schema version's seed and what it makes true, as each backend's era table lists them.

use super::checks::Check;

/// One schema version's seed (the rows written into the tables that version's migration
/// made) and the checks it makes true.
pub struct Era {
    /// The seed's file name under `tests/fixtures/upgrades/<backend>/`.
    pub file: &'static str,
    pub seed: &'static str,
    pub checks: &'static [Check],
}

/// `era!("sqlite", "01_initial.sql", [Accounts, Queue])`: an [`Era`] whose seed file is
/// compiled in, so a seed that is not there fails the build.
macro_rules! era {
    ($backend:literal, $file:literal, [$($check:ident),* $(,)?]) => {
        $crate::store::upgrades::era::Era {
            file: $file,
            seed: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/upgrades/",
                $backend,
                "/",
                $file
            )),
            checks: &[$($crate::store::upgrades::checks::Check::$check),*],
        }
    };
}
pub(crate) use era;
