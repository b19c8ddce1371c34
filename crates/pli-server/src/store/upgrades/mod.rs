//! Safe upgrades: a database made by every earlier schema version opens in this build with
//! its data intact (RELIABILITY.md, "Upgrades").
//!
//! A fixture of version `v` is what the builds of that era left behind: the first `v`
//! migrations, each followed by its seed, the rows a server of that version wrote into
//! what the migration made (`tests/fixtures/upgrades/<backend>/`, one file per migration).
//! The test opens each fixture the way `pli serve` does, which migrates it to this build's
//! schema, and runs the [`checks`] of every seed in it through the store traits. A new
//! migration needs a seed and its line in the backend's era table; a test fails until it
//! has them. A database from a newer build is refused, naming both versions.
//!
//! - [`era`]: a version's seed and its checks, the line of a backend's era table.
//! - [`checks`]: what each seed's rows must still do, for any backend.
//! - [`moderation`]: the check of the trust & safety seed (kept apart for its size).
//! - [`sqlite`] and [`postgres`]: each backend's era table, fixtures and refusal test.

mod checks;
mod era;
mod moderation;
mod postgres;
mod sqlite;
