//! The `instructors` markers: how a file of the instructors' tree says which of its lines
//! the students' handout leaves out, and which it adds.
//!
//! The markers are comments, so both trees build from the same file, and the handout is
//! made by a few fixed rules instead of edits that search for particular code:
//!
//! - a comment line `instructors` (or `instructors: why`) up to the comment line
//!   `/instructors`: a block the handout leaves out, markers included;
//! - a line of code ending with the comment `instructors`: that line is left out;
//! - a comment line `students: TEXT`: the handout has `TEXT` there (at the comment's
//!   indentation) — the students' version of a line left out;
//! - in Markdown, a comment opened by the line `<!-- students` and closed by the line
//!   `-->`: the handout has the lines between (invisible in the instructors' tree).
//!
//! A handout made with the reference Raft (`grader handout --raft-reference`, for Labs 3
//! and 4) follows two more rules ([`Options`]):
//!
//! - in Markdown, a comment opened by the line `<!-- raft-reference` and closed by `-->`:
//!   that handout has the lines between (the students' instructions for the reference Raft);
//!   every other handout leaves them out, since it has no reference Raft to use; a line
//!   ending with the comment `<!-- raft-reference -->` likewise (e.g. a table row, which
//!   the instructors' tree shows too);
//! - in the few files whose instructors' lines all concern the reference Raft
//!   ([`Options::keep_instructors`], listed in `crate::layout`), the instructors' version
//!   is kept: blocks and marked lines stay (their markers go), `students:` lines and
//!   `<!-- students` blocks go.
//!
//! A handout made with the reference rsm too (`grader handout --rsm-reference`, for Lab 4)
//! follows two more:
//!
//! - a comment line `rsm-reference` (or `rsm-reference: why`) up to the comment line
//!   `/rsm-reference`, and a line of code ending with the comment `rsm-reference`: lines
//!   that handout has (without their markers), and every other handout leaves out. They
//!   are code of the instructors' tree too, so the students' version of such a line is
//!   written after it, unmarked, under the opposite `cfg`;
//! - in Markdown, `<!-- rsm-reference` blocks and lines ending with `<!-- rsm-reference
//!   -->`, as the `raft-reference` ones.
//!
//! A comment is `// …` (Rust; not `///` or `//!`), `# …` (TOML, shell) or `<!-- … -->`
//! (Markdown). An unclosed or nested block is an error, never a silent leak.

/// A file's text as the handout has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The handout's text.
    pub text: String,
    /// How many markers it applied (blocks, marked lines and `students` lines).
    pub markers: usize,
}

/// The text of a line that is only a comment, if it is one.
fn comment(line: &str) -> Option<&str> {
    let line = line.trim();
    if let Some(inner) = line
        .strip_prefix("<!--")
        .and_then(|rest| rest.strip_suffix("-->"))
    {
        return Some(inner.trim());
    }
    if line.starts_with("///") || line.starts_with("//!") {
        return None;
    }
    if let Some(rest) = line.strip_prefix("//") {
        return Some(rest.trim());
    }
    if line == "#" {
        return Some("");
    }
    line.strip_prefix("# ").map(str::trim)
}

fn opens_block(comment: &str) -> bool {
    comment == "instructors" || comment.starts_with("instructors:")
}

/// Whether a line of code ends with the comment `instructors`.
fn ends_with_marker(line: &str) -> bool {
    let line = line.trim_end();
    ["// instructors", "# instructors", "<!-- instructors -->"]
        .iter()
        .any(|marker| line.ends_with(marker) && line.len() > marker.len())
}

/// The text of a Markdown line that ends with the comment `<!-- raft-reference -->`, without
/// it: a line only a handout with the reference Raft has (and the instructors' tree, where
/// the comment is invisible).
fn raft_reference_line(line: &str) -> Option<&str> {
    line_marked(line, &["<!-- raft-reference -->"])
}

/// The text of a line that ends with the comment `rsm-reference` (Rust, TOML or Markdown),
/// without it: a line only a handout with the reference rsm has (and the instructors' tree).
fn rsm_reference_line(line: &str) -> Option<&str> {
    line_marked(
        line,
        &[
            "// rsm-reference",
            "# rsm-reference",
            "<!-- rsm-reference -->",
        ],
    )
}

