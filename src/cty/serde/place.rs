//! Writing a part of a model back into the value it was read from, in
//! place: a plan reads a few attributes, changes some, and writes them
//! back. Building the whole written part afresh (every member name and
//! string allocated again, then swapped in) cost more than the plan's own
//! work, so where the value already has the written shape (an object under
//! a struct, a list or set of the same length under a sequence, a string
//! under a string) the write goes into it, and a string already equal is
//! left alone. Anywhere else the value is built afresh, as [`to_value`]
//! would, and must be whole.
//!
//! A struct written over an object sets the members it names and keeps the
//! others, at any depth: that is what makes a part (a struct naming some
//! attributes) writable.
//!
//! [`to_value`]: super::to_value

use serde::ser::{self, Serialize};

use super::{at, Error, Object, Path, Sequence, ValueSerializer, NUMBER, UNKNOWN};
use crate::cty::{Type, Value};

pub(super) struct Place<'v, 't> {
    pub target: &'v mut Value,
    pub ty: &'t Type,
    pub path: Path<'t>,
}

impl<'v, 't> Place<'v, 't> {
    /// The serializer that builds this place's value afresh.
    fn fresh(self) -> (&'v mut Value, ValueSerializer<'t>) {
        let serializer = ValueSerializer {
            ty: self.ty,
            path: self.path,
        };
        (self.target, serializer)
    }
}

/// Writes that have no cheaper form in place.
macro_rules! afresh {
    ($($method:ident($($arg:ident: $t:ty),*)),* $(,)?) => {$(
        fn $method(self, $($arg: $t),*) -> Result<(), Error> {
            let (target, serializer) = self.fresh();
            *target = ser::Serializer::$method(serializer, $($arg),*)?;
            Ok(())
        }
    )*};
}

