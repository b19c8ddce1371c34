//! A small JPEG of an image, made on the sending device and carried inside the encrypted
//! message, so a recipient sees the picture before (or without) downloading the file.
//! Decoding is bounded (file size, pixels, memory): a crafted image costs the sender's own
//! device at most that.

use image::ImageReader;
use pli_proto::attachment::MAX_THUMBNAIL_BYTES;
use std::path::Path;

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;
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
    let small = picture
        .thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
        .into_rgb8();
    for quality in [75, 50, 30] {
        let mut jpeg = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality);
        small.write_with_encoder(encoder).ok()?;
        if jpeg.len() <= MAX_THUMBNAIL_BYTES {
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
        std::fs::write(dir.path().join("bad.png"), b"not a picture").expect("write");
        assert_eq!(of_file(&dir.path().join("bad.png"), "image/png"), None);
    }
}
