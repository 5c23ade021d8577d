//! The cty value model and its two wire encodings (msgpack, JSON).
//!
//! Everything above this module works with [`Value`] and [`Type`]; only
//! the tfplugin6 server touches the encoded bytes.

mod number;
mod types;
mod value;

pub mod json;
pub mod msgpack;
pub mod serde;

pub use self::serde::Attr;
pub use number::Number;
pub use types::Type;
pub use value::Value;

/// A value that could not be decoded or encoded. Never carries the value
/// itself, which may be a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(String);

impl CodecError {
    pub fn new(message: impl Into<String>) -> Self {
        CodecError(message.into())
    }
}
