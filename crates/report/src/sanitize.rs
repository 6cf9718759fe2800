//! Neutralising untrusted text: for spreadsheets (formula injection) and for terminals (control
//! characters, escape sequences).

use std::borrow::Cow;

/// Prefixes a cell that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR) with
/// a `'`, as OWASP advises; other cells pass unchanged. Numbers written by phonehome itself do
/// not pass through here, so a negative number stays a number.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// Makes text safe to print on a terminal: control characters (C0, DEL, C1) and Unicode
/// bidirectional overrides are shown as `\xNN` / `\u{NNNN}` instead of being interpreted.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            let n = c as u32;
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:04x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for s in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(s).starts_with('\''), "{s}");
        }
        for s in ["apple.com", "", "1.2.3.4", "x=1"] {
            assert_eq!(csv_cell(s), s);
        }
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(terminal("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(terminal("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(terminal("ok.example"), "ok.example");
        assert_eq!(terminal("\u{9b}"), "\\x9b");
    }
}
