//! The codec every message and every piece of persisted state goes through: serde +
//! postcard.
//!
//! Encoding every message, instead of passing pointers between nodes, keeps nodes from
//! sharing memory (as real machines cannot) and makes the network's byte counters honest.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Whether a value was being encoded or decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    /// Turning a value into bytes.
    Encode,
    /// Turning bytes back into a value.
    Decode,
}

/// A value that did not round-trip through the codec.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CodecError {
    /// Encoding or decoding.
    pub direction: Direction,
    /// The Rust type involved.
    pub type_name: &'static str,
    /// The RPC method, when the value was an RPC's argument or reply.
    pub method: Option<&'static str>,
    /// What postcard said.
    pub detail: String,
}

impl CodecError {
    pub(crate) fn in_method(mut self, method: &'static str) -> CodecError {
        self.method = Some(method);
        self
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.direction {
            Direction::Encode => "encode",
            Direction::Decode => "decode",
        };
        write!(
            f,
            "labrpc: cannot {verb} a value of type {}",
            self.type_name
        )?;
        if let Some(method) = self.method {
            write!(f, " in RPC {method}")?;
        }
        write!(
            f,
            ": {}. RPC arguments, replies and persisted state must round-trip through \
             serde + postcard: derive Serialize and Deserialize, and avoid types postcard \
             cannot describe (e.g. #[serde(flatten)], untagged enums, serialize_any).",
            self.detail
        )
    }
}

impl std::error::Error for CodecError {}

/// Encodes a value.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    encode_into(value, Vec::new())
}

/// Encodes a value at the end of `buffer`. Handing in a buffer with enough capacity (say,
/// the size of the last encoding of a similar value) saves the copies a growing buffer
/// makes, which matters for large values encoded often, such as a Raft log.
pub fn encode_into<T: Serialize + ?Sized>(
    value: &T,
    buffer: Vec<u8>,
) -> Result<Vec<u8>, CodecError> {
    postcard::to_extend(value, buffer).map_err(|e| CodecError {
        direction: Direction::Encode,
        type_name: std::any::type_name::<T>(),
        method: None,
        detail: e.to_string(),
    })
}

/// Decodes a value, requiring every byte to be used (left-over bytes mean the bytes were
/// made from another type).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let error = |detail: String| CodecError {
        direction: Direction::Decode,
        type_name: std::any::type_name::<T>(),
        method: None,
        detail,
    };
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(error(format!(
            "{} bytes left over: the bytes were encoded from a different type",
            rest.len()
        ))),
        Err(e) => Err(error(e.to_string())),
    }
}

/// Decodes a value from the front of `bytes`, returning it and the bytes after it. For
/// reading a sequence of values encoded back to back.
pub fn decode_prefix<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, &[u8]), CodecError> {
    postcard::take_from_bytes(bytes).map_err(|e| CodecError {
        direction: Direction::Decode,
        type_name: std::any::type_name::<T>(),
        method: None,
        detail: e.to_string(),
    })
}

/// [`decode_prefix`] for a value that borrows from `bytes` (a `&[u8]` field with
/// `#[serde(borrow, with = "serde_bytes")]`, say): reads a value back without copying it.
pub fn decode_prefix_borrowed<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
) -> Result<(T, &'a [u8]), CodecError> {
    postcard::take_from_bytes(bytes).map_err(|e| CodecError {
        direction: Direction::Decode,
        type_name: std::any::type_name::<T>(),
        method: None,
        detail: e.to_string(),
    })
}
