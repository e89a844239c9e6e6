//! IndexedDB keys: the spec's ordering (number < date < string < binary <
//! array; strings by UTF-16 code unit) and an order-preserving byte encoding,
//! so that comparing encodings byte by byte (BTreeMap order, SQLite BLOB
//! order) is comparing keys as `indexedDB.cmp` does.
//!
//! Realms convert JavaScript values to keys and encode them
//! (`js/01_indexeddb.js` implements the same encoding); the backend only
//! ever compares encoded keys. Encoding:
//!
//! - number: `0x10`, then the IEEE 754 bits (big endian) with the sign bit
//!   flipped for positives and every bit flipped for negatives; -0 is +0.
//! - date: `0x20`, then its time value encoded like a number.
//! - string: `0x30`, then each UTF-16 code unit big endian, byte-stuffed.
//! - binary: `0x40`, then the bytes, byte-stuffed.
//! - array: `0x50`, then each member's encoding, then `0x00`.
//!
//! Byte stuffing writes `0x00` as `0x00 0xFF` and ends with `0x00 0x00`, so
//! a prefix sorts before every longer value that extends it.

use std::cmp::Ordering;

const TAG_NUMBER: u8 = 0x10;
const TAG_DATE: u8 = 0x20;
const TAG_STRING: u8 = 0x30;
const TAG_BINARY: u8 = 0x40;
const TAG_ARRAY: u8 = 0x50;
const END: u8 = 0x00;

/// A valid IndexedDB key. Numbers and dates are never NaN.
#[derive(Debug, Clone)]
pub enum Key {
    /// A number key.
    Number(f64),
    /// A date key: its time value in milliseconds.
    Date(f64),
    /// A string key as UTF-16 code units (lone surrogates included).
    String(Vec<u16>),
    /// A binary key (ArrayBuffer or view bytes).
    Binary(Vec<u8>),
    /// An array key.
    Array(Vec<Key>),
}

/// Bytes that are not the encoding of a key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed encoded key at byte {0}")]
pub struct MalformedKey(pub usize);

impl Key {
    fn type_rank(&self) -> u8 {
        match self {
            Key::Number(_) => 0,
            Key::Date(_) => 1,
            Key::String(_) => 2,
            Key::Binary(_) => 3,
            Key::Array(_) => 4,
        }
    }

    /// A string key from Rust text.
    pub fn string(s: &str) -> Key {
        Key::String(s.encode_utf16().collect())
    }

    /// The order-preserving encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        self.encode_into(&mut out);
        out
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Key::Number(n) => {
                out.push(TAG_NUMBER);
                out.extend_from_slice(&encode_f64(*n));
            }
            Key::Date(n) => {
                out.push(TAG_DATE);
                out.extend_from_slice(&encode_f64(*n));
            }
            Key::String(units) => {
                out.push(TAG_STRING);
                for unit in units {
                    stuff(out, &unit.to_be_bytes());
                }
                out.extend_from_slice(&[END, END]);
            }
            Key::Binary(bytes) => {
                out.push(TAG_BINARY);
                stuff(out, bytes);
                out.extend_from_slice(&[END, END]);
            }
            Key::Array(items) => {
                out.push(TAG_ARRAY);
                for item in items {
                    item.encode_into(out);
                }
                out.push(END);
            }
        }
    }

    /// Decodes a whole encoded key.
    pub fn decode(bytes: &[u8]) -> Result<Key, MalformedKey> {
        let (key, used) = decode_at(bytes, 0)?;
        if used != bytes.len() {
            return Err(MalformedKey(used));
        }
        Ok(key)
    }
}

/// The number an encoded key holds, if it is a number key (key generators
/// look at explicit keys this way).
pub fn encoded_number(bytes: &[u8]) -> Option<f64> {
    if bytes.len() == 9 && bytes[0] == TAG_NUMBER {
        Some(decode_f64(bytes[1..9].try_into().ok()?))
    } else {
        None
    }
}

/// The encoding of the number key `n`.
pub fn encode_number(n: f64) -> Vec<u8> {
    Key::Number(n).encode()
}

fn encode_f64(n: f64) -> [u8; 8] {
    let n = if n == 0.0 { 0.0 } else { n };
    let bits = n.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    ordered.to_be_bytes()
}

fn decode_f64(bytes: [u8; 8]) -> f64 {
    let ordered = u64::from_be_bytes(bytes);
    let bits = if ordered >> 63 == 1 {
        ordered & !(1 << 63)
    } else {
        !ordered
    };
    f64::from_bits(bits)
}

