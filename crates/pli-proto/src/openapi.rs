//! OpenAPI schemas for the types whose JSON form is not what their Rust shape suggests:
//! validated identifiers travel as constrained strings or integers, bytes as base64, and
//! error codes as a closed list of stable strings. Written by hand so the published
//! description states the same rules the parsers enforce, and an API fuzzer generates
//! inputs that reach the handlers instead of stopping at the first parse.

use crate::b64::Bytes64;
use crate::error::ErrorCode;
use crate::ids::{DeviceId, GroupId, MessageId, Region, Username};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

impl PartialSchema for Username {
    fn schema() -> RefOr<Schema> {
        string()
            .description(Some(
                "3–32 characters: lower-case letters, digits, `_` and `.`; starts with a \
                 letter and does not end with `.`. Requests may add a leading `@` and use \
                 upper case; responses are always in this form.",
            ))
            .min_length(Some(Username::MIN_LEN))
            .max_length(Some(Username::MAX_LEN))
            .pattern(Some("^[a-z][a-z0-9_.]*[a-z0-9_]$"))
            .into()
    }
}
impl ToSchema for Username {}

impl PartialSchema for Region {
    fn schema() -> RefOr<Schema> {
        string()
            .description(Some(
                "A region's name: 1–32 characters of lower-case letters, digits and `-`, \
                 starting with a letter (`GET /v1/policy` lists the server's regions).",
            ))
            .min_length(Some(1))
            .max_length(Some(Region::MAX_LEN))
            .pattern(Some("^[a-z][a-z0-9-]*$"))
            .into()
    }
}
impl ToSchema for Region {}

impl PartialSchema for DeviceId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .description(Some(
                "A device, unique on the server: 1 to 2^53 − 1 (exact in JSON).",
            ))
            .minimum(Some(1))
            .maximum(Some(DeviceId::MAX as f64))
            .into()
    }
}
impl ToSchema for DeviceId {}

impl PartialSchema for MessageId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .description(Some("The server's id of an accepted message, increasing."))
            .minimum(Some(0))
            .into()
    }
}
impl ToSchema for MessageId {}

impl PartialSchema for GroupId {
    fn schema() -> RefOr<Schema> {
        string()
            .description(Some("An MLS group id: 16–32 bytes as lower-case hex."))
            .min_length(Some(GroupId::MIN_LEN * 2))
            .max_length(Some(GroupId::MAX_LEN * 2))
            .pattern(Some("^([0-9a-f]{2})+$"))
            .into()
    }
}
impl ToSchema for GroupId {}

impl PartialSchema for Bytes64 {
    fn schema() -> RefOr<Schema> {
        string()
            .description(Some(
                "Bytes as standard base64 with padding, in its one canonical spelling (the \
                 unused bits of the last character are zero).",
            ))
            .content_encoding("base64")
            // What the decoder takes: groups of four, then two characters and `==` or three
            // and `=`, the last one leaving no bit set past the bytes it ends.
            .pattern(Some(
                "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$",
            ))
            .into()
    }
}
impl ToSchema for Bytes64 {}

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        let codes = ErrorCode::ALL.iter().map(|code| code.as_str());
        string()
            .description(Some(
                "A stable, machine-readable reason. Clients branch on it; its spelling never \
                 changes once released, and clients treat codes they do not know as generic.",
            ))
            .enum_values(Some(codes))
            .into()
    }
}
impl ToSchema for ErrorCode {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The enums' schemas list their wire spellings, not the Rust variant names.
    #[test]
    fn governance_enums_are_described_by_their_wire_names() {
        let RefOr::T(Schema::Object(object)) = crate::governance::Role::schema() else {
            panic!("expected an inline object schema");
        };
        let listed = object.enum_values.expect("enum values");
        assert!(
            listed.contains(&serde_json::json!("trust-safety")),
            "{listed:?}"
        );
    }

    #[test]
    fn every_error_code_is_listed() {
        let RefOr::T(Schema::Object(object)) = ErrorCode::schema() else {
            panic!("expected an inline object schema");
        };
        let listed = object.enum_values.expect("enum values");
        assert_eq!(listed.len(), ErrorCode::ALL.len());
    }
}
