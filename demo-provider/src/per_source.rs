//! [`PerSource`], a table whose entries each belong to the [`Source`] that created them, and
//! which counts them per source as they come and go, so a source's share can be checked in
//! constant time (the pending consent screens are one; see `authorize`).

use std::collections::HashMap;

use crate::source::Source;

/// Entries by key, each with the source that created it, and how many each source holds.
/// Every way in and out goes through its methods, so the counts are always the table's.
#[derive(Debug)]
pub struct PerSource<V> {
    entries: HashMap<String, (Source, V)>,
    /// Only sources holding at least one entry: this map is never larger than `entries`.
    counts: HashMap<Source, usize>,
}

impl<V> Default for PerSource<V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            counts: HashMap::new(),
        }
    }
}

impl<V> PerSource<V> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries `source` holds.
    pub fn of_source(&self, source: Source) -> usize {
        self.counts.get(&source).copied().unwrap_or(0)
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key).map(|(_, v)| v)
    }

    /// Adds (or replaces) the entry at `key`, counted for `source`.
    pub fn insert(&mut self, key: String, source: Source, value: V) {
        if let Some((old, _)) = self.entries.insert(key, (source, value)) {
            self.uncount(old);
        }
        *self.counts.entry(source).or_default() += 1;
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        let (source, value) = self.entries.remove(key)?;
        self.uncount(source);
        Some(value)
    }

    /// Keeps only the entries `keep` says yes to: one pass.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &V) -> bool) {
        let counts = &mut self.counts;
        self.entries.retain(|key, (source, value)| {
            let kept = keep(key, value);
            if !kept {
                uncount(counts, *source);
            }
            kept
        });
    }

    fn uncount(&mut self, source: Source) {
        uncount(&mut self.counts, source);
    }
}

fn uncount(counts: &mut HashMap<Source, usize>, source: Source) {
    if let Some(n) = counts.get_mut(&source) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.remove(&source);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(last: u8) -> Source {
        Source::of(Some([192, 0, 2, last].into()))
    }

    #[test]
    fn counts_follow_inserts_removals_replacements_and_retain() {
        let (a, b) = (source(1), source(2));
        let mut table = PerSource::default();
        for i in 0..5 {
            table.insert(format!("a{i}"), a, i);
        }
        table.insert("b0".into(), b, 0);
        assert_eq!(
            (table.len(), table.of_source(a), table.of_source(b)),
            (6, 5, 1)
        );

        assert_eq!(table.remove("a0"), Some(0));
        assert_eq!(table.remove("a0"), None, "removed once only");
        // The same key again, now from b: it moves from a's count to b's.
        table.insert("a1".into(), b, 1);
        assert_eq!(
            (table.len(), table.of_source(a), table.of_source(b)),
            (5, 3, 2)
        );

        table.retain(|_, v| *v >= 3);
        assert_eq!(
            (table.len(), table.of_source(a), table.of_source(b)),
            (2, 2, 0)
        );
        assert!(
            table.counts.len() == 1,
            "a source without entries is forgotten"
        );
        assert_eq!(table.get("a4"), Some(&4));
    }
}
