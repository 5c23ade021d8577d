//! Plain Rust structs to and from cty values, through serde: what lets a
//! resource read its plan as a typed model instead of by attribute name.
//!
//! Reading needs no type (a value carries its shape); writing is directed
//! by the cty type, because a Rust `Vec` may be a list or a set, a struct
//! an object, and because an object must carry exactly its type's members:
//! a struct field the type lacks, or a member no field fills, is an error
//! rather than a silent null.
//!
//! Two things cty has and serde does not travel through private names that
//! only this codec understands: [`Attr`] (null, unknown or known) and
//! [`Number`] (arbitrary precision, never rounded through a float).
//!
//! Errors name the path and the kinds involved, never a value: the values
//! read here include secrets.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Unexpected, Visitor};
use serde::ser::{self, Serialize};
use serde::Deserialize;

use super::{CodecError, Number, Type, Value};

mod place;

const ATTR: &str = "$cty::Attr";
const UNKNOWN: &str = "$cty::Unknown";
const NUMBER: &str = "$cty::Number";

/// A value as a plan may hold it: null, not yet known, or known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attr<T> {
    Null,
    Unknown,
    Known(T),
}

/// Null, whatever `T` is.
impl<T> Default for Attr<T> {
    fn default() -> Self {
        Attr::Null
    }
}

impl<T> Attr<T> {
    /// The value, when known and not null.
    pub fn known(&self) -> Option<&T> {
        match self {
            Attr::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn known_mut(&mut self) -> Option<&mut T> {
        match self {
            Attr::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Attr::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Attr::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Attr::Unknown)
    }
}

impl Attr<String> {
    pub fn as_str(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }
}

impl<T> From<Option<T>> for Attr<T> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Attr::Null, Attr::Known)
    }
}

impl<T: Serialize> Serialize for Attr<T> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Attr::Null => s.serialize_none(),
            Attr::Unknown => s.serialize_unit_struct(UNKNOWN),
            Attr::Known(v) => s.serialize_some(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Attr<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AttrVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for AttrVisitor<T> {
            type Value = Attr<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, null or unknown")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Attr::Unknown)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Attr::Null)
            }
            fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                T::deserialize(d).map(Attr::Known)
            }
        }
        d.deserialize_newtype_struct(ATTR, AttrVisitor(std::marker::PhantomData))
    }
}

impl Serialize for Number {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(NUMBER, &self.to_string())
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
                Number::parse(v).ok_or_else(|| E::custom("not a number"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number::from_i64(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number::from_u64(v))
            }
        }
        d.deserialize_newtype_struct(NUMBER, NumberVisitor)
    }
}

/// A typed model from a value.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, CodecError> {
    T::deserialize(ValueDeserializer {
        value,
        path: Path::Root,
    })
    .map_err(|e| CodecError::new(e.0))
}

/// A value of type `ty` from a typed model.
pub fn to_value<T: Serialize + ?Sized>(model: &T, ty: &Type) -> Result<Value, CodecError> {
    model
        .serialize(ValueSerializer {
            ty,
            path: Path::Root,
        })
        .map_err(|e| CodecError::new(e.0))
}

/// Writes the fields of `part`, a struct naming some of the attributes of
/// object type `ty` (at any depth: a nested struct may name some members
/// too), into `value`, an object of that type: a typed write of a few
/// attributes, without reading or writing the rest. What the value already
/// holds in the written shape is written in place (see the `place` module).
#[inline(never)]
pub fn merge_into<T: Serialize + ?Sized>(
    part: &T,
    value: &mut Value,
    ty: &Type,
) -> Result<(), CodecError> {
    if !matches!(value, Value::Object(_)) {
        return Err(CodecError::new(
            "only an object's attributes can be written",
        ));
    }
    part.serialize(place::Place {
        target: value,
        ty,
        path: Path::Root,
    })
    .map_err(|e| CodecError::new(e.0))
}

#[derive(Debug)]
struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }

    /// serde's own message quotes the value; ours names only its kind.
    fn invalid_type(unexpected: Unexpected, expected: &dyn de::Expected) -> Self {
        Error(format!("expected {expected}, found {}", kind(&unexpected)))
    }

    fn invalid_value(unexpected: Unexpected, expected: &dyn de::Expected) -> Self {
        Error(format!(
            "expected {expected}, found another {}",
            kind(&unexpected)
        ))
    }
}

