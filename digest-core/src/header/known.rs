//! Gathering the parameters a Digest header names (RFC 7616 §3.3–§3.5) as the grammar reads
//! them: each known name into its slot, a repeated name an error (RFC 9110 §11.2), and the
//! typed reading of one value.

use alloc::collections::BTreeSet;

use super::grammar::{Param, ParamValue, Params};
use crate::error::{ParseError, ParseErrorKind};

/// Reads an optional parameter with `parse`; a value `parse` refuses is
/// [`ParseErrorKind::InvalidValue`] at the value's offset.
pub(crate) fn read_param<T>(
    value: Option<ParamValue<'_>>,
    name: &'static str,
    parse: impl FnOnce(&[u8]) -> Option<T>,
) -> Result<Option<T>, ParseError> {
    value
        .map(|v| {
            parse(&v.unescaped())
                .ok_or_else(|| ParseError::new(ParseErrorKind::InvalidValue(name), v.offset()))
        })
        .transpose()
}

/// The parameters whose names are not in `known`, in order.
pub(crate) fn unknown_params<'a>(
    params: Params<'a>,
    known: &'static [&'static str],
) -> impl Iterator<Item = Param<'a>> + use<'a> {
    params.filter(move |p| !known.iter().any(|k| k.eq_ignore_ascii_case(p.name)))
}

/// The values of the parameters named in `names` (matched ignoring ASCII case), gathered one
/// parameter at a time as the parser reads them, in the order of `names`; and the first
/// parameter name that occurs twice (RFC 9110 §11.2: "Each parameter name MUST only occur
/// once per challenge"), an error once the gathering is [finished](Self::finish).
///
/// Known names are checked through their slot; unknown names go into an ordered set, so the
/// check takes O(n log n) in the field's length whatever the limits. Nothing is allocated
/// unless the field has an unknown parameter.
pub(crate) struct KnownParams<'a, const N: usize> {
    names: &'static [&'static str; N],
    slots: [Option<ParamValue<'a>>; N],
    unknown: BTreeSet<CaselessName<'a>>,
    /// The offset of the first repeated name.
    duplicate: Option<usize>,
}

impl<'a, const N: usize> KnownParams<'a, N> {
    pub(crate) const fn new(names: &'static [&'static str; N]) -> Self {
        Self {
            names,
            slots: [None; N],
            unknown: BTreeSet::new(),
            duplicate: None,
        }
    }

    /// Takes one parameter.
    #[inline]
    pub(crate) fn add(&mut self, p: &Param<'a>) {
        let name = p.name.as_bytes();
        let known = self
            .names
            .iter()
            .position(|n| n.len() == name.len() && n.as_bytes().eq_ignore_ascii_case(name));
        let repeated = match known {
            Some(k) => match self.slots.get_mut(k) {
                Some(slot @ None) => {
                    *slot = Some(p.value);
                    false
                }
                _ => true,
            },
            None => !self.unknown.insert(CaselessName(p.name)),
        };
        if repeated && self.duplicate.is_none() {
            self.duplicate = Some(p.name_offset);
        }
    }

    /// The values, or [`ParseErrorKind::DuplicateParameter`] at the first repeated name.
    pub(crate) fn finish(&self) -> Result<[Option<ParamValue<'a>>; N], ParseError> {
        match self.duplicate {
            Some(offset) => Err(ParseError::new(ParseErrorKind::DuplicateParameter, offset)),
            None => Ok(self.slots),
        }
    }
}

/// A parameter name ordered ignoring ASCII case, for [`KnownParams`]'s set.
#[derive(Debug, Clone, Copy)]
struct CaselessName<'a>(&'a str);

impl CaselessName<'_> {
    fn folded(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.bytes().map(|b| b.to_ascii_lowercase())
    }
}

impl PartialEq for CaselessName<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for CaselessName<'_> {}

impl PartialOrd for CaselessName<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CaselessName<'_> {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.folded().cmp(other.folded())
    }
}
