//! An instructor's rubric: points that override the catalogue's.
//!
//! ```toml
//! # Points per test for whole parts ...
//! [parts]
//! 2B = 4
//!
//! # ... and for single tests (these win over their part's).
//! [tests]
//! initial_election_2a = 10
//! figure8_unreliable_2c = 6
//! ```
//!
//! Tests the rubric does not name keep the catalogue's points. A name that is no part or
//! test is an error, so a typo cannot silently leave the default in place.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// Points by part and by test.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Points for every test of a part, by part (`2B`, any case).
    #[serde(default)]
    parts: BTreeMap<String, u32>,
    /// Points for single tests, by name (`initial_election_2a`).
    #[serde(default)]
    tests: BTreeMap<String, u32>,
}

impl Rubric {
    /// Reads and checks a rubric file.
    pub fn load(path: &Path) -> Result<Rubric, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the rubric {}: {e}", path.display()))?;
        Rubric::parse(&text).map_err(|e| format!("rubric {}: {e}", path.display()))
    }

    /// Parses and checks a rubric.
    pub fn parse(text: &str) -> Result<Rubric, String> {
        let rubric: Rubric = toml::from_str(text).map_err(|e| e.to_string())?;
        let parts = catalogue::parts();
        for part in rubric.parts.keys() {
            if !parts.iter().any(|p| p.eq_ignore_ascii_case(part)) {
                return Err(format!(
                    "there is no part {part:?}; the parts are {}",
                    parts.join(", ")
                ));
            }
        }
        for test in rubric.tests.keys() {
            if catalogue::find(test).is_none() {
                return Err(format!(
                    "there is no test {test:?} (names are like initial_election_2a)"
                ));
            }
        }
        Ok(rubric)
    }

    /// What passing `test` is worth under this rubric.
    pub fn points(&self, test: &catalogue::Test) -> u32 {
        if let Some(&points) = self.tests.get(test.name) {
            return points;
        }
        self.parts
            .iter()
            .find(|(part, _)| part.eq_ignore_ascii_case(test.part))
            .map_or(test.points, |(_, &points)| points)
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty() && self.tests.is_empty()
    }

    /// What tells this rubric from others, for a report's header (`grader merge` refuses
    /// shards graded with different rubrics): a hash of its points, so that comments, order
    /// and the case of part names do not count; `None` for no rubric (the catalogue's
    /// points).
    pub fn identity(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let parts: BTreeMap<String, u32> = self
            .parts
            .iter()
            .map(|(part, &points)| (part.to_ascii_uppercase(), points))
            .collect();
        let mut text = String::new();
        for (part, points) in &parts {
            text.push_str(&format!("part {part} = {points}\n"));
        }
        for (test, points) in &self.tests {
            text.push_str(&format!("test {test} = {points}\n"));
        }
        Some(crate::digest::content_hash(text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_win_over_parts_and_the_rest_keep_the_catalogue() {
        let rubric = Rubric::parse("[parts]\n2b = 4\n[tests]\nbasic_agree_2b = 9\n").unwrap();
        let points = |name| rubric.points(catalogue::find(name).unwrap());
        assert_eq!(points("basic_agree_2b"), 9);
        assert_eq!(points("backup_2b"), 4);
        let election = catalogue::find("initial_election_2a").unwrap();
        assert_eq!(rubric.points(election), election.points);
    }

    #[test]
    fn the_identity_is_the_points_alone() {
        assert_eq!(Rubric::default().identity(), None);
        let rubric = |text| Rubric::parse(text).unwrap().identity().unwrap();
        let one = rubric("[parts]\n2b = 4\n[tests]\nbasic_agree_2b = 9\n");
        let same = rubric("# the same points\n[tests]\nbasic_agree_2b = 9\n[parts]\n2B = 4\n");
        assert_eq!(one, same);
        assert!(one.starts_with("fnv1a64:"), "{one}");
        assert_ne!(
            one,
            rubric("[parts]\n2b = 5\n[tests]\nbasic_agree_2b = 9\n")
        );
        assert_ne!(one, rubric("[parts]\n2b = 4\n"));
    }

    /// The catalogue's points are what the README says (grader/README.md, "Points: the
    /// catalogue's, or a rubric"): part by part, tests × points each, and in all.
    #[test]
    fn the_catalogues_points_are_the_readmes() {
        let readme: [(&str, usize, u32); 16] = [
            ("2A", 3, 6),
            ("2B", 10, 3),
            ("2C", 8, 3),
            ("2D", 7, 4),
            ("2X", 12, 4),
            ("2E", 9, 4),
            ("2F", 9, 4),
            ("RSM", 8, 1),
            ("3A", 14, 4),
            ("3B", 9, 4),
            ("3X", 4, 4),
            ("3C", 5, 4),
            ("4A", 2, 10),
            ("4B", 10, 8),
            ("4C", 3, 5),
            ("4X", 6, 4),
        ];
        let parts: Vec<&str> = readme.iter().map(|&(part, _, _)| part).collect();
        assert_eq!(catalogue::parts(), parts);
        for (part, count, each) in readme {
            let tests: Vec<&catalogue::Test> =
                catalogue::all().filter(|t| t.part == part).collect();
            assert_eq!(tests.len(), count, "{part}");
            assert!(tests.iter().all(|t| t.points == each), "{part}");
        }
        let lab = |parts: &[&str]| -> u32 {
            catalogue::all()
                .filter(|t| parts.contains(&t.part))
                .map(|t| t.points)
                .sum()
        };
        assert_eq!(lab(&["2A", "2B", "2C", "2D"]), 100);
        assert_eq!(lab(&["RSM", "3A", "3B"]), 100);
        assert_eq!(lab(&["4A", "4B"]), 100);
        assert_eq!(lab(&["4C"]), 15);
        assert_eq!(lab(&["4X"]), 24);
        assert_eq!(catalogue::all().count(), 119);
        assert_eq!(catalogue::all().map(|t| t.points).sum::<u32>(), 495);
    }

    #[test]
    fn unknown_names_are_errors() {
        let error = Rubric::parse("[tests]\nbasic_agree = 3\n").unwrap_err();
        assert!(error.contains("no test \"basic_agree\""), "{error}");
        let error = Rubric::parse("[parts]\n9Z = 3\n").unwrap_err();
        assert!(error.contains("no part \"9Z\""), "{error}");
        assert!(Rubric::parse("[points]\nx = 1\n").is_err());
    }
}
