//! pli-server: the pli service as a library.
pub mod store;
