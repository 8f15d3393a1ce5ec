//! Minimal standard base64 (RFC 4648 §4, with `=` padding), strict on decoding.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `data` with padding.
pub(crate) fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    let sextet = |v: u32, shift: u32| char::from(ALPHABET[((v >> shift) & 0x3f) as usize]);
    for chunk in data.chunks(3) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let v = (b0 << 16) | (b1 << 8) | b2;
        out.push(sextet(v, 18));
        out.push(sextet(v, 12));
        out.push(if chunk.len() > 1 { sextet(v, 6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(v, 0) } else { '=' });
    }
    out
}

fn value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes canonical padded base64: length a multiple of 4, padding only at the end, unused
/// bits zero. Anything else is `None`, so each byte string has exactly one accepted encoding.
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let groups = text.len() / 4;
    let mut out = Vec::with_capacity(groups * 3);
    for (i, group) in text.chunks_exact(4).enumerate() {
        let last = i + 1 == groups;
        let (a, b, c, d) = match group {
            [a, b, c, d] => (*a, *b, *c, *d),
            _ => return None,
        };
        let v0 = value(a)?;
        let v1 = value(b)?;
        match (c, d) {
            (b'=', b'=') if last => {
                if v1 & 0x0f != 0 {
                    return None;
                }
                out.push(((v0 << 2) | (v1 >> 4)) as u8);
            }
            (_, b'=') if last => {
                let v2 = value(c)?;
                if v2 & 0x03 != 0 {
                    return None;
                }
                let v = (v0 << 18) | (v1 << 12) | (v2 << 6);
                out.push((v >> 16) as u8);
                out.push((v >> 8) as u8);
            }
            _ => {
                let v = (v0 << 18) | (v1 << 12) | (value(c)? << 6) | value(d)?;
                out.push((v >> 16) as u8);
                out.push((v >> 8) as u8);
                out.push(v as u8);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), enc);
            assert_eq!(decode(enc.as_bytes()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn round_trip_all_lengths() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..data.len() {
            assert_eq!(decode(encode(&data[..n]).as_bytes()).unwrap(), &data[..n]);
        }
    }

    #[test]
    fn rejects_non_canonical() {
        assert!(decode(b"Zh==").is_none()); // unused bits set
        assert!(decode(b"Zm9=").is_none()); // unused bits set
        assert!(decode(b"Zg==Zm9v").is_none()); // padding in the middle
        assert!(decode(b"Zm9").is_none()); // length
        assert!(decode(b"Zm9v\n").is_none());
        assert!(decode(b"Z=9v").is_none());
        assert!(decode(b"====").is_none());
        assert!(decode(b"Zm-v").is_none());
    }
}
