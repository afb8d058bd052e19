//! Canonical JSON written straight from a `Serialize` value, without building a
//! `serde_json::Value` first.
//!
//! Every append canonicalizes its event on the writer's thread; going through `Value` allocated
//! a map, a string per key and a node per member, then walked the tree again to sort and write
//! it. This serializer writes the same bytes in one pass: scalars go straight to the output,
//! an object's members are written to a scratch buffer and emitted in RFC 8785 key order when
//! the object ends. It follows `serde_json::to_value`'s data model exactly (externally tagged
//! variants as one-member objects, bytes as arrays of numbers, non-finite floats as `null`, a
//! repeated key keeping its last value), and the tests hold it to `to_value` plus
//! `super::push_value` on every shape serde can produce.

use std::ops::Range;

use serde::ser::{self, Serialize};

use super::value::{JcsError, write_number, write_string};

impl ser::Error for JcsError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        JcsError::NotJson(msg.to_string())
    }
}

/// Appends the canonical form of `value` to `out`.
pub fn push<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), JcsError> {
    value.serialize(Canonical { out })
}

struct Canonical<'a> {
    out: &'a mut String,
}

impl Canonical<'_> {
    fn number(self, n: serde_json::Number) -> Result<(), JcsError> {
        write_number(self.out, &n)
    }

    fn double(self, f: f64) -> Result<(), JcsError> {
        match serde_json::Number::from_f64(f) {
            Some(n) => self.number(n),
            // `to_value` makes NaN and the infinities `null`.
            None => {
                self.out.push_str("null");
                Ok(())
            }
        }
    }

    /// `{"variant":` before an externally tagged variant's content.
    fn open_variant(&mut self, variant: &str) {
        self.out.push('{');
        write_string(self.out, variant);
        self.out.push(':');
    }
}