fn kind(unexpected: &Unexpected) -> &'static str {
    match unexpected {
        Unexpected::Bool(_) => "bool",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) | Unexpected::Float(_) => "number",
        Unexpected::Char(_) | Unexpected::Str(_) => "string",
        Unexpected::Bytes(_) => "bytes",
        Unexpected::Unit => "unit",
        Unexpected::Option => "optional value",
        Unexpected::Seq => "sequence",
        Unexpected::Map => "map",
        _ => "value",
    }
}

/// Where in the value a step is: built on the stack as the codec descends,
/// written out only for an error.
#[derive(Clone, Copy)]
enum Path<'p> {
    Root,
    Field(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(Path::Root, name) => f.write_str(name),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

#[cold]
fn at(path: &Path, message: impl fmt::Display) -> Error {
    match path {
        Path::Root => Error(message.to_string()),
        _ => Error(format!("{path}: {message}")),
    }
}

// ------------------------------------------------------------------ reading

struct ValueDeserializer<'a> {
    value: &'a Value,
    path: Path<'a>,
}

impl<'a> ValueDeserializer<'a> {
    fn inner(&self) -> &'a Value {
        match self.value {
            Value::Dynamic(_, v) => v,
            v => v,
        }
    }

    #[cold]
    #[inline(never)]
    fn wrap(&self, e: Error) -> Error {
        if matches!(self.path, Path::Root) || e.0.contains(": ") {
            e
        } else {
            at(&self.path, e)
        }
    }
}

macro_rules! forward_to_any {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.deserialize_any(visitor)
        }
    )*};
}

impl<'de, 'a> de::Deserializer<'de> for ValueDeserializer<'a> {
    type Error = Error;

    #[inline(never)]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match self.inner() {
            Value::Null => visitor.visit_none(),
            Value::Unknown => Err(Error("the value is not known yet".into())),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match primitive(n) {
                Primitive::I64(i) => visitor.visit_i64(i),
                Primitive::U64(u) => visitor.visit_u64(u),
                Primitive::F64(f) => visitor.visit_f64(f),
            },
            Value::String(s) => visitor.visit_str(s),
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                visitor.visit_seq(Elements {
                    items: items.iter().enumerate(),
                    path: &self.path,
                })
            }
            Value::Map(members) | Value::Object(members) => visitor.visit_map(Members {
                members: members.iter(),
                pending: None,
                path: &self.path,
            }),
            Value::Dynamic(..) => Err(Error("a nested dynamic value".into())),
        };
        result.map_err(|e| self.wrap(e))
    }

    #[inline(never)]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.inner() {
            Value::Null => visitor.visit_none(),
            Value::Unknown => Err(at(&self.path, "the value is not known yet")),
            _ => visitor.visit_some(self),
        }
    }

    #[inline(never)]
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        match (name, self.inner()) {
            (ATTR, Value::Unknown) => visitor.visit_unit(),
            (ATTR, Value::Null) => visitor.visit_none(),
            (ATTR, _) => visitor.visit_some(self),
            (NUMBER, Value::Number(n)) => visitor.visit_str(&n.to_string()),
            (NUMBER, _) => Err(at(&self.path, "expected a number")),
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.inner() {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            _ => Err(at(&self.path, "expected a string naming a variant")),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.inner() {
            Value::Null => visitor.visit_unit(),
            _ => Err(at(&self.path, "expected null")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_any! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_str deserialize_string deserialize_bytes
        deserialize_byte_buf deserialize_seq deserialize_map deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    #[inline(never)]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // Only a map can be a struct: the other visits are not instantiated.
        let members = match self.inner() {
            Value::Object(members) | Value::Map(members) => members,
            other => return Err(not_an_object(&self.path, other)),
        };
        // A part names a few of many members: those are looked up, and the
        // rest never visited. Whether a model has every member is
        // [`to_value`]'s check (a member no field fills is an error there).
        let named = if fields.len() < members.len() {
            StructMembers::Named {
                fields: fields.iter(),
                members,
            }
        } else {
            StructMembers::All(members.iter())
        };
        let result = visitor.visit_map(Members {
            members: named,
            pending: None,
            path: &self.path,
        });
        result.map_err(|e| self.wrap(e))
    }
}

/// The members a struct reads: all of them, or those its fields name.
enum StructMembers<'a> {
    All(std::collections::btree_map::Iter<'a, String, Value>),
    Named {
        fields: std::slice::Iter<'static, &'static str>,
        members: &'a BTreeMap<String, Value>,
    },
}

impl<'a> Iterator for StructMembers<'a> {
    type Item = (&'a String, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            StructMembers::All(iter) => iter.next(),
            StructMembers::Named { fields, members } => {
                fields.find_map(|field| members.get_key_value(*field))
            }
        }
    }
}

/// A number as the nearest Rust primitive serde visits.
enum Primitive {
    I64(i64),
    U64(u64),
    F64(f64),
}

fn primitive(n: &Number) -> Primitive {
    match n.to_i64() {
        Some(i) => Primitive::I64(i),
        None if n.is_integer() => match n.to_string().parse::<u64>() {
            Ok(u) => Primitive::U64(u),
            Err(_) => Primitive::F64(n.to_f64()),
        },
        None => Primitive::F64(n.to_f64()),
    }
}

#[cold]
fn not_an_object(path: &Path, value: &Value) -> Error {
    at(
        path,
        match value {
            Value::Unknown => "the value is not known yet",
            Value::Null => "the value is null",
            _ => "expected an object",
        },
    )
}

struct Elements<'p, I> {
    items: I,
    path: &'p Path<'p>,
}

