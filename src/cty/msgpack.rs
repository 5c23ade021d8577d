//! cty's msgpack wire format, decoded and encoded against a schema type
//! (docs/plugin-protocol/object-wire-format.md; go-cty cty/msgpack).

use std::collections::BTreeMap;

use super::number::WireNumber;
use super::{CodecError, Number, Type, Value};

/// Refinement payloads are small maps; Terraform itself refuses more than this.
const MAX_EXT_PAYLOAD: usize = 1024;
/// msgpack length prefixes are attacker-controlled: never pre-allocate more.
const MAX_PREALLOC: usize = 1024;

pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut reader = Reader { bytes, pos: 0 };
    let value = reader.value(ty, 0)?;
    Ok(value)
}

pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(64);
    write_value(&mut out, value, ty, &mut Vec::new())?;
    Ok(out)
}

// ---------------------------------------------------------------- decoding

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

enum Head {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(usize),
    Bin(usize),
    Array(usize),
    Map(usize),
    Ext(usize),
}

impl<'a> Reader<'a> {
    fn err(&self, what: impl std::fmt::Display) -> CodecError {
        CodecError::new(format!("msgpack at byte {}: {what}", self.pos))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let slice = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(slice)
            }
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut buf = [0u8; N];
        buf.copy_from_slice(self.take(N)?);
        Ok(buf)
    }

    fn len8(&mut self) -> Result<usize, CodecError> {
        Ok(self.u8()? as usize)
    }
    fn len16(&mut self) -> Result<usize, CodecError> {
        Ok(u16::from_be_bytes(self.be()?) as usize)
    }
    fn len32(&mut self) -> Result<usize, CodecError> {
        Ok(u32::from_be_bytes(self.be()?) as usize)
    }

    fn head(&mut self) -> Result<Head, CodecError> {
        let marker = self.u8()?;
        Ok(match marker {
            0x00..=0x7f => Head::UInt(marker as u64),
            0x80..=0x8f => Head::Map((marker & 0x0f) as usize),
            0x90..=0x9f => Head::Array((marker & 0x0f) as usize),
            0xa0..=0xbf => Head::Str((marker & 0x1f) as usize),
            0xc0 => Head::Nil,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => Head::Bin(self.len8()?),
            0xc5 => Head::Bin(self.len16()?),
            0xc6 => Head::Bin(self.len32()?),
            0xc7 => Head::Ext(self.len8()?),
            0xc8 => Head::Ext(self.len16()?),
            0xc9 => Head::Ext(self.len32()?),
            0xca => Head::Float(f32::from_be_bytes(self.be()?) as f64),
            0xcb => Head::Float(f64::from_be_bytes(self.be()?)),
            0xcc => Head::UInt(self.u8()? as u64),
            0xcd => Head::UInt(u16::from_be_bytes(self.be()?) as u64),
            0xce => Head::UInt(u32::from_be_bytes(self.be()?) as u64),
            0xcf => Head::UInt(u64::from_be_bytes(self.be()?)),
            0xd0 => Head::Int(i8::from_be_bytes(self.be()?) as i64),
            0xd1 => Head::Int(i16::from_be_bytes(self.be()?) as i64),
            0xd2 => Head::Int(i32::from_be_bytes(self.be()?) as i64),
            0xd3 => Head::Int(i64::from_be_bytes(self.be()?)),
            0xd4 => Head::Ext(1),
            0xd5 => Head::Ext(2),
            0xd6 => Head::Ext(4),
            0xd7 => Head::Ext(8),
            0xd8 => Head::Ext(16),
            0xd9 => Head::Str(self.len8()?),
            0xda => Head::Str(self.len16()?),
            0xdb => Head::Str(self.len32()?),
            0xdc => Head::Array(self.len16()?),
            0xdd => Head::Array(self.len32()?),
            0xde => Head::Map(self.len16()?),
            0xdf => Head::Map(self.len32()?),
            0xe0..=0xff => Head::Int(marker as i8 as i64),
            0xc1 => return Err(self.err("reserved marker 0xc1")),
        })
    }

    fn text(&mut self, len: usize) -> Result<String, CodecError> {
        let raw = self.take(len)?;
        String::from_utf8(raw.to_vec()).map_err(|_| self.err("string is not UTF-8"))
    }

    /// Unknown values: ext 0 (plain) or ext 12 (refined). The payload is
    /// skipped by its length whatever its size form; refinements only
    /// narrow an unknown and we treat every unknown as fully unknown.
    fn unknown(&mut self, len: usize) -> Result<Value, CodecError> {
        let code = self.u8()? as i8;
        if len > MAX_EXT_PAYLOAD {
            return Err(self.err("extension payload too large"));
        }
        if len > 1 && code != 0 && code != 12 {
            return Err(self.err(format!("unsupported extension type {code}")));
        }
        self.take(len)?;
        Ok(Value::Unknown)
    }

    fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, CodecError> {
        if depth > 64 {
            return Err(self.err("value nested too deeply"));
        }
        let head = self.head()?;
        match head {
            Head::Nil => return Ok(Value::Null),
            Head::Ext(len) => return self.unknown(len),
            _ => {}
        }
        match ty {
            Type::String => match head {
                Head::Str(n) | Head::Bin(n) => Ok(Value::String(self.text(n)?)),
                _ => Err(self.err("string required")),
            },
            Type::Number => match head {
                Head::UInt(u) => Ok(Value::Number(Number::from_u64(u))),
                Head::Int(i) => Ok(Value::Number(Number::from_i64(i))),
                Head::Float(f) => Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| self.err("number is not finite")),
                Head::Str(n) => {
                    let text = self.text(n)?;
                    Number::parse(&text)
                        .map(Value::Number)
                        .ok_or_else(|| self.err(format!("{text:?} is not a number")))
                }
                _ => Err(self.err("number required")),
            },
            Type::Bool => match head {
                Head::Bool(b) => Ok(Value::Bool(b)),
                _ => Err(self.err("bool required")),
            },
            Type::List(elem) | Type::Set(elem) => {
                let Head::Array(n) = head else {
                    return Err(self.err(format!("{} required", ty.friendly_name())));
                };
                let mut items = Vec::with_capacity(n.min(MAX_PREALLOC));
                for _ in 0..n {
                    items.push(self.value(elem, depth + 1)?);
                }
                Ok(if matches!(ty, Type::Set(_)) {
                    dedup_set(items)
                } else {
                    Value::List(items)
                })
            }
            Type::Tuple(elems) => {
                let Head::Array(n) = head else {
                    return Err(self.err("tuple required"));
                };
                if n != elems.len() {
                    return Err(self.err(format!(
                        "tuple of {} elements required, got {n}",
                        elems.len()
                    )));
                }
                let items = elems
                    .iter()
                    .map(|t| self.value(t, depth + 1))
                    .collect::<Result<_, _>>()?;
                Ok(Value::Tuple(items))
            }
            Type::Map(elem) => {
                let Head::Map(n) = head else {
                    return Err(self.err("map required"));
                };
                let mut map = BTreeMap::new();
                for _ in 0..n {
                    let key = self.key()?;
                    map.insert(key, self.value(elem, depth + 1)?);
                }
                Ok(Value::Map(map))
            }
            Type::Object(attrs) => {
                let Head::Map(n) = head else {
                    return Err(self.err("object required"));
                };
                let mut map = BTreeMap::new();
                for _ in 0..n {
                    let key = self.key()?;
                    let Some(attr_ty) = attrs.get(&key) else {
                        return Err(self.err(format!("unsupported attribute {key:?}")));
                    };
                    map.insert(key, self.value(attr_ty, depth + 1)?);
                }
                for name in attrs.keys() {
                    map.entry(name.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(map))
            }
            Type::Dynamic => {
                let Head::Array(2) = head else {
                    return Err(self.err("dynamic value must be a [type, value] pair"));
                };
                let type_json = match self.head()? {
                    Head::Str(n) | Head::Bin(n) => self.take(n)?,
                    _ => return Err(self.err("dynamic value type must be bytes")),
                };
                let concrete = Type::from_json_bytes(type_json)?;
                let inner = self.value(&concrete, depth + 1)?;
                Ok(match inner {
                    Value::Null | Value::Unknown => inner,
                    known => Value::Dynamic(concrete, Box::new(known)),
                })
            }
        }
    }

    fn key(&mut self) -> Result<String, CodecError> {
        match self.head()? {
            Head::Str(n) | Head::Bin(n) => self.text(n),
            _ => Err(self.err("map key must be a string")),
        }
    }
}

