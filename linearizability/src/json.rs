//! Just enough JSON writing for the HTML page's embedded data.

use std::fmt::Write as _;

/// Appends `text` as a JSON string literal that is also safe inside an HTML `<script>`
/// element: `<`, `>` and `&` are written as `\u` escapes, so no `</script>` or `<!--`
/// can end the element early.
pub(crate) fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => push_unicode_escape(out, c),
            c if u32::from(c) < 0x20 => push_unicode_escape(out, c),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_unicode_escape(out: &mut String, c: char) {
    write!(out, "\\u{:04x}", u32::from(c)).expect("writing to a String cannot fail");
}

/// Appends `items` as a JSON array of numbers.
pub(crate) fn push_numbers(out: &mut String, items: impl IntoIterator<Item = i64>) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write!(out, "{item}").expect("writing to a String cannot fail");
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_for_json_inside_html() {
        let mut out = String::new();
        push_string(&mut out, "a\"b\\c\n</script><b>&\u{1}");
        assert_eq!(
            out,
            r#""a\"b\\c\n\u003c/script\u003e\u003cb\u003e\u0026\u0001""#
        );
    }

    #[test]
    fn numbers_are_comma_separated() {
        let mut out = String::new();
        push_numbers(&mut out, [1, -2, 3]);
        assert_eq!(out, "[1,-2,3]");
    }
}