impl<'de, 'a: 'p, 'p, I: Iterator<Item = (usize, &'a Value)>> de::SeqAccess<'de>
    for Elements<'p, I>
{
    type Error = Error;

    #[inline(never)]
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.items.next() {
            None => Ok(None),
            Some((i, value)) => seed
                .deserialize(ValueDeserializer {
                    value,
                    path: Path::Index(self.path, i),
                })
                .map(Some),
        }
    }
}

struct Members<'a, 'p, I> {
    members: I,
    pending: Option<(&'a String, &'a Value)>,
    path: &'p Path<'p>,
}

impl<'de, 'a: 'p, 'p, I: Iterator<Item = (&'a String, &'a Value)>> de::MapAccess<'de>
    for Members<'a, 'p, I>
{
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.members.next() {
            None => Ok(None),
            Some((name, value)) => {
                self.pending = Some((name, value));
                seed.deserialize(name.as_str().into_deserializer())
                    .map(Some)
                    .map_err(|e: Error| at(self.path, e))
            }
        }
    }

    #[inline(never)]
    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (name, value) = self
            .pending
            .take()
            .ok_or_else(|| Error("a value without its key".into()))?;
        seed.deserialize(ValueDeserializer {
            value,
            path: Path::Field(self.path, name),
        })
    }
}

// ------------------------------------------------------------------ writing

struct ValueSerializer<'t> {
    ty: &'t Type,
    path: Path<'t>,
}

impl<'t> ValueSerializer<'t> {
    fn mismatch(&self, found: &str) -> Error {
        at(
            &self.path,
            format!("a {found} cannot be written as {}", self.ty.friendly_name()),
        )
    }

    fn number(&self, n: Option<Number>) -> Result<Value, Error> {
        match self.ty {
            Type::Number => n
                .map(Value::Number)
                .ok_or_else(|| at(&self.path, "not a finite number")),
            Type::Dynamic => n
                .map(|n| Value::Dynamic(Type::Number, Box::new(Value::Number(n))))
                .ok_or_else(|| at(&self.path, "not a finite number")),
            _ => Err(self.mismatch("number")),
        }
    }
}