fn dedup_set(items: Vec<Value>) -> Value {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Value::Set(out)
}

// ---------------------------------------------------------------- encoding

fn mismatch(path: &[String], value: &Value, ty: &Type) -> CodecError {
    let at = if path.is_empty() {
        "the value".to_string()
    } else {
        path.join(".")
    };
    CodecError::new(format!(
        "{at}: cannot encode {} as {}",
        value.infer_type().friendly_name(),
        ty.friendly_name()
    ))
}

fn write_len(
    out: &mut Vec<u8>,
    len: usize,
    fix: u8,
    fix_max: usize,
    m16: u8,
    m32: u8,
) -> Result<(), CodecError> {
    if len <= fix_max {
        out.push(fix | len as u8);
    } else if len <= u16::MAX as usize {
        out.push(m16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else if len <= u32::MAX as usize {
        out.push(m32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        return Err(CodecError::new("value too large for msgpack"));
    }
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), CodecError> {
    let len = s.len();
    if len <= 31 {
        out.push(0xa0 | len as u8);
    } else if len <= u8::MAX as usize {
        out.push(0xd9);
        out.push(len as u8);
    } else {
        write_len(out, len, 0, 0, 0xda, 0xdb)?;
    }
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) -> Result<(), CodecError> {
    let len = b.len();
    if len <= u8::MAX as usize {
        out.push(0xc4);
        out.push(len as u8);
    } else {
        write_len(out, len, 0, 0, 0xc5, 0xc6)?;
    }
    out.extend_from_slice(b);
    Ok(())
}

fn write_array_len(out: &mut Vec<u8>, len: usize) -> Result<(), CodecError> {
    write_len(out, len, 0x90, 15, 0xdc, 0xdd)
}

fn write_map_len(out: &mut Vec<u8>, len: usize) -> Result<(), CodecError> {
    write_len(out, len, 0x80, 15, 0xde, 0xdf)
}

fn write_number(out: &mut Vec<u8>, n: &Number) -> Result<(), CodecError> {
    match n.to_wire() {
        WireNumber::UInt(u) => {
            if u <= 0x7f {
                out.push(u as u8);
            } else if u <= u8::MAX as u64 {
                out.extend_from_slice(&[0xcc, u as u8]);
            } else if u <= u16::MAX as u64 {
                out.push(0xcd);
                out.extend_from_slice(&(u as u16).to_be_bytes());
            } else if u <= u32::MAX as u64 {
                out.push(0xce);
                out.extend_from_slice(&(u as u32).to_be_bytes());
            } else {
                out.push(0xcf);
                out.extend_from_slice(&u.to_be_bytes());
            }
        }
        WireNumber::Int(i) => {
            if i >= -32 {
                out.push(i as i8 as u8);
            } else if i >= i8::MIN as i64 {
                out.extend_from_slice(&[0xd0, i as i8 as u8]);
            } else if i >= i16::MIN as i64 {
                out.push(0xd1);
                out.extend_from_slice(&(i as i16).to_be_bytes());
            } else if i >= i32::MIN as i64 {
                out.push(0xd2);
                out.extend_from_slice(&(i as i32).to_be_bytes());
            } else {
                out.push(0xd3);
                out.extend_from_slice(&i.to_be_bytes());
            }
        }
        WireNumber::Float(f) => {
            out.push(0xcb);
            out.extend_from_slice(&f.to_be_bytes());
        }
        WireNumber::Text(t) => write_str(out, &t)?,
    }
    Ok(())
}

fn write_value(
    out: &mut Vec<u8>,
    value: &Value,
    ty: &Type,
    path: &mut Vec<String>,
) -> Result<(), CodecError> {
    match value {
        Value::Null => {
            out.push(0xc0);
            return Ok(());
        }
        Value::Unknown => {
            // go-cty's plain unknown: fixext1, type 0, one zero byte.
            out.extend_from_slice(&[0xd4, 0x00, 0x00]);
            return Ok(());
        }
        _ => {}
    }
    match (ty, value) {
        (Type::Dynamic, Value::Dynamic(concrete, inner)) => {
            write_array_len(out, 2)?;
            write_bin(out, &concrete.to_json_bytes())?;
            write_value(out, inner, concrete, path)
        }
        (Type::Dynamic, known) => {
            let concrete = known.infer_type();
            write_array_len(out, 2)?;
            write_bin(out, &concrete.to_json_bytes())?;
            write_value(out, known, &concrete, path)
        }
        (_, Value::Dynamic(concrete, inner)) if concrete == ty => write_value(out, inner, ty, path),
        (Type::String, Value::String(s)) => write_str(out, s),
        (Type::Number, Value::Number(n)) => write_number(out, n),
        (Type::Bool, Value::Bool(b)) => {
            out.push(if *b { 0xc3 } else { 0xc2 });
            Ok(())
        }
        (
            Type::List(elem) | Type::Set(elem),
            Value::List(items) | Value::Set(items) | Value::Tuple(items),
        ) => {
            write_array_len(out, items.len())?;
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                write_value(out, item, elem, path)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Tuple(elems), Value::Tuple(items) | Value::List(items))
            if elems.len() == items.len() =>
        {
            write_array_len(out, items.len())?;
            for (i, (item, t)) in items.iter().zip(elems).enumerate() {
                path.push(i.to_string());
                write_value(out, item, t, path)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Map(elem), Value::Map(m) | Value::Object(m)) => {
            write_map_len(out, m.len())?;
            for (k, v) in m {
                write_str(out, k)?;
                path.push(k.clone());
                write_value(out, v, elem, path)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Object(attrs), Value::Object(m)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(CodecError::new(format!(
                    "unsupported attribute {extra:?} in {}",
                    path.join(".")
                )));
            }
            // Terraform requires every attribute, nulls included, keys sorted.
            write_map_len(out, attrs.len())?;
            for (name, attr_ty) in attrs {
                write_str(out, name)?;
                path.push(name.clone());
                write_value(out, m.get(name).unwrap_or(&Value::Null), attr_ty, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Err(mismatch(path, value, ty)),
    }
}

#[cfg(test)]
mod tests;