impl<'a> ser::Serializer for Canonical<'a> {
    type Ok = ();
    type Error = JcsError;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), JcsError> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), JcsError> {
        self.number(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<(), JcsError> {
        self.number(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<(), JcsError> {
        self.number(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<(), JcsError> {
        self.number(v.into())
    }

    fn serialize_i128(self, v: i128) -> Result<(), JcsError> {
        match (u64::try_from(v), i64::try_from(v)) {
            (Ok(u), _) => self.number(u.into()),
            (_, Ok(i)) => self.number(i.into()),
            _ => Err(JcsError::NotJson("number out of range".into())),
        }
    }

    fn serialize_u8(self, v: u8) -> Result<(), JcsError> {
        self.number(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<(), JcsError> {
        self.number(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<(), JcsError> {
        self.number(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<(), JcsError> {
        self.number(v.into())
    }

    fn serialize_u128(self, v: u128) -> Result<(), JcsError> {
        match u64::try_from(v) {
            Ok(u) => self.number(u.into()),
            Err(_) => Err(JcsError::NotJson("number out of range".into())),
        }
    }

    fn serialize_f32(self, v: f32) -> Result<(), JcsError> {
        self.double(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), JcsError> {
        self.double(v)
    }

    fn serialize_char(self, v: char) -> Result<(), JcsError> {
        write_string(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), JcsError> {
        write_string(self.out, v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), JcsError> {
        use ser::SerializeSeq as _;
        let mut array = self.serialize_seq(Some(v.len()))?;
        for byte in v {
            array.serialize_element(byte)?;
        }
        array.end()
    }

    fn serialize_none(self) -> Result<(), JcsError> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), JcsError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), JcsError> {
        self.out.push_str("null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), JcsError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), JcsError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), JcsError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), JcsError> {
        self.open_variant(variant);
        value.serialize(Canonical {
            out: &mut *self.out,
        })?;
        self.out.push('}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'a>, JcsError> {
        self.out.push('[');
        Ok(Array {
            out: self.out,
            empty: true,
            in_variant: false,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Array<'a>, JcsError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Array<'a>, JcsError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Array<'a>, JcsError> {
        self.open_variant(variant);
        let mut array = self.serialize_seq(Some(len))?;
        array.in_variant = true;
        Ok(array)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Object<'a>, JcsError> {
        Ok(Object::new(self.out, len.unwrap_or(8), false))
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Object<'a>, JcsError> {
        Ok(Object::new(self.out, len, false))
    }

    fn serialize_struct_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Object<'a>, JcsError> {
        self.open_variant(variant);
        Ok(Object::new(self.out, len, true))
    }
}

/// An array being written; `in_variant` closes the one-member object around a tuple variant.
pub struct Array<'a> {
    out: &'a mut String,
    empty: bool,
    in_variant: bool,
}

impl Array<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        value.serialize(Canonical {
            out: &mut *self.out,
        })
    }

    fn close(self) -> Result<(), JcsError> {
        self.out.push(']');
        if self.in_variant {
            self.out.push('}');
        }
        Ok(())
    }
}

/// The four array-shaped serde traits, each an element at a time then the closing bracket.
macro_rules! array_trait {
    ($($trait:ident :: $method:ident),+ $(,)?) => {
        $(impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = JcsError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
                self.element(value)
            }
            fn end(self) -> Result<(), JcsError> {
                self.close()
            }
        })+
    };
}

array_trait!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

/// A member's key: a struct's field name as is, a map's key as serialized.
enum Key {
    Field(&'static str),
    Owned(String),
}

impl Key {
    fn as_str(&self) -> &str {
        match self {
            Key::Field(k) => k,
            Key::Owned(k) => k,
        }
    }
}

/// An object being written: each member's value goes to `scratch`, and the members are
/// written to `out` in key order when the object ends. `in_variant` closes the one-member
/// object around a struct variant.
pub struct Object<'a> {
    out: &'a mut String,
    scratch: String,
    members: Vec<(Key, Range<usize>)>,
    next_key: Option<Key>,
    in_variant: bool,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut String, len: usize, in_variant: bool) -> Self {
        Self {
            out,
            scratch: String::with_capacity(len * 24),
            members: Vec::with_capacity(len),
            next_key: None,
            in_variant,
        }
    }

    fn member<T: Serialize + ?Sized>(&mut self, key: Key, value: &T) -> Result<(), JcsError> {
        let start = self.scratch.len();
        value.serialize(Canonical {
            out: &mut self.scratch,
        })?;
        self.members.push((key, start..self.scratch.len()));
        Ok(())
    }

    fn close(mut self) -> Result<(), JcsError> {
        // RFC 8785 §3.2.3: by the UTF-16 code units of the keys. The sort is stable, so of
        // members with one key the last written comes last, and is the one kept, as a
        // `serde_json::Map` keeps the last value inserted under a key.
        self.members
            .sort_by(|a, b| a.0.as_str().encode_utf16().cmp(b.0.as_str().encode_utf16()));
        self.out
            .reserve(self.scratch.len() + self.members.len() * 16 + 2);
        self.out.push('{');
        let mut first = true;
        for (i, (key, value)) in self.members.iter().enumerate() {
            if self
                .members
                .get(i + 1)
                .is_some_and(|(next, _)| next.as_str() == key.as_str())
            {
                continue;
            }
            if !first {
                self.out.push(',');
            }
            first = false;
            write_string(self.out, key.as_str());
            self.out.push(':');
            self.out.push_str(&self.scratch[value.clone()]);
        }
        self.out.push('}');
        if self.in_variant {
            self.out.push('}');
        }
        Ok(())
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = JcsError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), JcsError> {
        self.next_key = Some(Key::Owned(key.serialize(MapKey)?));
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| JcsError::NotJson("map value without a key".into()))?;
        self.member(key, value)
    }

    fn end(self) -> Result<(), JcsError> {
        self.close()
    }
}

/// A struct's and a struct variant's fields: members keyed by their names.
macro_rules! struct_trait {
    ($($trait:ident),+) => {
        $(impl ser::$trait for Object<'_> {
            type Ok = ();
            type Error = JcsError;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), JcsError> {
                self.member(Key::Field(key), value)
            }

            fn end(self) -> Result<(), JcsError> {
                self.close()
            }
        })+
    };
}

struct_trait!(SerializeStruct, SerializeStructVariant);

/// A map key as `serde_json::to_value` takes it: a string, a char, or an integer (written in
/// decimal); anything else is refused, as there.
struct MapKey;

fn key_refused<T>() -> Result<T, JcsError> {
    Err(JcsError::NotJson("key must be a string".into()))
}

macro_rules! integer_keys {
    ($($method:ident: $t:ty),+ $(,)?) => {
        $(fn $method(self, v: $t) -> Result<String, JcsError> {
            Ok(v.to_string())
        })+
    };
}

impl ser::Serializer for MapKey {
    type Ok = String;
    type Error = JcsError;
    type SerializeSeq = ser::Impossible<String, JcsError>;
    type SerializeTuple = ser::Impossible<String, JcsError>;
    type SerializeTupleStruct = ser::Impossible<String, JcsError>;
    type SerializeTupleVariant = ser::Impossible<String, JcsError>;
    type SerializeMap = ser::Impossible<String, JcsError>;
    type SerializeStruct = ser::Impossible<String, JcsError>;
    type SerializeStructVariant = ser::Impossible<String, JcsError>;

    integer_keys!(
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128,
    );

    fn serialize_str(self, v: &str) -> Result<String, JcsError> {
        Ok(v.to_owned())
    }

    fn serialize_char(self, v: char) -> Result<String, JcsError> {
        Ok(v.to_string())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, JcsError> {
        Ok(variant.to_owned())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, JcsError> {
        value.serialize(self)
    }

    fn serialize_bool(self, _v: bool) -> Result<String, JcsError> {
        key_refused()
    }

    fn serialize_f32(self, _v: f32) -> Result<String, JcsError> {
        key_refused()
    }

    fn serialize_f64(self, _v: f64) -> Result<String, JcsError> {
        key_refused()
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<String, JcsError> {
        key_refused()
    }

    fn serialize_none(self) -> Result<String, JcsError> {
        key_refused()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, JcsError> {
        key_refused()
    }

    fn serialize_unit(self) -> Result<String, JcsError> {
        key_refused()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, JcsError> {
        key_refused()
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, JcsError> {
        key_refused()
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, JcsError> {
        key_refused()
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, JcsError> {
        key_refused()
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, JcsError> {
        key_refused()
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, JcsError> {
        key_refused()
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, JcsError> {
        key_refused()
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, JcsError> {
        key_refused()
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, JcsError> {
        key_refused()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::Serialize;

    use super::super::{push_serialized, push_value};

    /// The canonical text `serde_json::to_value` then `push_value` give: the reference.
    fn through_value<T: Serialize>(value: &T) -> String {
        let mut out = String::new();
        push_value(&mut out, &serde_json::to_value(value).unwrap()).unwrap();
        out
    }

    fn direct<T: Serialize>(value: &T) -> String {
        let mut out = String::new();
        push_serialized(&mut out, value).unwrap();
        out
    }

    fn same<T: Serialize + std::fmt::Debug>(value: &T) {
        assert_eq!(direct(value), through_value(value), "{value:?}");
    }

    #[derive(Debug, Serialize)]
    struct Inner {
        zeta: u8,
        alpha: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
    }

    #[derive(Debug, Serialize)]
    enum External {
        Unit,
        Newtype(i32),
        Tuple(u8, String),
        Struct { b: bool, a: f64 },
    }

    #[derive(Debug, Serialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Internal {
        Plain,
        WithFields { value: u64, note: String },
        Wrapping(Inner),
    }

    #[derive(Debug, Serialize)]
    #[serde(tag = "t", content = "c")]
    enum Adjacent {
        Number(i64),
        Pair(u8, u8),
    }

    #[derive(Debug, Serialize)]
    #[serde(untagged)]
    enum Untagged {
        Text(String),
        Many(Vec<u16>),
    }

    #[derive(Debug, Serialize)]
    struct Flattened {
        own: &'static str,
        #[serde(flatten)]
        extra: BTreeMap<String, u32>,
        #[serde(flatten)]
        inner: Inner,
    }

    #[derive(Debug, Serialize)]
    struct Wrapper(String);

    #[derive(Debug, Serialize)]
    struct Empty;

    #[derive(Debug, Serialize)]
    struct Zoo {
        text: String,
        escapes: &'static str,
        inner: Inner,
        list: Vec<External>,
        internal: Vec<Internal>,
        adjacent: Vec<Adjacent>,
        untagged: Vec<Untagged>,
        flattened: Flattened,
        wrapper: Wrapper,
        empty: Empty,
        unit: (),
        tuple: (i8, u128, char),
        #[serde(with = "serde_bytes_as_slice")]
        bytes: Vec<u8>,
        map: HashMap<String, Option<bool>>,
        int_keys: BTreeMap<u64, &'static str>,
        char_keys: BTreeMap<char, i16>,
        nested: Vec<Vec<Option<Inner>>>,
    }

    /// Serializes through `serialize_bytes`, as `serde_bytes` would.
    mod serde_bytes_as_slice {
        pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
    }

    #[test]
    fn every_serde_shape_gives_the_bytes_the_value_path_gives() {
        let inner = || Inner {
            zeta: 255,
            alpha: Some("a\u{0}\u{1f}\"\\\u{7f}\u{2028}é😀".into()),
            skipped: None,
        };
        let zoo = Zoo {
            text: "l'entraide".into(),
            escapes: "\u{8}\u{c}\n\r\t/",
            inner: inner(),
            list: vec![
                External::Unit,
                External::Newtype(-7),
                External::Tuple(1, "x".into()),
                External::Struct { b: true, a: 0.1 },
            ],
            internal: vec![
                Internal::Plain,
                Internal::WithFields {
                    value: 3,
                    note: "n".into(),
                },
                Internal::Wrapping(Inner {
                    zeta: 0,
                    alpha: None,
                    skipped: Some(9),
                }),
            ],
            adjacent: vec![Adjacent::Number(-1), Adjacent::Pair(2, 3)],
            untagged: vec![Untagged::Text("t".into()), Untagged::Many(vec![1, 2])],
            flattened: Flattened {
                own: "o",
                extra: [("b".to_owned(), 2), ("zz".to_owned(), 26)].into(),
                inner: inner(),
            },
            wrapper: Wrapper("w".into()),
            empty: Empty,
            unit: (),
            tuple: (i8::MIN, 42, 'ç'),
            bytes: vec![0, 127, 255],
            map: [
                ("\u{20ac}".to_owned(), Some(true)),
                ("\u{1f600}".to_owned(), None),
                ("\u{fb33}".to_owned(), Some(false)),
                ("".to_owned(), None),
                ("\r".to_owned(), Some(true)),
            ]
            .into(),
            int_keys: [(10, "ten"), (9, "nine"), (u64::MAX, "max")].into(),
            char_keys: [('b', 1), ('a', -1)].into(),
            nested: vec![vec![], vec![None, Some(inner())]],
        };
        same(&zoo);
    }

    /// Numbers as JCS writes them: integers up to 2^53 as digits, beyond as doubles, doubles in
    /// ECMAScript form, non-finite ones as `null` (as `to_value` makes them).
    #[test]
    fn numbers_at_every_edge_give_the_bytes_the_value_path_gives() {
        same(&[0u64, 1, (1 << 53) - 1, 1 << 53, (1 << 53) + 1, u64::MAX]);
        same(&[i64::MIN, -(1 << 53) - 1, -(1 << 53), -1]);
        same(&[u128::from(u64::MAX)]);
        same(&[i128::from(i64::MIN), i128::from(u64::MAX)]);
        same(&[
            0.0,
            -0.0,
            1e21,
            1e-7,
            123456789.125,
            5e-324,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]);
        same(&[0.1f32, f32::MAX, f32::NAN]);
    }

    /// A key written twice (here by two flattened maps) keeps its last value, as in a
    /// `serde_json::Map`.
    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        #[derive(Debug, Serialize)]
        struct Twice {
            #[serde(flatten)]
            first: BTreeMap<&'static str, u8>,
            #[serde(flatten)]
            second: BTreeMap<&'static str, u8>,
        }
        let twice = Twice {
            first: [("k", 1), ("a", 0)].into(),
            second: [("k", 2)].into(),
        };
        same(&twice);
        assert_eq!(direct(&twice), r#"{"a":0,"k":2}"#);
    }

    #[test]
    fn keys_json_cannot_hold_are_refused() {
        let mut out = String::new();
        let by_bytes: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        assert!(push_serialized(&mut out, &by_bytes).is_err());
        assert!(push_serialized(&mut out, &u128::MAX).is_err());
        assert!(serde_json::to_value(by_bytes).is_err());
    }
}