impl<'v, 't> ser::Serializer for Place<'v, 't> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = PlaceSeq<'v, 't>;
    type SerializeTuple = PlaceSeq<'v, 't>;
    type SerializeTupleStruct = PlaceSeq<'v, 't>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = PlaceMap<'v, 't>;
    type SerializeStruct = PlaceStruct<'v, 't>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    afresh! {
        serialize_bool(v: bool), serialize_i8(v: i8), serialize_i16(v: i16),
        serialize_i32(v: i32), serialize_i64(v: i64), serialize_u8(v: u8),
        serialize_u16(v: u16), serialize_u32(v: u32), serialize_u64(v: u64),
        serialize_f32(v: f32), serialize_f64(v: f64), serialize_char(v: char),
        serialize_bytes(v: &[u8]),
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        match (self.ty, &mut *self.target) {
            (Type::String, Value::String(s)) => {
                if s != v {
                    s.clear();
                    s.push_str(v);
                }
                Ok(())
            }
            _ => {
                let (target, serializer) = self.fresh();
                *target = ser::Serializer::serialize_str(serializer, v)?;
                Ok(())
            }
        }
    }

    fn serialize_none(self) -> Result<(), Error> {
        *self.target = Value::Null;
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        *self.target = Value::Null;
        Ok(())
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<(), Error> {
        *self.target = if name == UNKNOWN {
            Value::Unknown
        } else {
            Value::Null
        };
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if name != NUMBER {
            return value.serialize(self);
        }
        let (target, serializer) = self.fresh();
        *target = ser::Serializer::serialize_newtype_struct(serializer, name, value)?;
        Ok(())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let _ = (name, index, variant, value);
        Err(self.fresh().1.mismatch("enum with data"))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<PlaceSeq<'v, 't>, Error> {
        let element = match (self.ty, &*self.target) {
            (Type::List(e), Value::List(items)) | (Type::Set(e), Value::Set(items))
                if Some(items.len()) == len =>
            {
                Some(&**e)
            }
            _ => None,
        };
        let is_set = matches!(self.ty, Type::Set(_));
        match (element, self.target) {
            (Some(element), Value::List(items) | Value::Set(items)) => Ok(PlaceSeq::InPlace {
                items,
                element,
                is_set,
                next: 0,
                path: self.path,
            }),
            (_, target) => {
                let serializer = ValueSerializer {
                    ty: self.ty,
                    path: self.path,
                };
                let sequence = ser::Serializer::serialize_seq(serializer, len)?;
                Ok(PlaceSeq::Fresh { target, sequence })
            }
        }
    }

    fn serialize_tuple(self, len: usize) -> Result<PlaceSeq<'v, 't>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<PlaceSeq<'v, 't>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        let _ = (name, index, variant, len);
        Err(self.fresh().1.mismatch("enum with data"))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<PlaceMap<'v, 't>, Error> {
        if let (Type::Map(_), Value::Map(_)) = (self.ty, &*self.target) {
            return Ok(PlaceMap {
                target: self.target,
                ty: self.ty,
                path: self.path,
                in_place: Some(0),
                fresh: None,
            });
        }
        let (ty, path) = (self.ty, self.path);
        let (target, serializer) = self.fresh();
        let object = ser::Serializer::serialize_map(serializer, len)?;
        Ok(PlaceMap {
            target,
            ty,
            path,
            in_place: None,
            fresh: Some(object),
        })
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<PlaceStruct<'v, 't>, Error> {
        match (self.ty, self.target) {
            (Type::Object(types), Value::Object(members)) => Ok(PlaceStruct::InPlace {
                members,
                types,
                path: self.path,
            }),
            (ty, target) => {
                let serializer = ValueSerializer {
                    ty,
                    path: self.path,
                };
                let object = ser::Serializer::serialize_struct(serializer, name, len)?;
                Ok(PlaceStruct::Fresh { target, object })
            }
        }
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        let _ = (name, index, variant, len);
        Err(self.fresh().1.mismatch("enum with data"))
    }
}

pub(super) enum PlaceSeq<'v, 't> {
    InPlace {
        items: &'v mut Vec<Value>,
        element: &'t Type,
        is_set: bool,
        next: usize,
        path: Path<'t>,
    },
    Fresh {
        target: &'v mut Value,
        sequence: Sequence<'t>,
    },
}

impl PlaceSeq<'_, '_> {
    #[inline(never)]
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        match self {
            PlaceSeq::InPlace {
                items,
                element,
                next,
                path,
                ..
            } => {
                let i = *next;
                let target = items
                    .get_mut(i)
                    .ok_or_else(|| at(path, "more elements than announced"))?;
                *next += 1;
                value.serialize(Place {
                    target,
                    ty: element,
                    path: Path::Index(path, i),
                })
            }
            PlaceSeq::Fresh { sequence, .. } => sequence.push(value),
        }
    }

    fn finish(self) -> Result<(), Error> {
        match self {
            PlaceSeq::InPlace {
                items,
                is_set,
                next,
                path,
                ..
            } => {
                if next != items.len() {
                    return Err(at(&path, "fewer elements than announced"));
                }
                if is_set {
                    // Elements written equal are one element of a set.
                    let mut unique: Vec<Value> = Vec::with_capacity(items.len());
                    for item in items.drain(..) {
                        if !unique.contains(&item) {
                            unique.push(item);
                        }
                    }
                    *items = unique;
                }
                Ok(())
            }
            PlaceSeq::Fresh { target, sequence } => {
                *target = sequence.finish()?;
                Ok(())
            }
        }
    }
}

/// The three sequence traits serde has do the same here.
macro_rules! place_sequence_trait {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for PlaceSeq<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

place_sequence_trait!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

/// A map's entries come in key order, as the value holds them: while the
/// keys match the value's, one by one, the entries are written in place;
/// from the first that does not, the rest of the map is built afresh.
pub(super) struct PlaceMap<'v, 't> {
    target: &'v mut Value,
    ty: &'t Type,
    path: Path<'t>,
    /// While the keys match: how many entries were written in place.
    in_place: Option<usize>,
    /// Once one does not: the map built afresh from there.
    fresh: Option<Object<'t>>,
}

impl PlaceMap<'_, '_> {
    #[inline(never)]
    fn entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: Option<&K>,
        value: Option<&V>,
    ) -> Result<(), Error> {
        let PlaceMap {
            target,
            ty,
            path,
            in_place,
            fresh,
        } = self;
        let ty: &Type = ty;
        if let (Some(next), Type::Map(element), Value::Map(members)) =
            (&mut *in_place, ty, &mut **target)
        {
            if let (Some(key), Some(value)) = (key, value) {
                if let Some((name, slot)) = members.iter_mut().nth(*next) {
                    if key.serialize(KeyIs(name))? {
                        *next += 1;
                        return value.serialize(Place {
                            target: slot,
                            ty: element,
                            path: Path::Field(path, name),
                        });
                    }
                }
            }
            // The entries written so far stay; the rest are built afresh.
            let mut kept = std::mem::take(members);
            if let Some(first_stale) = kept.keys().nth(*next).cloned() {
                kept.split_off(&first_stale);
            }
            *in_place = None;
            *fresh = Some(Object {
                ty,
                members: kept,
                key: None,
                path: *path,
            });
        }
        let object = fresh.as_mut().ok_or_else(|| at(path, "not a map"))?;
        if let Some(key) = key {
            ser::SerializeMap::serialize_key(object, key)?;
        }
        match value {
            Some(value) => ser::SerializeMap::serialize_value(object, value),
            None => Ok(()),
        }
    }
}

impl ser::SerializeMap for PlaceMap<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Error> {
        self.entry(Some(key), Some(value))
    }
    // Apart, a key and its value are written to the map built afresh.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.entry::<T, T>(Some(key), None)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.entry::<T, T>(None, Some(value))
    }
    fn end(self) -> Result<(), Error> {
        match (self.in_place, self.fresh, self.target) {
            (Some(written), _, Value::Map(members)) => {
                // Entries the map no longer has.
                if let Some(first_stale) = members.keys().nth(written).cloned() {
                    members.split_off(&first_stale);
                }
                Ok(())
            }
            (_, Some(object), target) => {
                *target = object.finish()?;
                Ok(())
            }
            _ => Err(at(&self.path, "not a map")),
        }
    }
}