/// The text of `line` without the first of `markers` it ends with, if it has more than it.
fn line_marked<'a>(line: &'a str, markers: &[&str]) -> Option<&'a str> {
    let line = line.trim_end();
    markers.iter().find_map(|marker| {
        line.strip_suffix(marker)
            .filter(|rest| !rest.trim().is_empty())
            .map(str::trim_end)
    })
}

fn opens_rsm_block(comment: &str) -> bool {
    comment == "rsm-reference" || comment.starts_with("rsm-reference:")
}

/// The `TEXT` of a comment line `students: TEXT`, with the comment's indentation.
fn students_line(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let rest = ["// students:", "# students:"]
        .iter()
        .find_map(|prefix| trimmed.strip_prefix(prefix))?;
    Some(format!(
        "{indent}{}",
        rest.strip_prefix(' ').unwrap_or(rest)
    ))
}

/// Which handout a file is rewritten for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// The handout has the reference Raft (`grader handout --raft-reference`): its
    /// `<!-- raft-reference` blocks are in it.
    pub raft_reference: bool,
    /// The handout has the reference rsm too (`grader handout --rsm-reference`): its
    /// `rsm-reference` blocks and lines are in it.
    pub rsm_reference: bool,
    /// Keep the instructors' version of the file (only with `raft_reference`, for the files
    /// whose instructors' lines are all about the reference Raft).
    pub keep_instructors: bool,
}

/// The text of a line of code that ends with the comment `instructors`, without it.
fn without_marker(line: &str) -> &str {
    let line = line.trim_end();
    ["// instructors", "# instructors", "<!-- instructors -->"]
        .iter()
        .find_map(|marker| line.strip_suffix(marker))
        .map_or(line, str::trim_end)
}

/// Applies the markers of `text` (the file `path`, named in errors) for the usual
/// students' tree.
pub fn rewrite(path: &str, text: &str) -> Result<Rewritten, String> {
    rewrite_with(path, text, Options::default())
}

