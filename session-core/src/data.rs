//! A session's data map, shared between copies until one of them changes.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::record::Value;

/// The map behind [`Data`].
pub type DataMap = BTreeMap<String, Value>;

static EMPTY: DataMap = BTreeMap::new();

/// A session's data: string keys to JSON values.
///
/// Reads go through `Deref` to a [`BTreeMap`]. Copies are cheap: a clone
/// shares the map, and the first change to a shared map copies it
/// (copy on write). A store that keeps records in memory can hand the
/// request a record without copying its map, and a request that only reads
/// never copies it at all. An empty `Data` from `new`, `default`, `clear`
/// or an empty iterator holds no allocation. Mutable access through
/// `DerefMut` (`retain`, `get_mut`, `entry`) copies a shared map first.
///
/// ```
/// use session_core::Data;
///
/// let mut a: Data = [("user".to_owned(), "\"alice\"".into())].into_iter().collect();
/// let b = a.clone(); // shares the map
/// a.insert("theme".to_owned(), "\"dark\"".into()); // copies it first
/// assert_eq!(a.len(), 2);
/// assert_eq!(b.len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct Data(Option<Arc<DataMap>>);

impl Data {
    /// An empty map.
    pub const fn new() -> Self {
        Self(None)
    }

    /// Sets `key`, returning the value it replaced.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        self.make_mut().insert(key, value)
    }

    /// Sets `key` to `value`, copying the key only when it is new (a write
    /// usually changes a key that is there already).
    pub fn set(&mut self, key: &str, value: &Value) {
        let map = self.make_mut();
        match map.get_mut(key) {
            Some(slot) => slot.clone_from(value),
            None => {
                map.insert(key.to_owned(), value.clone());
            }
        }
    }

    /// Removes `key`, returning its value. Copies a shared map only when
    /// the key is there.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        if self.contains_key(key) {
            self.make_mut().remove(key)
        } else {
            None
        }
    }

    /// Removes every key, without copying a shared map.
    pub fn clear(&mut self) {
        self.0 = None;
    }

    /// The map, copied out only if another `Data` still shares it.
    pub fn into_map(self) -> DataMap {
        match self.0 {
            None => DataMap::new(),
            Some(map) => Arc::unwrap_or_clone(map),
        }
    }

    fn make_mut(&mut self) -> &mut DataMap {
        Arc::make_mut(self.0.get_or_insert_with(Default::default))
    }
}

impl Deref for Data {
    type Target = DataMap;

    fn deref(&self) -> &DataMap {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl DerefMut for Data {
    fn deref_mut(&mut self) -> &mut DataMap {
        self.make_mut()
    }
}

impl PartialEq for Data {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Data {}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl From<DataMap> for Data {
    fn from(map: DataMap) -> Self {
        if map.is_empty() {
            Self(None)
        } else {
            Self(Some(Arc::new(map)))
        }
    }
}

impl<const N: usize> From<[(String, Value); N]> for Data {
    fn from(entries: [(String, Value); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl FromIterator<(String, Value)> for Data {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        DataMap::from_iter(iter).into()
    }
}

impl Extend<(String, Value)> for Data {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        let mut iter = iter.into_iter().peekable();
        if iter.peek().is_some() {
            self.make_mut().extend(iter);
        }
    }
}

impl IntoIterator for Data {
    type Item = (String, Value);
    type IntoIter = std::collections::btree_map::IntoIter<String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_map().into_iter()
    }
}

impl<'a> IntoIterator for &'a Data {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::collections::btree_map::Iter<'a, String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        Value::from(s)
    }

    #[test]
    fn set_replaces_or_inserts_and_leaves_a_shared_copy_alone() {
        let mut a = Data::from_iter([("x".to_owned(), v("1"))]);
        let b = a.clone();
        a.set("x", &v("2"));
        a.set("y", &v("3"));
        assert_eq!(a.get("x").map(|v| &**v), Some("2"));
        assert_eq!(a.get("y").map(|v| &**v), Some("3"));
        assert_eq!(b.get("x").map(|v| &**v), Some("1"));
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn a_change_to_a_shared_map_leaves_the_other_copy_alone() {
        let mut a = Data::from([("k".to_owned(), v("1"))]);
        let b = a.clone();
        a.insert("k".to_owned(), v("2"));
        a.insert("j".to_owned(), v("3"));
        assert_eq!(b.get("k").map(|x| &**x), Some("1"));
        assert_eq!(b.len(), 1);
        assert_eq!(a.get("k").map(|x| &**x), Some("2"));
        let mut c = b.clone();
        c.remove("k");
        assert!(c.is_empty());
        assert_eq!(b.len(), 1);
        c.extend([("x".to_owned(), v("4"))]);
        assert_eq!(c.len(), 1);
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn empty_maps_are_equal_however_they_were_made() {
        let mut cleared = Data::from([("k".to_owned(), v("1"))]);
        cleared.clear();
        let mut removed = Data::from([("k".to_owned(), v("1"))]);
        removed.remove("k");
        assert_eq!(cleared, Data::new());
        assert_eq!(removed, Data::new());
        assert_eq!(Data::from(DataMap::new()), Data::default());
        assert!(Data::new().remove("missing").is_none());
    }

    #[test]
    fn into_iter_yields_every_entry_in_key_order() {
        let data: Data = [("b".to_owned(), v("2")), ("a".to_owned(), v("1"))]
            .into_iter()
            .collect();
        let shared = data.clone();
        let keys: Vec<String> = data.into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(shared.len(), 2);
    }
}