/// Whether a map key is the given string, without allocating it.
struct KeyIs<'k>(&'k str);

macro_rules! not_a_string_key {
    ($($method:ident($($t:ty),*)),* $(,)?) => {$(
        fn $method(self, $(_: $t),*) -> Result<bool, Error> {
            Ok(false)
        }
    )*};
}

impl ser::Serializer for KeyIs<'_> {
    type Ok = bool;
    type Error = Error;
    type SerializeSeq = ser::Impossible<bool, Error>;
    type SerializeTuple = ser::Impossible<bool, Error>;
    type SerializeTupleStruct = ser::Impossible<bool, Error>;
    type SerializeTupleVariant = ser::Impossible<bool, Error>;
    type SerializeMap = ser::Impossible<bool, Error>;
    type SerializeStruct = ser::Impossible<bool, Error>;
    type SerializeStructVariant = ser::Impossible<bool, Error>;

    fn serialize_str(self, v: &str) -> Result<bool, Error> {
        Ok(v == self.0)
    }

    not_a_string_key! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_char(char),
        serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<bool, Error> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<bool, Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<bool, Error> {
        Ok(false)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Error("a map key that is not a string".into()))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Error("a map key that is not a string".into()))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Error("a map key that is not a string".into()))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error("a map key that is not a string".into()))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Error("a map key that is not a string".into()))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(Error("a map key that is not a string".into()))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error("a map key that is not a string".into()))
    }
}

pub(super) enum PlaceStruct<'v, 't> {
    InPlace {
        members: &'v mut std::collections::BTreeMap<String, Value>,
        types: &'t std::collections::BTreeMap<String, Type>,
        path: Path<'t>,
    },
    Fresh {
        target: &'v mut Value,
        object: Object<'t>,
    },
}

impl ser::SerializeStruct for PlaceStruct<'_, '_> {
    type Ok = ();
    type Error = Error;

