//! The grader's end of a test child's channel (see labrpc's `grading` module): a fresh
//! key on a pipe, a results file, a page file; and the checking of what comes back.
//!
//! A result line counts only if it carries the HMAC-SHA256 of its text under the child's
//! key. The key exists in the grader and, for the child's lifetime, in labrpc's memory;
//! it was never in a path, an argument or the environment, so lab code that writes lines
//! of its own (to any file it can reach, in any format) cannot make one count.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::{OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// The descriptor numbers labrpc reads (labrpc's `grading::{TICKET_FD, RESULTS_FD,
/// PAGE_FD}`; the grader's tests check they agree).
pub const TICKET_FD: RawFd = 3;
/// See [`TICKET_FD`].
pub const RESULTS_FD: RawFd = 4;
/// See [`TICKET_FD`].
pub const PAGE_FD: RawFd = 5;
/// The variable that tells labrpc a grader gave it the channel.
pub const GRADER_VAR: &str = "LAB_GRADER";
/// How a page written to the page file starts (labrpc's `grading::PAGE_MARK`).
pub const PAGE_MARK: &str = "<!-- labrpc-page\t";

/// One child's channel, grader side.
pub struct Channel {
    key: [u8; 32],
    results: PathBuf,
    page: PathBuf,
}

impl Channel {
    /// A channel with a fresh key whose files are `stem.results` and `stem.page`.
    pub fn new(stem: &Path) -> std::io::Result<Channel> {
        let mut key = [0u8; 32];
        File::open("/dev/urandom")?.read_exact(&mut key)?;
        let with_extension = |ext: &str| {
            let mut path = stem.as_os_str().to_owned();
            path.push(ext);
            PathBuf::from(path)
        };
        Ok(Channel {
            key,
            results: with_extension(".results"),
            page: with_extension(".page"),
        })
    }

    /// The descriptors the child inherits: the key on a pipe (already written and its
    /// write end closed), the results file and the page file, at their numbers.
    pub fn descriptors(&self) -> std::io::Result<Vec<(OwnedFd, RawFd)>> {
        let (reader, mut writer) = std::io::pipe()?;
        writer.write_all(&self.key)?;
        drop(writer);
        // Appending: lines written by any means land after labrpc's, never over them.
        let _ = std::fs::remove_file(&self.results);
        let results = std::fs::OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&self.results)?;
        let page = File::create(&self.page)?;
        Ok(vec![
            (OwnedFd::from(reader), TICKET_FD),
            (OwnedFd::from(results), RESULTS_FD),
            (OwnedFd::from(page), PAGE_FD),
        ])
    }

    /// The signed lines the child wrote, without their signatures, and how many lines were
    /// not signed by it.
    pub fn read_results(&self) -> (String, usize) {
        let text = std::fs::read_to_string(&self.results).unwrap_or_default();
        let mut signed = String::new();
        let mut unsigned = 0;
        for line in text.lines() {
            match line.rsplit_once('\t') {
                Some((body, signature)) if verify(&self.key, body, signature) => {
                    signed.push_str(body);
                    signed.push('\n');
                }
                _ => unsigned += 1,
            }
        }
        (signed, unsigned)
    }

    /// The page the child drew, if it drew one: its test, its seed, and the file.
    pub fn page(&self) -> Option<(String, u64, &Path)> {
        let mut head = [0u8; 512];
        let mut file = File::open(&self.page).ok()?;
        let read = file.read(&mut head).ok()?;
        let head = std::str::from_utf8(&head[..read]).ok().or_else(|| {
            // A page longer than the head may cut a character: only the first line matters.
            let end = head[..read].iter().position(|&b| b == b'\n')?;
            std::str::from_utf8(&head[..end]).ok()
        })?;
        let first = head.lines().next()?.strip_prefix(PAGE_MARK)?;
        let (test, seed) = first.strip_suffix(" -->")?.split_once('\t')?;
        Some((test.to_owned(), seed.parse().ok()?, &self.page))
    }

    /// Removes the channel's files.
    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.results);
        let _ = std::fs::remove_file(&self.page);
    }
}

/// Whether `signature` is the HMAC-SHA256 of `body` under `key`, in hex.
fn verify(key: &[u8], body: &str, signature: &str) -> bool {
    let Some(bytes) = decode_hex(signature) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(body.as_bytes());
    mac.verify_slice(&bytes).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Moves the page of a child to `dir`, named as labrpc names pages
/// (`<test>-seed<seed>.html`), without its first line; returns where.
pub fn keep_page(page: &Path, test: &str, seed: u64, dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read(page).ok()?;
    let body = &text[text.iter().position(|&b| b == b'\n')? + 1..];
    let name = crate::files::safe_name(test);
    std::fs::create_dir_all(dir).ok()?;
    let path = dir.join(format!("{name}-seed{seed}.html"));
    std::fs::write(&path, body).ok()?;
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lines_signed_with_the_key_count() {
        let dir = crate::files::TempDir::new("grader-unit-channel").unwrap();
        let channel = Channel::new(&dir.path().join("0")).unwrap();
        let body = "labrpc-result\tpass\tt\t1\t5\t6\t\t";
        let mut mac = Hmac::<Sha256>::new_from_slice(&channel.key).unwrap();
        mac.update(body.as_bytes());
        let good: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let forged = "labrpc-result\tpass\tt\t2\t5\t6\t\t";
        std::fs::write(
            &channel.results,
            format!("{body}\t{good}\n{forged}\t{good}\n{forged}\n{body}\tzz\n"),
        )
        .unwrap();
        let (signed, unsigned) = channel.read_results();
        assert_eq!(signed, format!("{body}\n"));
        assert_eq!(unsigned, 3);
    }
}
