//! TOML and JSON documents into typed tables, with key-path errors.
//!
//! serde's derived `Deserialize` for a struct also accepts a sequence and
//! fills the fields by position, so `ui = [false, true, "all"]` would set
//! `ui.injection` without naming it. Here a table is accepted only when
//! written as a table: the document root through [`from_toml`] /
//! [`from_json`], nested tables through `#[serde(deserialize_with =
//! "document::table")]` (or [`tables`] for a list of tables).

use crate::config::ConfigError;
use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::marker::PhantomData;

/// A `T` that must be written as a table (a map), never as an array.
pub struct Table<T>(pub T);

struct TableVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for TableVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a table")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TableVisitor(PhantomData)).map(Table)
    }
}

/// `deserialize_with` for a field that is a table.
pub fn table<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Table::deserialize(d).map(|t| t.0)
}

/// `deserialize_with` for a field that is a list of tables.
pub fn tables<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    let list: Vec<Table<T>> = Vec::deserialize(d)?;
    Ok(list.into_iter().map(|t| t.0).collect())
}

/// Parses a TOML document whose root is a `T`. Unknown keys, wrong types
/// and bad values are errors whose `key` is the key path
/// (`network.outbound`, `filesystem.read_only[1]`) and whose message names
/// the value and the line.
pub fn from_toml<T: DeserializeOwned>(text: &str) -> Result<T, ConfigError> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de)
        .map(|t: Table<T>| t.0)
        .map_err(|e| {
            let at = e
                .inner()
                .span()
                .map(|s| crate::ast::line_col_at(text, s.start));
            let mut message = e.inner().message().trim_end().to_string();
            if let Some((line, col)) = at {
                message.push_str(&format!(" (line {line}, column {col})"));
            }
            ConfigError::at(key_path(e.path()), message)
        })
}

/// Parses a JSON document whose root is a `T`, with the same key-path
/// errors as [`from_toml`].
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, ConfigError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let doc: Table<T> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        let mut message = inner.to_string();
        if !message.contains('"') && !message.contains('`') {
            message.push_str(&snippet(text, inner.line(), inner.column()));
        }
        ConfigError::at(key_path(e.path()), message)
    })?;
    de.end().map_err(|e| ConfigError::at("", e.to_string()))?;
    Ok(doc.0)
}

/// serde_path_to_error prints the root as `.`; the contract's key paths are
/// plain (`network.outbound`), and the root is no key at all.
fn key_path(path: &serde_path_to_error::Path) -> String {
    let shown = path.to_string();
    if shown == "." {
        String::new()
    } else {
        shown
    }
}

/// ` (near "3}}")`: the text where serde_json stopped, because some of its
/// messages ("expected value") do not quote the value.
fn snippet(text: &str, line: usize, column: usize) -> String {
    let Some(row) = text.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let rest: String = row
        .chars()
        .skip(column.saturating_sub(1))
        .take(24)
        .collect();
    if rest.trim().is_empty() {
        String::new()
    } else {
        format!(" (near {rest:?})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        a: bool,
        b: bool,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[serde(deserialize_with = "table")]
        inner: Inner,
        #[serde(default, deserialize_with = "tables")]
        list: Vec<Inner>,
    }

    #[test]
    fn tables_are_accepted_as_tables() {
        let doc: Doc =
            from_toml("inner = { a = true, b = false }\n[[list]]\na = true\nb = true\n").unwrap();
        assert_eq!(doc.inner, Inner { a: true, b: false });
        assert_eq!(doc.list, vec![Inner { a: true, b: true }]);
        let doc: Doc = from_json(r#"{"inner": {"a": false, "b": true}}"#).unwrap();
        assert_eq!(doc.inner, Inner { a: false, b: true });
    }

    #[test]
    fn arrays_for_tables_are_refused_naming_the_key() {
        let e = from_toml::<Doc>("inner = [true, false]\n").unwrap_err();
        assert_eq!(e.key, "inner");
        assert!(e.message.contains("expected a table"), "{e}");
        let e = from_toml::<Doc>("inner = { a = true, b = true }\nlist = [[true, true]]\n")
            .unwrap_err();
        assert_eq!(e.key, "list[0]");
        let e = from_json::<Doc>("[{\"a\": true, \"b\": true}]").unwrap_err();
        assert_eq!(e.key, "");
        assert!(e.message.contains("expected a table"), "{e}");
        let e = from_json::<Doc>(r#"{"inner": [true, false]}"#).unwrap_err();
        assert_eq!(e.key, "inner");
    }
}