    #[inline(never)]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        match self {
            PlaceStruct::InPlace {
                members,
                types,
                path,
            } => {
                let path = Path::Field(path, name);
                let ty = types
                    .get(name)
                    .ok_or_else(|| at(&path, "the model has this field; the schema does not"))?;
                let target = members
                    .get_mut(name)
                    .ok_or_else(|| at(&path, "the value lacks this attribute of its type"))?;
                value.serialize(Place { target, ty, path })
            }
            PlaceStruct::Fresh { object, .. } => object.insert(name, value),
        }
    }

    fn end(self) -> Result<(), Error> {
        match self {
            PlaceStruct::InPlace { .. } => Ok(()),
            PlaceStruct::Fresh { target, object } => {
                *target = object.finish()?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use crate::cty::serde::{merge_into, Attr};
    use crate::cty::{Type, Value};

    fn ty() -> Type {
        let rule = Type::Object(
            [
                ("field".to_string(), Type::String),
                ("direction".to_string(), Type::String),
            ]
            .into(),
        );
        Type::Object(
            [
                ("name".to_string(), Type::String),
                ("tags".to_string(), Type::set(Type::String)),
                ("rules".to_string(), Type::list(rule)),
            ]
            .into(),
        )
    }

    fn value() -> Value {
        Value::object([
            ("name", Value::string("n")),
            ("tags", Value::string_set(["a", "b"])),
            (
                "rules",
                Value::List(vec![Value::object([
                    ("field", Value::string("f")),
                    ("direction", Value::Null),
                ])]),
            ),
        ])
    }

    #[derive(Serialize)]
    struct RulePart {
        direction: Attr<String>,
    }

    #[derive(Serialize)]
    struct Part {
        tags: Vec<String>,
        rules: Vec<RulePart>,
    }

    #[test]
    fn a_part_writes_what_it_names_at_any_depth_and_keeps_the_rest() {
        let mut written = value();
        let part = Part {
            tags: vec!["a".into(), "a".into()],
            rules: vec![RulePart {
                direction: Attr::Unknown,
            }],
        };
        merge_into(&part, &mut written, &ty()).unwrap();
        let expected = Value::object([
            ("name", Value::string("n")),
            // A set written in place stays a set.
            ("tags", Value::string_set(["a"])),
            (
                "rules",
                Value::List(vec![Value::object([
                    ("field", Value::string("f")),
                    ("direction", Value::Unknown),
                ])]),
            ),
        ]);
        assert_eq!(written, expected);
    }

    #[test]
    fn a_shape_the_value_lacks_is_built_whole() {
        // Another length: the list is built afresh, so a part of an
        // element is an error naming the member it lacks.
        let mut written = value();
        let part = Part {
            tags: vec![],
            rules: vec![],
        };
        merge_into(&part, &mut written, &ty()).unwrap();
        assert_eq!(written.get("rules"), &Value::List(vec![]));
        let two = Part {
            tags: vec![],
            rules: vec![
                RulePart {
                    direction: Attr::Null,
                },
                RulePart {
                    direction: Attr::Null,
                },
            ],
        };
        let err = merge_into(&two, &mut value(), &ty()).unwrap_err();
        assert!(err.to_string().contains("rules[0].field"), "{err}");
        // Null where an object was: only a whole object can be written.
        let mut null_target = Value::Null;
        let err = merge_into(&two, &mut null_target, &ty()).unwrap_err();
        assert!(err.to_string().contains("object"), "{err}");
    }

    #[test]
    fn a_field_the_type_lacks_is_an_error() {
        #[derive(Serialize)]
        struct Stray {
            other: bool,
        }
        let err = merge_into(&Stray { other: true }, &mut value(), &ty()).unwrap_err();
        assert!(err.to_string().contains("other"), "{err}");
    }

    #[test]
    fn a_map_keeps_matching_entries_and_rebuilds_from_the_first_other_key() {
        use std::collections::BTreeMap;
        #[derive(Serialize)]
        struct Labels {
            labels: BTreeMap<String, String>,
        }
        let ty = Type::Object([("labels".to_string(), Type::map(Type::String))].into());
        let labels = |pairs: &[(&str, &str)]| Labels {
            labels: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let as_value = |pairs: &[(&str, &str)]| {
            Value::object([(
                "labels",
                Value::Map(
                    pairs
                        .iter()
                        .map(|(k, v)| (k.to_string(), Value::string(*v)))
                        .collect(),
                ),
            )])
        };
        let before = [("a", "1"), ("c", "3"), ("e", "5")];
        for after in [
            &[("a", "1"), ("c", "30"), ("e", "5")][..],
            &[("a", "1"), ("b", "2"), ("c", "3"), ("e", "5")],
            &[("a", "1"), ("c", "3")],
            &[("b", "2")],
            &[],
        ] {
            let mut written = as_value(&before);
            merge_into(&labels(after), &mut written, &ty).unwrap();
            assert_eq!(written, as_value(after), "{after:?}");
        }
    }
}
