//! Byte strings carried in JSON as standard base64 (with padding).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that serialise as a base64 string, e.g. an MLS message or a key package.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Bytes64(pub Vec<u8>);

impl Bytes64 {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, owned.
    pub fn into_inner(self) -> Vec<u8> {
        self.0
    }
}

impl From<Vec<u8>> for Bytes64 {
    fn from(value: Vec<u8>) -> Self {
        Self(value)
    }
}

/// Redacted: these bytes are ciphertexts or keys and must not reach a log by accident.
impl std::fmt::Debug for Bytes64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes64(<{} bytes>)", self.0.len())
    }
}

impl Serialize for Bytes64 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map(Bytes64)
            .map_err(|_| serde::de::Error::custom("invalid base64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let value = Bytes64(vec![0, 1, 2, 250, 255]);
        let json = serde_json::to_string(&value).expect("serialise");
        assert_eq!(json, "\"AAEC+v8=\"");
        let back: Bytes64 = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, value);
    }

    #[test]
    fn rejects_invalid_base64_and_debug_hides_bytes() {
        assert!(serde_json::from_str::<Bytes64>("\"not base64!\"").is_err());
        assert_eq!(format!("{:?}", Bytes64(vec![7; 3])), "Bytes64(<3 bytes>)");
    }
}
