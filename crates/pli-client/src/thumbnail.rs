//! A small JPEG of an image, made on the sending device and carried inside the encrypted
//! message, so a recipient sees the picture before (or without) downloading the file; and
//! the same for a profile's avatar, smaller still.
//! Decoding is bounded (file size, pixels, memory): a crafted image costs the sender's own
//! device at most that.

use image::ImageReader;
use pli_proto::attachment::MAX_THUMBNAIL_BYTES;
use std::path::Path;

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;
/// The longest side of an avatar, in pixels.
pub const AVATAR_SIDE: u32 = 128;
/// The largest avatar, in bytes of JPEG: the sealed profile must fit
/// [`pli_proto::limits::MAX_PROFILE_BYTES`] with its name, as base64.
pub const MAX_AVATAR_BYTES: usize = 40 * 1024;
/// Images larger than this are sent without a thumbnail.
const MAX_SOURCE_BYTES: u64 = 32 * 1024 * 1024;
/// Memory the decoder may take.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// A thumbnail of the file at `path` if it is a PNG or JPEG image, else `None` (also when
/// it does not decode, or its thumbnail would not fit in a message).
pub fn of_file(path: &Path, media_type: &str) -> Option<Vec<u8>> {
    if !matches!(media_type, "image/png" | "image/jpeg") {
        return None;
    }
    shrink(path, THUMBNAIL_SIDE, MAX_THUMBNAIL_BYTES)
}

/// An avatar of the PNG or JPEG image at `path` (at most [`AVATAR_SIDE`] pixels a side),
/// or `None` if it is not one.
pub fn avatar_of_file(path: &Path) -> Option<Vec<u8>> {
    shrink(path, AVATAR_SIDE, MAX_AVATAR_BYTES)
}

/// A JPEG of the image at `path`, at most `side` pixels a side and `max_bytes` long.
fn shrink(path: &Path, side: u32, max_bytes: usize) -> Option<Vec<u8>> {
    if std::fs::metadata(path).ok()?.len() > MAX_SOURCE_BYTES {
        return None;
    }
    let mut reader = ImageReader::open(path).ok()?.with_guessed_format().ok()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    reader.limits(limits);
    let picture = reader.decode().ok()?;
    let small = picture.thumbnail(side, side).into_rgb8();
    for quality in [75, 50, 30] {
        let mut jpeg = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality);
        small.write_with_encoder(encoder).ok()?;
        if jpeg.len() <= max_bytes {
            return Some(jpeg);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_png_becomes_a_small_jpeg_and_other_files_none() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("big.png");
        let picture = image::RgbImage::from_fn(1200, 800, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        picture.save(&path).expect("png");
        let thumb = of_file(&path, "image/png").expect("a thumbnail");
        assert!(thumb.len() <= MAX_THUMBNAIL_BYTES);
        let decoded = image::load_from_memory(&thumb).expect("a JPEG");
        assert_eq!((decoded.width(), decoded.height()), (320, 213));
        assert_eq!(of_file(&path, "application/pdf"), None);
        let avatar =
            image::load_from_memory(&avatar_of_file(&path).expect("an avatar")).expect("a JPEG");
        assert_eq!((avatar.width(), avatar.height()), (128, 85));
        std::fs::write(dir.path().join("bad.png"), b"not a picture").expect("write");
        assert_eq!(of_file(&dir.path().join("bad.png"), "image/png"), None);
    }
}
