//! Pages of a list. Every list the node answers (searches, a case's items and persons, an
//! item's derivations and timeline, access records, transfers) is cut into pages of at most a
//! fixed size, keyed by log seq, with the cursor to ask for the next page: no request's work
//! grows with what the node holds.

use serde::Serialize;

use scelle_verifier::model::FieldError;
use scelle_verifier::t;

use crate::error::ServiceError;

/// The most rows a page holds, unless a list says otherwise.
pub const PAGE_MAX: usize = 100;

/// A page of a list, and the cursor of the next page (`None` on the last one).
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The seq to pass as the list's cursor (`after`, or `before` for lists read newest first)
    /// for the next page.
    pub next: Option<u64>,
}

impl<T> Page<T> {
    /// The page of `rows`, fetched with a limit of [`fetch_limit`]`(size)`: a row beyond `size`
    /// means there is a next page, which starts after the last row kept.
    pub fn cut(mut rows: Vec<T>, size: usize, key: impl Fn(&T) -> i64) -> Self {
        let next = if rows.len() > size {
            rows.truncate(size);
            rows.last().map(|r| key(r).max(0) as u64)
        } else {
            None
        };
        Self { items: rows, next }
    }

    /// The same page with each item turned into what the answer shows.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }

    /// [`Page::map`] with a conversion that may fail.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            next: self.next,
        })
    }
}

/// The limit to fetch a page of `size` rows with: one more, to know whether a next page exists.
pub fn fetch_limit(size: usize) -> i64 {
    size as i64 + 1
}

/// A page size the client asked for (`limit`), between 1 and `max`; `max` when not given.
pub fn size(asked: Option<u64>, max: usize) -> usize {
    asked.map_or(max, |n| n.clamp(1, max as u64) as usize)
}

/// A cursor the client sent (`after` or `before`, a log seq), as storage compares it.
pub fn cursor(field: &'static str, value: Option<u64>) -> Result<Option<i64>, ServiceError> {
    value
        .map(i64::try_from)
        .transpose()
        .map_err(|_| ServiceError::Field(FieldError::new(field, t!("field-too-large"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_beyond_the_size_opens_a_next_page_after_the_last_kept() {
        let page = Page::cut(vec![3, 5, 8], 2, |r| *r);
        assert_eq!(page.items, vec![3, 5]);
        assert_eq!(page.next, Some(5));
        let last = Page::cut(vec![3, 5], 2, |r| *r);
        assert_eq!(last.next, None);
        assert_eq!(Page::cut(Vec::<i64>::new(), 2, |r| *r).next, None);
    }

    #[test]
    fn sizes_stay_within_one_and_the_maximum() {
        assert_eq!(size(None, 100), 100);
        assert_eq!(size(Some(0), 100), 1);
        assert_eq!(size(Some(7), 100), 7);
        assert_eq!(size(Some(u64::MAX), 100), 100);
        assert_eq!(fetch_limit(100), 101);
    }

    #[test]
    fn a_cursor_beyond_storage_range_is_refused() {
        assert_eq!(cursor("after", None).ok(), Some(None));
        assert_eq!(cursor("after", Some(9)).ok(), Some(Some(9)));
        assert!(matches!(
            cursor("after", Some(u64::MAX)),
            Err(ServiceError::Field(_))
        ));
    }
}