impl<'t> ser::Serializer for ValueSerializer<'t> {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Sequence<'t>;
    type SerializeTuple = Sequence<'t>;
    type SerializeTupleStruct = Sequence<'t>;
    type SerializeTupleVariant = ser::Impossible<Value, Error>;
    type SerializeMap = Object<'t>;
    type SerializeStruct = Object<'t>;
    type SerializeStructVariant = ser::Impossible<Value, Error>;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        match self.ty {
            Type::Bool => Ok(Value::Bool(v)),
            Type::Dynamic => Ok(Value::Dynamic(Type::Bool, Box::new(Value::Bool(v)))),
            _ => Err(self.mismatch("bool")),
        }
    }

    fn serialize_i8(self, v: i8) -> Result<Value, Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Error> {
        self.number(Some(Number::from_i64(v)))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Error> {
        self.number(Some(Number::from_u64(v)))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        self.number(Number::from_f64(v))
    }

    fn serialize_char(self, v: char) -> Result<Value, Error> {
        self.serialize_str(&v.to_string())
    }

    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        match self.ty {
            Type::String => Ok(Value::String(v.to_string())),
            Type::Dynamic => Ok(Value::Dynamic(
                Type::String,
                Box::new(Value::String(v.to_string())),
            )),
            _ => Err(self.mismatch("string")),
        }
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<Value, Error> {
        Err(self.mismatch("byte string"))
    }

    fn serialize_none(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<Value, Error> {
        Ok(if name == UNKNOWN {
            Value::Unknown
        } else {
            Value::Null
        })
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        if name != NUMBER {
            return value.serialize(self);
        }
        let text = value.serialize(ValueSerializer {
            ty: &Type::String,
            path: self.path,
        })?;
        self.number(text.as_str().and_then(Number::parse))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Value, Error> {
        Err(self.mismatch("enum with data"))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Sequence<'t>, Error> {
        let element = match self.ty {
            Type::List(e) | Type::Set(e) => Some(&**e),
            Type::Tuple(_) => None,
            _ => return Err(self.mismatch("sequence")),
        };
        Ok(Sequence {
            ty: self.ty,
            element,
            items: Vec::with_capacity(len.unwrap_or(0)),
            path: self.path,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Sequence<'t>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Sequence<'t>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(self.mismatch("enum with data"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'t>, Error> {
        match self.ty {
            Type::Map(_) | Type::Object(_) => Ok(Object {
                ty: self.ty,
                members: BTreeMap::new(),
                key: None,
                path: self.path,
            }),
            _ => Err(self.mismatch("map")),
        }
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Object<'t>, Error> {
        match self.ty {
            Type::Object(_) => Ok(Object {
                ty: self.ty,
                members: BTreeMap::new(),
                key: None,
                path: self.path,
            }),
            _ => Err(self.mismatch("struct")),
        }
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(self.mismatch("enum with data"))
    }
}

struct Sequence<'t> {
    ty: &'t Type,
    element: Option<&'t Type>,
    items: Vec<Value>,
    path: Path<'t>,
}

impl Sequence<'_> {
    #[inline(never)]
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let i = self.items.len();
        let ty = match (self.element, self.ty) {
            (Some(e), _) => e,
            (None, Type::Tuple(types)) => types
                .get(i)
                .ok_or_else(|| at(&self.path, "more elements than the tuple type has"))?,
            _ => return Err(at(&self.path, "not a sequence type")),
        };
        let path = Path::Index(&self.path, i);
        let item = value.serialize(ValueSerializer { ty, path })?;
        self.items.push(item);
        Ok(())
    }

    fn finish(self) -> Result<Value, Error> {
        Ok(match self.ty {
            Type::Set(_) => {
                let mut unique: Vec<Value> = Vec::with_capacity(self.items.len());
                for item in self.items {
                    if !unique.contains(&item) {
                        unique.push(item);
                    }
                }
                Value::Set(unique)
            }
            Type::Tuple(_) => Value::Tuple(self.items),
            _ => Value::List(self.items),
        })
    }
}

/// The three sequence traits serde has do the same here.
macro_rules! sequence_trait {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Sequence<'_> {
            type Ok = Value;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Result<Value, Error> {
                self.finish()
            }
        }
    )*};
}

sequence_trait!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

struct Object<'t> {
    ty: &'t Type,
    members: BTreeMap<String, Value>,
    key: Option<String>,
    path: Path<'t>,
}

