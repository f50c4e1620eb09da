//! Text a student controls, made safe to show.
//!
//! A failure's message comes from the test's output, a build error from the compiler quoting
//! the student's code, a timeline path from the test binary, a file name from the
//! submission: any of them can hold what a terminal or a viewer obeys rather than shows. A
//! panic message once cleared the screen (`ESC[2J ESC[H`) and drew a fake `total 228/228`
//! over the real table. [`clean`] removes all of that; the report applies it where such
//! text enters (see `Report::clean_text`) and each renderer applies it again to what it
//! writes, so a report built some other way (read from JSON, say) is no less safe.

/// `text` without anything a terminal or viewer would act on rather than show:
///
/// - the C0 controls but `'\n'` (a tab becomes a space), DEL and the C1 controls
///   (U+0080–U+009F); an escape sequence (`ESC[2J`, `ESC[31m`, `ESC]0;title BEL`, ...)
///   goes whole, so no `[2J` is left over;
/// - the bidirectional overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069)
///   and marks (U+200E, U+200F, U+061C), which make text display in another order than it
///   is read.
///
/// Whatever it returns, it returns again when given it (cleaning twice is cleaning once).
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            '\u{1b}' => skip_escape(&mut chars),
            // The C1 forms of the sequences that carry text or parameters: CSI, and the
            // strings ended by ST (DCS, SOS, OSC, PM, APC).
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if is_dropped(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// [`clean`], on one line: line breaks become spaces, for text shown where one line is
/// expected (a message, a path, a table cell), so that it cannot start a line of its own.
pub fn clean_line(text: &str) -> String {
    clean(text).replace('\n', " ")
}

/// Whether `c` goes without a trace (the sequences are handled by [`clean`]).
fn is_dropped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}'
        )
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Skips what follows an ESC: a CSI sequence, a string ended by ST, or a short sequence
/// (`ESC 7`, `ESC ( B`). Anything else is text, and stays.
fn skip_escape(chars: &mut Chars<'_>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        Some(' '..='/') => {
            // Intermediate bytes, then a final one (`ESC ( B` selects a character set).
            while chars.next_if(|c| matches!(c, ' '..='/')).is_some() {}
            chars.next_if(|c| matches!(c, '0'..='~'));
        }
        Some('0'..='~') => {
            chars.next();
        }
        _ => {}
    }
}

/// Skips a CSI sequence's parameter and intermediate bytes and its final byte (`2J`,
/// `31m`, `?25l`). A sequence cut short ends at the first character that cannot be in one.
fn skip_csi(chars: &mut Chars<'_>) {
    while chars
        .next_if(|c| matches!(c, '0'..='?' | ' '..='/'))
        .is_some()
    {}
    chars.next_if(|c| matches!(c, '@'..='~'));
}

/// Skips a control string (a window title, a hyperlink's target, ...) up to its end: BEL,
/// ST (`ESC \` or U+009C), or a line break, which stays, so that one unterminated string
/// cannot swallow more than its line.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(&c) = chars.peek() {
        match c {
            '\n' => return,
            '\u{7}' | '\u{9c}' => {
                chars.next();
                return;
            }
            '\u{1b}' => {
                // `ESC \` is ST; any other ESC ends the string too, and starts a sequence
                // of its own, which `clean` then skips.
                let mut ahead = chars.clone();
                ahead.next();
                if ahead.peek() == Some(&'\\') {
                    chars.next();
                    chars.next();
                }
                return;
            }
            _ => {
                chars.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_go_whole() {
        // The fake total that once drew itself over the real table.
        assert_eq!(
            clean("boom\u{1b}[2J\u{1b}[H\u{1b}[1;32mtotal 228/228\u{1b}[0m"),
            "boomtotal 228/228"
        );
        assert_eq!(clean("\u{1b}[?25l\u{1b}[38;5;196mred\u{1b}[m"), "red");
        // A window title (OSC, ended by BEL) and a hyperlink (OSC 8, ended by ST).
        assert_eq!(clean("a\u{1b}]0;owned\u{7}b"), "ab");
        assert_eq!(
            clean("\u{1b}]8;;https://example.com\u{1b}\\link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
        // Short sequences: save the cursor, select a character set, reset the terminal.
        assert_eq!(clean("\u{1b}7x\u{1b}(By\u{1b}cz"), "xyz");
        // The C1 forms.
        assert_eq!(clean("\u{9b}2Jok\u{9d}title\u{9c}!"), "ok!");
        // Unterminated: a string ends at the line's end, an ESC alone just goes.
        assert_eq!(clean("a\u{1b}]0;title\nb"), "a\nb");
        assert_eq!(clean("tail\u{1b}"), "tail");
        // A string cut short by another sequence leaves none of that one either.
        assert_eq!(clean("\u{1b}]0;t\u{1b}[31mred"), "red");
    }

    #[test]
    fn carriage_returns_and_backspaces_cannot_overwrite() {
        assert_eq!(
            clean("seed 3 failed\rtotal 228/228"),
            "seed 3 failedtotal 228/228"
        );
        assert_eq!(clean("fail\u{8}\u{8}\u{8}\u{8}pass"), "failpass");
        assert_eq!(clean("a\r\nb"), "a\nb");
        assert_eq!(
            clean("bell\u{7}\u{0}nul\u{7f}del\u{85}nel"),
            "bellnuldelnel"
        );
        assert_eq!(clean("a\tb"), "a b");
        assert_eq!(clean_line("one\ntwo\r\nthree"), "one two three");
    }

    #[test]
    fn bidirectional_controls_go() {
        // "Trojan source": an override makes `0/100` display reversed, an isolate hides.
        assert_eq!(clean("score \u{202e}001/0\u{202c}"), "score 001/0");
        assert_eq!(clean("\u{2066}a\u{2069}\u{2067}b\u{2068}c\u{2069}"), "abc");
        assert_eq!(clean("x\u{200f}y\u{200e}z\u{61c}"), "xyz");
    }

    #[test]
    fn ordinary_text_is_untouched_and_cleaning_twice_is_cleaning_once() {
        let plain = "assertion `left == right` failed: <é> & 日本 | [x](y) \u{1F600}\nline 2";
        assert_eq!(clean(plain), plain);
        for hostile in [
            "\u{1b}\u{1b}[31mx",
            "\u{1b}[\u{1b}[2Jy",
            "\u{9b}\u{1b}]z\u{7}",
            "a\u{1b}(\u{1b}Bb",
        ] {
            let once = clean(hostile);
            assert_eq!(clean(&once), once, "{hostile:?}");
            assert!(!once.chars().any(is_dropped), "{hostile:?} -> {once:?}");
        }
    }
}