/// Applies the markers of `text` (the file `path`, named in errors) for the handout
/// `options` describe.
pub fn rewrite_with(path: &str, text: &str, options: Options) -> Result<Rewritten, String> {
    let keep_instructors = options.raft_reference && options.keep_instructors;
    let mut out = Vec::new();
    let mut markers = 0;
    // The line where the open block began, if one is open.
    let mut instructors_block: Option<usize> = None;
    // The line where an open `rsm-reference` block began, if one is open.
    let mut rsm_block: Option<usize> = None;
    // The line where an open `<!-- students` or `<!-- raft-reference` block began, and
    // whether this handout has its lines.
    let mut students_block: Option<(usize, bool)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let error = |what: &str| Err(format!("{path}:{number}: {what}"));
        if let Some((start, shown)) = students_block {
            if line.trim() == "-->" {
                students_block = None;
            } else if line.contains("<!--") {
                return error(&format!(
                    "a comment inside the students' block opened at line {start}"
                ));
            } else if shown {
                out.push(line.to_owned());
            }
            continue;
        }
        let comment = comment(line);
        let opened = match line.trim() {
            "<!-- students" => Some(!keep_instructors),
            "<!-- raft-reference" => Some(options.raft_reference),
            "<!-- rsm-reference" => Some(options.rsm_reference),
            _ => None,
        };
        if let Some(shown) = opened {
            if let Some(start) = instructors_block.or(rsm_block) {
                return error(&format!(
                    "a students' block inside the block opened at line {start}"
                ));
            }
            students_block = Some((number, shown));
            markers += 1;
            continue;
        }
        match comment {
            Some(text) if opens_block(text) || opens_rsm_block(text) => {
                if let Some(start) = instructors_block.or(rsm_block) {
                    return error(&format!(
                        "a block opens inside the one opened at line {start}"
                    ));
                }
                if opens_block(text) {
                    instructors_block = Some(number);
                } else {
                    rsm_block = Some(number);
                }
                markers += 1;
                continue;
            }
            Some("/instructors") => {
                if instructors_block.take().is_none() {
                    return error("`/instructors` closes no block");
                }
                continue;
            }
            Some("/rsm-reference") => {
                if rsm_block.take().is_none() {
                    return error("`/rsm-reference` closes no block");
                }
                continue;
            }
            _ => {}
        }
        if rsm_block.is_some() {
            if options.rsm_reference {
                out.push(line.to_owned());
            }
            continue;
        }
        if let Some(kept) = rsm_reference_line(line) {
            // Outside an instructors' block, with the reference rsm; inside one, only where
            // the instructors' version is kept too.
            let kept_here =
                options.rsm_reference && (instructors_block.is_none() || keep_instructors);
            if kept_here {
                out.push(kept.to_owned());
            }
            markers += 1;
            continue;
        }
        if let Some(kept) = raft_reference_line(line) {
            // Outside an instructors' block, with the reference Raft; inside one, as the
            // block goes.
            let kept_here = match instructors_block {
                None => options.raft_reference,
                Some(_) => keep_instructors,
            };
            if kept_here {
                out.push(kept.to_owned());
            }
            markers += 1;
        } else if let Some(revealed) = students_line(line) {
            if !keep_instructors {
                out.push(revealed);
            }
            markers += 1;
        } else if instructors_block.is_some() {
            if keep_instructors {
                out.push(line.to_owned());
            }
        } else if ends_with_marker(line) {
            if keep_instructors {
                out.push(without_marker(line).to_owned());
            }
            markers += 1;
        } else {
            out.push(line.to_owned());
        }
    }
    if let Some(start) = instructors_block {
        return Err(format!(
            "{path}:{start}: the instructors' block opened here is never closed (`/instructors`)"
        ));
    }
    if let Some(start) = rsm_block {
        return Err(format!(
            "{path}:{start}: the rsm-reference block opened here is never closed \
             (`/rsm-reference`)"
        ));
    }
    if let Some((start, _)) = students_block {
        return Err(format!(
            "{path}:{start}: the students' block opened here is never closed (`-->`)"
        ));
    }
    let mut text_out = out.join("\n");
    if text.ends_with('\n') {
        text_out.push('\n');
    }
    Ok(Rewritten {
        text: text_out,
        markers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handout(text: &str) -> String {
        rewrite("file", text).expect("well-marked").text
    }

    #[test]
    fn rust_blocks_lines_and_students_lines() {
        let text = "\
mod apply;
// instructors: the reference
#[cfg(feature = \"reference\")]
mod reference;
// /instructors
#[cfg(not(feature = \"reference\"))] // instructors
mod skeleton;
    pub const IS_REFERENCE: bool = cfg!(feature = \"reference\"); // instructors
    // students: pub const IS_REFERENCE: bool = false;
/// docs stay
//! docs stay
";
        assert_eq!(
            handout(text),
            "mod apply;\nmod skeleton;\n    pub const IS_REFERENCE: bool = false;\n/// docs stay\n//! docs stay\n"
        );
        assert_eq!(rewrite("f", text).unwrap().markers, 4);
    }

    #[test]
    fn toml_shell_and_markdown() {
        assert_eq!(
            handout("[features]\n# instructors\nreference = []\n# /instructors\nx = 1\n"),
            "[features]\nx = 1\n"
        );
        assert_eq!(
            handout(
                "a\n<!-- instructors -->\nsecret\n<!-- /instructors -->\nrow | <!-- instructors -->\nb"
            ),
            "a\nb"
        );
        assert_eq!(
            handout("a\n<!-- students\n```sh\ncargo test\n```\n-->\nb\n"),
            "a\n```sh\ncargo test\n```\nb\n"
        );
        // `#[attr]` and `#!` are code, not comments.
        assert_eq!(handout("#[test]\n#!/bin/sh\n"), "#[test]\n#!/bin/sh\n");
    }

    #[test]
    fn raft_reference_blocks_only_in_a_handout_with_the_reference_raft() {
        let text = "a\n<!-- raft-reference\nuse --features raft-reference\n-->\nb\n\
                    | `--raft-reference` | row | <!-- raft-reference -->\n";
        assert_eq!(handout(text), "a\nb\n");
        let with = Options {
            raft_reference: true,
            ..Options::default()
        };
        assert_eq!(
            rewrite_with("f.md", text, with).unwrap().text,
            "a\nuse --features raft-reference\nb\n| `--raft-reference` | row |\n"
        );
        // The instructors' blocks still go from such a file.
        let mixed = "a\n<!-- instructors -->\nsecret\n<!-- /instructors -->\nb\n";
        assert_eq!(rewrite_with("f.md", mixed, with).unwrap().text, "a\nb\n");
    }

    #[test]
    fn keeping_the_instructors_version_drops_only_the_markers_and_students_lines() {
        let text = "\
// instructors: the reference
#[cfg(feature = \"reference\")]
mod reference;
// /instructors
#[cfg(not(feature = \"reference\"))] // instructors
mod skeleton;
description = \"both\" # instructors
# students: description = \"yours\"
";
        let keep = Options {
            raft_reference: true,
            keep_instructors: true,
            ..Options::default()
        };
        assert_eq!(
            rewrite_with("f", text, keep).unwrap().text,
            "#[cfg(feature = \"reference\")]\nmod reference;\n\
             #[cfg(not(feature = \"reference\"))]\nmod skeleton;\ndescription = \"both\"\n"
        );
        // Only in a handout with the reference Raft.
        let alone = Options {
            keep_instructors: true,
            ..Options::default()
        };
        assert_eq!(
            rewrite_with("f", text, alone).unwrap().text,
            rewrite("f", text).unwrap().text
        );
    }

    #[test]
    fn rsm_reference_lines_only_in_a_handout_with_the_reference_rsm() {
        let text = "\
# rsm-reference: the reference rsm alone
[features]
rsm-reference = []
# /rsm-reference
#[cfg(not(feature = \"rsm-reference\"))] // rsm-reference
pub use skeleton::Rsm;
// instructors
secret
(kvraft::IS_RSM_REFERENCE, \"rsm-reference\"), // rsm-reference
// /instructors
<!-- rsm-reference
run it with --features rsm-reference
-->
| `--rsm-reference` | row | <!-- rsm-reference -->
";
        assert_eq!(handout(text), "pub use skeleton::Rsm;\n");
        let raft = Options {
            raft_reference: true,
            ..Options::default()
        };
        assert_eq!(rewrite_with("f", text, raft).unwrap().text, handout(text));
        let rsm = Options {
            raft_reference: true,
            rsm_reference: true,
            keep_instructors: false,
        };
        assert_eq!(
            rewrite_with("f", text, rsm).unwrap().text,
            "[features]\nrsm-reference = []\n#[cfg(not(feature = \"rsm-reference\"))]\n\
             pub use skeleton::Rsm;\nrun it with --features rsm-reference\n\
             | `--rsm-reference` | row |\n"
        );
        // In a file kept in its instructors' version, a marked line inside an instructors'
        // block is kept only with the reference rsm.
        let kept = Options {
            keep_instructors: true,
            ..rsm
        };
        let with_rsm = rewrite_with("f", text, kept).unwrap().text;
        assert!(with_rsm.contains("secret\n(kvraft::IS_RSM_REFERENCE, \"rsm-reference\"),\n"));
        let without = rewrite_with(
            "f",
            text,
            Options {
                keep_instructors: true,
                ..raft
            },
        )
        .unwrap()
        .text;
        assert!(without.contains("secret\n") && !without.contains("IS_RSM_REFERENCE"));
    }

    #[test]
    fn a_bad_block_is_an_error_naming_the_line() {
        let unclosed = rewrite("f.rs", "a\n// instructors\nb\n").unwrap_err();
        assert!(unclosed.contains("f.rs:2") && unclosed.contains("never closed"));
        let nested = rewrite("f.rs", "// instructors\n// instructors\n// /instructors\n");
        assert!(nested.unwrap_err().contains("f.rs:2"));
        assert!(rewrite("f.rs", "// /instructors\n").is_err());
        assert!(rewrite("f.md", "<!-- students\nx\n").is_err());
        assert!(rewrite("f.md", "<!-- raft-reference\nx\n").is_err());
        assert!(rewrite("f.rs", "// rsm-reference\nx\n").is_err());
        assert!(rewrite("f.rs", "// /rsm-reference\n").is_err());
        let nested = rewrite(
            "f.rs",
            "// instructors\n// rsm-reference\n// /rsm-reference\n",
        );
        assert!(nested.unwrap_err().contains("f.rs:2"));
    }

    #[test]
    fn text_without_markers_is_unchanged() {
        let text = "fn main() {}\n// a comment about instructors in general\n";
        assert_eq!(
            rewrite("f", text).unwrap(),
            Rewritten {
                text: text.to_owned(),
                markers: 0
            }
        );
    }
}
