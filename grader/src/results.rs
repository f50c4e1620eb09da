//! Reading the lines a test binary writes to `LAB_RESULTS` (one per seed; see labrpc's
//! `Sim::run_test`).

use crate::outcome::{Outcome, Reason};

/// One parsed `labrpc-result` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultLine {
    /// The test's name.
    pub test: String,
    /// The seed.
    pub seed: u64,
    /// Pass (with times) or fail (with the first line of the message).
    pub outcome: Outcome,
    /// The path of the seed's timeline page, if the run drew one.
    pub timeline: Option<String>,
}

/// Parses every well-formed line of `text`; anything else is ignored.
pub fn parse(text: &str) -> Vec<ResultLine> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<ResultLine> {
    let fields: Vec<&str> = line.split('\t').collect();
    // The timeline's path, the last field, is missing in the lines of older test binaries.
    let (tag, verdict, test, seed, virtual_ns, cpu_ns, message, timeline) = match fields[..] {
        [tag, verdict, test, seed, virtual_ns, cpu_ns, message] => {
            (tag, verdict, test, seed, virtual_ns, cpu_ns, message, "")
        }
        [
            tag,
            verdict,
            test,
            seed,
            virtual_ns,
            cpu_ns,
            message,
            timeline,
        ] => (
            tag, verdict, test, seed, virtual_ns, cpu_ns, message, timeline,
        ),
        _ => return None,
    };
    if tag != "labrpc-result" {
        return None;
    }
    let seed = seed.parse().ok()?;
    let outcome = match verdict {
        "pass" => Outcome::Pass {
            virtual_ns: virtual_ns.parse().ok()?,
            cpu_ns: cpu_ns.parse().ok(),
        },
        "fail" => Outcome::Fail {
            reason: Reason::TestFailed,
            message: message.to_owned(),
        },
        _ => return None,
    };
    Some(ResultLine {
        test: test.to_owned(),
        seed,
        outcome,
        timeline: (!timeline.is_empty()).then(|| timeline.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_and_fail_lines_parse_and_garbage_is_ignored() {
        let text = "labrpc-result\tpass\tfigure8_2c\t7\t1000\t20\t\n\
                    labrpc-result\tfail\tfigure8_2c\t8\t\t\texpected one leader\n\
                    labrpc-result\tpass\tfigure8_2c\n\
                    hello\n";
        let lines = parse(text);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0].outcome,
            Outcome::Pass {
                virtual_ns: 1000,
                cpu_ns: Some(20)
            }
        );
        assert_eq!(lines[1].seed, 8);
        assert!(
            matches!(&lines[1].outcome, Outcome::Fail { message, .. } if message == "expected one leader")
        );
    }
}