impl Object<'_> {
    #[inline(never)]
    fn insert<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Error> {
        let path = Path::Field(&self.path, name);
        let ty = match self.ty {
            Type::Map(e) => &**e,
            Type::Object(members) => members
                .get(name)
                .ok_or_else(|| at(&path, "the model has this field; the schema does not"))?,
            _ => return Err(at(&self.path, "not an object type")),
        };
        let value = value.serialize(ValueSerializer { ty, path })?;
        if self.members.insert(name.to_string(), value).is_some() {
            return Err(at(&path, "written twice"));
        }
        Ok(())
    }

    fn finish(self) -> Result<Value, Error> {
        match self.ty {
            Type::Object(members) => {
                if let Some(missing) = members.keys().find(|m| !self.members.contains_key(*m)) {
                    return Err(at(
                        &Path::Field(&self.path, missing),
                        "the schema has this attribute; the model has no field for it",
                    ));
                }
                Ok(Value::Object(self.members))
            }
            _ => Ok(Value::Map(self.members)),
        }
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.insert(name, value)
    }
    fn end(self) -> Result<Value, Error> {
        self.finish()
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let key = key.serialize(ValueSerializer {
            ty: &Type::String,
            path: self.path,
        })?;
        match key {
            Value::String(k) => {
                self.key = Some(k);
                Ok(())
            }
            _ => Err(at(&self.path, "a map key that is not a string")),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| at(&self.path, "a value without its key"))?;
        self.insert(&key, value)
    }
    fn end(self) -> Result<Value, Error> {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Rule {
        field: String,
        direction: Attr<String>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Model {
        name: String,
        count: Attr<i64>,
        score: Option<Number>,
        tags: Vec<String>,
        labels: BTreeMap<String, String>,
        rules: Option<Vec<Rule>>,
    }

    fn ty() -> Type {
        Type::Object(
            [
                ("name".to_string(), Type::String),
                ("count".to_string(), Type::Number),
                ("score".to_string(), Type::Number),
                ("tags".to_string(), Type::set(Type::String)),
                ("labels".to_string(), Type::map(Type::String)),
                (
                    "rules".to_string(),
                    Type::list(Type::Object(
                        [
                            ("field".to_string(), Type::String),
                            ("direction".to_string(), Type::String),
                        ]
                        .into(),
                    )),
                ),
            ]
            .into(),
        )
    }

    #[test]
    fn a_model_round_trips_with_nulls_unknowns_and_exact_numbers() {
        let value = Value::object([
            ("name", Value::string("n")),
            ("count", Value::Unknown),
            ("score", Value::Number(Number::parse("0.1").unwrap())),
            ("tags", Value::string_set(["a", "b"])),
            (
                "labels",
                Value::Map([("k".to_string(), Value::string("v"))].into()),
            ),
            (
                "rules",
                Value::List(vec![Value::object([
                    ("field", Value::string("timestamp")),
                    ("direction", Value::Null),
                ])]),
            ),
        ]);
        let model: Model = from_value(&value).unwrap();
        assert!(model.count.is_unknown());
        assert_eq!(model.score.as_ref().unwrap().to_string(), "0.1");
        assert_eq!(model.rules.as_ref().unwrap()[0].direction, Attr::Null);
        assert_eq!(to_value(&model, &ty()).unwrap(), value);
    }

    #[test]
    fn fields_and_attributes_must_match() {
        #[derive(Serialize)]
        struct Extra {
            name: String,
            other: bool,
        }
        let ty = Type::Object([("name".to_string(), Type::String)].into());
        let err = to_value(
            &Extra {
                name: "n".into(),
                other: true,
            },
            &ty,
        )
        .unwrap_err();
        assert!(err.to_string().contains("other"), "{err}");
        #[derive(Serialize)]
        struct Missing {}
        let err = to_value(&Missing {}, &ty).unwrap_err();
        assert!(err.to_string().contains("name"), "{err}");
    }

    #[test]
    fn errors_name_the_path_never_the_value() {
        let value = Value::object([
            ("name", Value::string("n")),
            ("count", Value::string("hunter2-secret")),
            ("score", Value::Null),
            ("tags", Value::Null),
            ("labels", Value::Null),
            ("rules", Value::Null),
        ]);
        let err = from_value::<Model>(&value).unwrap_err().to_string();
        assert!(err.contains("count"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let unknown_required = Value::object([("name", Value::Unknown)]);
        let err = from_value::<Model>(&unknown_required)
            .unwrap_err()
            .to_string();
        assert!(err.contains("name") && err.contains("not known"), "{err}");
    }
}
