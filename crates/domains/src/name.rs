//! Host-name normalisation: the one form in which names are compared.
//!
//! ASCII letters are lower-cased and one trailing dot is dropped. Internationalised names are
//! compared in punycode: a name captured in Unicode (an HTTP Host, an SNI that breaks the rules)
//! is converted with UTS #46 (the `idna` crate, as browsers do), so `bücher.example` and
//! `xn--bcher-kva.example` are the same name; rules for IDNs may be written either way.

/// Longest name accepted, in bytes, in text form without the trailing dot (RFC 1035).
pub const MAX_NAME_LEN: usize = 253;
/// Longest label accepted, in bytes (RFC 1035).
pub const MAX_LABEL_LEN: usize = 63;

/// Why a host name was rejected by [`normalize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty (or only a dot).
    #[error("empty name")]
    Empty,
    /// Longer than [`MAX_NAME_LEN`] bytes.
    #[error("name longer than 253 bytes")]
    TooLong,
    /// Two dots in a row, or a leading dot.
    #[error("empty label")]
    EmptyLabel,
    /// A label longer than [`MAX_LABEL_LEN`] bytes.
    #[error("label longer than 63 bytes")]
    LabelTooLong,
    /// Contains whitespace, a control character, `/` or another byte that cannot be in a host.
    #[error("invalid character in name")]
    BadChar,
    /// A Unicode name that IDNA (UTS #46) rejects.
    #[error("invalid internationalised name")]
    BadIdn,
}

/// Returns the normalised form of `name`: ASCII lower case, one trailing dot removed, Unicode
/// names in punycode.
///
/// Rejects empty names and labels, names over 253 bytes, labels over 63 bytes (both measured in
/// the punycode form) and characters that cannot appear in a host name (whitespace, control
/// characters, `/`, `:`, `@`, ...).
pub fn normalize(name: &str) -> Result<String, NameError> {
    let ascii;
    let name = if name.is_ascii() {
        name
    } else {
        if name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "/\\:@?#%\"<>[]{}|".contains(c))
        {
            return Err(NameError::BadChar);
        }
        ascii = idna::domain_to_ascii(name).map_err(|_| NameError::BadIdn)?;
        ascii.as_str()
    };
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Err(NameError::Empty);
    }
    if trimmed.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong);
    }
    for label in trimmed.split('.') {
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong);
        }
    }
    if trimmed
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "/\\:@?#%\"<>[]{}|".contains(c))
    {
        return Err(NameError::BadChar);
    }
    Ok(trimmed.to_ascii_lowercase())
}

/// Iterates over `name` and each of its parent suffixes, longest first:
/// `a.b.c` yields `a.b.c`, `b.c`, `c`. `name` must already be normalised.
pub(crate) fn suffixes(name: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(name);
    std::iter::from_fn(move || {
        let cur = next?;
        next = cur.split_once('.').map(|(_, rest)| rest);
        Some(cur)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_cases_and_drops_one_trailing_dot() {
        assert_eq!(normalize("WWW.Apple.COM.").unwrap(), "www.apple.com");
        assert_eq!(normalize("apple.com").unwrap(), "apple.com");
        assert_eq!(normalize("apple.com.."), Err(NameError::EmptyLabel));
    }

    #[test]
    fn rejects_bad_names() {
        assert_eq!(normalize(""), Err(NameError::Empty));
        assert_eq!(normalize("."), Err(NameError::Empty));
        assert_eq!(normalize("a..b"), Err(NameError::EmptyLabel));
        assert_eq!(normalize(".a.b"), Err(NameError::EmptyLabel));
        assert_eq!(normalize(&"a".repeat(64)), Err(NameError::LabelTooLong));
        assert_eq!(normalize("a b.com"), Err(NameError::BadChar));
        assert_eq!(normalize("a.com/x"), Err(NameError::BadChar));
    }

    #[test]
    fn length_limit_is_253_bytes() {
        // 4 labels of 63 bytes and dots: 63*4 + 3 = 255; build exactly 253 instead.
        let label = "a".repeat(63);
        let name = format!("{label}.{label}.{label}.{}", "b".repeat(61));
        assert_eq!(name.len(), 253);
        assert_eq!(normalize(&name).unwrap().len(), 253);
        assert_eq!(normalize(&format!("{name}.")).unwrap().len(), 253);
        let long = format!("{label}.{label}.{label}.{}", "b".repeat(62));
        assert_eq!(normalize(&long), Err(NameError::TooLong));
    }

    #[test]
    fn idns_compare_in_punycode() {
        assert_eq!(
            normalize("BÜCHER.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            normalize("bücher.example.").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            normalize("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        // Full-width dots and letters fold as UTS #46 says.
        assert_eq!(normalize("ａｐｐｌｅ。com").unwrap(), "apple.com");
        assert_eq!(normalize("bü cher.example"), Err(NameError::BadChar));
        // 63 bytes of punycode is the label limit, not 63 characters of Unicode.
        assert_eq!(
            normalize(&format!("{}.example", "ü".repeat(60))),
            Err(NameError::LabelTooLong)
        );
    }

    #[test]
    fn suffixes_walk_label_by_label() {
        let all: Vec<_> = suffixes("a.b.c").collect();
        assert_eq!(all, ["a.b.c", "b.c", "c"]);
    }
}
