//! The HTML the app renders (maud: escaped by default, checked at compile time). One file
//! per kind of screen part; handlers in `routes` put them together.

pub mod attachment;
pub mod chat;
pub mod chat_settings;
pub mod devices;
pub mod layout;
pub mod message_actions;
pub mod profile;
pub mod qr;
pub mod report;
