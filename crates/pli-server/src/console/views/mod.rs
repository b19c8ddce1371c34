//! The console's HTML, written with maud (escaped by construction): the page shell, the
//! sign-in and enrolment pages, the request form with its rules, the request list and
//! review, the diff between versions, QR codes.

pub mod diff;
pub mod layout;
pub mod qr;
pub mod request_form;
pub mod requests;
pub mod signin;