fn stuff(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

/// Reads byte-stuffed bytes starting at `at`; returns them and the offset
/// after the terminator.
fn unstuff(bytes: &[u8], mut at: usize) -> Result<(Vec<u8>, usize), MalformedKey> {
    let mut out = Vec::new();
    loop {
        match bytes.get(at) {
            None => return Err(MalformedKey(at)),
            Some(0) => match bytes.get(at + 1) {
                Some(0) => return Ok((out, at + 2)),
                Some(0xFF) => {
                    out.push(0);
                    at += 2;
                }
                _ => return Err(MalformedKey(at + 1)),
            },
            Some(&b) => {
                out.push(b);
                at += 1;
            }
        }
    }
}

fn decode_at(bytes: &[u8], at: usize) -> Result<(Key, usize), MalformedKey> {
    let tag = *bytes.get(at).ok_or(MalformedKey(at))?;
    let body = at + 1;
    match tag {
        TAG_NUMBER | TAG_DATE => {
            let raw: [u8; 8] = bytes
                .get(body..body + 8)
                .ok_or(MalformedKey(body))?
                .try_into()
                .map_err(|_| MalformedKey(body))?;
            let n = decode_f64(raw);
            if n.is_nan() {
                return Err(MalformedKey(body));
            }
            let key = if tag == TAG_NUMBER {
                Key::Number(n)
            } else {
                Key::Date(n)
            };
            Ok((key, body + 8))
        }
        TAG_STRING => {
            let (raw, next) = unstuff(bytes, body)?;
            if raw.len() % 2 != 0 {
                return Err(MalformedKey(body));
            }
            let units = raw
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            Ok((Key::String(units), next))
        }
        TAG_BINARY => {
            let (raw, next) = unstuff(bytes, body)?;
            Ok((Key::Binary(raw), next))
        }
        TAG_ARRAY => {
            let mut items = Vec::new();
            let mut at = body;
            loop {
                match bytes.get(at) {
                    None => return Err(MalformedKey(at)),
                    Some(&END) => return Ok((Key::Array(items), at + 1)),
                    Some(_) => {
                        let (item, next) = decode_at(bytes, at)?;
                        items.push(item);
                        at = next;
                    }
                }
            }
        }
        _ => Err(MalformedKey(at)),
    }
}

/// The spec's "compare two keys".
impl Ord for Key {
    fn cmp(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Number(a), Key::Number(b)) | (Key::Date(a), Key::Date(b)) => {
                a.partial_cmp(b).unwrap_or(Ordering::Equal)
            }
            (Key::String(a), Key::String(b)) => a.cmp(b),
            (Key::Binary(a), Key::Binary(b)) => a.cmp(b),
            (Key::Array(a), Key::Array(b)) => a.cmp(b),
            _ => self.type_rank().cmp(&other.type_rank()),
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Key {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key_strategy() -> impl Strategy<Value = Key> {
        let leaf = prop_oneof![
            any::<f64>()
                .prop_filter("keys are never NaN", |n| !n.is_nan())
                .prop_map(Key::Number),
            prop_oneof![
                Just(0.0),
                Just(-1.0),
                Just(1e12),
                any::<i32>().prop_map(f64::from)
            ]
            .prop_map(Key::Date),
            proptest::collection::vec(
                prop_oneof![Just(0u16), Just(0xD800), Just(0xFFFF), any::<u16>()],
                0..5
            )
            .prop_map(Key::String),
            proptest::collection::vec(prop_oneof![Just(0u8), Just(0xFF), any::<u8>()], 0..5)
                .prop_map(Key::Binary),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            proptest::collection::vec(inner, 0..4).prop_map(Key::Array)
        })
    }

    proptest! {
        #[test]
        fn encoding_order_is_key_order(a in key_strategy(), b in key_strategy()) {
            prop_assert_eq!(a.encode().cmp(&b.encode()), a.cmp(&b));
        }

        #[test]
        fn encoding_round_trips(a in key_strategy()) {
            let decoded = Key::decode(&a.encode()).unwrap();
            prop_assert_eq!(decoded.encode(), a.encode());
        }
    }

    #[test]
    fn types_order_number_date_string_binary_array() {
        let keys = [
            Key::Number(f64::NEG_INFINITY),
            Key::Number(-1.0),
            Key::Number(0.0),
            Key::Number(f64::INFINITY),
            Key::Date(-5.0),
            Key::Date(0.0),
            Key::string(""),
            Key::string("a"),
            Key::string("a\0"),
            Key::string("b"),
            Key::Binary(vec![]),
            Key::Binary(vec![0]),
            Key::Binary(vec![1]),
            Key::Array(vec![]),
            Key::Array(vec![Key::Number(1.0)]),
            Key::Array(vec![Key::Number(1.0), Key::Number(0.0)]),
            Key::Array(vec![Key::string("")]),
        ];
        for pair in keys.windows(2) {
            assert!(pair[0] < pair[1], "{:?} < {:?}", pair[0], pair[1]);
            assert!(
                pair[0].encode() < pair[1].encode(),
                "{:?} < {:?}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn strings_compare_by_utf16_code_unit_not_code_point() {
        // U+FFFF is one unit 0xFFFF; U+10000 is the pair D800 DC00.
        let bmp = Key::string("\u{FFFF}");
        let astral = Key::string("\u{10000}");
        assert!(astral < bmp);
        assert!(astral.encode() < bmp.encode());
    }

    #[test]
    fn negative_zero_is_zero() {
        assert_eq!(Key::Number(-0.0).encode(), Key::Number(0.0).encode());
        assert_eq!(encoded_number(&encode_number(42.0)), Some(42.0));
        assert_eq!(encoded_number(&Key::Date(42.0).encode()), None);
    }

    #[test]
    fn malformed_bytes_are_refused() {
        assert!(Key::decode(&[]).is_err());
        assert!(Key::decode(&[TAG_STRING, 0x61]).is_err());
        assert!(Key::decode(&[0x99]).is_err());
        assert!(Key::decode(&[TAG_NUMBER, 0, 0]).is_err());
        let mut trailing = Key::Number(1.0).encode();
        trailing.push(1);
        assert!(Key::decode(&trailing).is_err());
    }
}
