//! The test registry: each test is listed once, and everything else comes from that list.
//!
//! A suite invokes [`registry!`](macro@crate::registry) with its tests, grouped by part. The one
//! invocation produces:
//!
//! - the suite's catalogue, a `const` slice of [`TestCase`]s (what the benchmark and the
//!   grader read: part, name, the course's name, points, time limit, description, body);
//! - for each part, an exported macro named after the part's module (`tests::raft_2a!()`)
//!   that expands to the part's `#[test]` functions, named `<name>_<part>`
//!   (`initial_election_2a`), so that `cargo test -p tests 2a` selects a part the way
//!   `go test -run 2A` does. Each file in `tests/tests/` invokes one of them;
//! - compile-time checks that every name carries its part as a suffix and matches the
//!   course's Go name (`initial_election_2a` is `TestInitialElection2A`).
//!
//! So a test cannot exist in one place and not another: a registered test without a body
//! does not compile; a body that is not registered is dead code (the bodies are
//! `pub(crate)`, and CI denies warnings); a part whose macro no file in `tests/tests/`
//! invokes fails `tests/tests/catalogue.rs`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A test body, boxed.
pub type TestFuture = Pin<Box<dyn Future<Output = ()>>>;

/// One registered test.
#[derive(Clone, Copy)]
pub struct TestCase {
    /// The part it belongs to, as the course writes it (`"2A"`).
    pub part: &'static str,
    /// The name of its `#[test]` function: its own name with the part as a suffix
    /// (`"initial_election_2a"`).
    pub name: &'static str,
    /// The course's name for it (`"TestInitialElection2A"`).
    pub course_name: &'static str,
    /// What passing it is worth (the rubric is documented where the suite is registered).
    pub points: u32,
    /// Its limit in virtual time.
    pub time_limit: Duration,
    /// One line on what it checks, for people reading a grade report.
    pub description: &'static str,
    /// Builds the test body.
    pub body: fn() -> TestFuture,
}

impl std::fmt::Debug for TestCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCase")
            .field("part", &self.part)
            .field("name", &self.name)
            .field("course_name", &self.course_name)
            .field("points", &self.points)
            .field("time_limit", &self.time_limit)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

/// Registers a suite. See the [module docs](mod@crate::registry).
///
/// ```text
/// registry! {
///     /// Every Raft test, in the course's order.
///     pub const RAFT;
///     /// 2A: leader election.
///     part raft_2a "2A", 6 points each {
///         initial_election_2a "TestInitialElection2A"
///             "A leader is elected with no failures, and stays leader while nothing fails.";
///     }
/// }
/// ```
///
/// `raft_2a` is both the module holding the bodies (`raft_2a::initial_election_2a`, an
/// `async fn()`) and the name of the exported macro that emits the part's `#[test]`s.
#[macro_export]
macro_rules! registry {
    (
        $(#[$catalogue_doc:meta])*
        pub const $catalogue:ident;
        $(
            $(#[$part_doc:meta])*
            part $module:ident $part:literal, $points:literal points each {
                $( $name:ident $course_name:literal $description:literal; )*
            }
        )*
    ) => {
        $(#[$catalogue_doc])*
        pub const $catalogue: &[$crate::registry::TestCase] = &[
            $($(
                $crate::registry::TestCase {
                    part: $part,
                    name: stringify!($name),
                    course_name: $course_name,
                    points: $points,
                    time_limit: $crate::TEST_TIME_LIMIT,
                    description: $description,
                    body: || Box::pin($module::$name()),
                },
            )*)*
        ];

        $($(
            const _: () = $crate::registry::check_names(stringify!($name), $part, $course_name);
        )*)*

        $(
            $(#[$part_doc])*
            #[doc = concat!(
                "\n\nExpands to the `#[test]` functions of part ", $part,
                "; `tests/tests/", stringify!($module), ".rs` invokes it."
            )]
            #[macro_export]
            macro_rules! $module {
                () => {
                    $(
                        #[doc = $description]
                        #[test]
                        fn $name() {
                            $crate::run($crate::suites::case(stringify!($name)));
                        }
                    )*
                };
            }
        )*
    };
}

/// Fails the build unless `name` ends with `_<part>` and, ignoring case and underscores,
/// `course_name` is `Test` followed by `name` (`initial_election_2a` and
/// `TestInitialElection2A`, `rpc_bytes_2b` and `TestRPCBytes2B`).
pub const fn check_names(name: &str, part: &str, course_name: &str) {
    let (name, part, course) = (name.as_bytes(), part.as_bytes(), course_name.as_bytes());
    // The suffix `_<part>`.
    assert!(
        name.len() > part.len() + 1 && name[name.len() - part.len() - 1] == b'_',
        "a registered test's name must end with _<part>, e.g. initial_election_2a"
    );
    let mut k = 0;
    while k < part.len() {
        assert!(
            name[name.len() - part.len() + k].eq_ignore_ascii_case(&part[k]),
            "a registered test's name must end with its part, e.g. initial_election_2a in 2A"
        );
        k += 1;
    }
    // The course's name.
    let prefix = b"Test";
    assert!(
        course.len() > prefix.len(),
        "a course name starts with Test"
    );
    let mut k = 0;
    while k < prefix.len() {
        assert!(course[k] == prefix[k], "a course name starts with Test");
        k += 1;
    }
    let (mut i, mut j) = (0, prefix.len());
    while i < name.len() {
        if name[i] == b'_' {
            i += 1;
            continue;
        }
        assert!(
            j < course.len() && name[i].eq_ignore_ascii_case(&course[j]),
            "a registered test's name must be its course name in snake case, e.g. \
             initial_election_2a for TestInitialElection2A"
        );
        i += 1;
        j += 1;
    }
    assert!(
        j == course.len(),
        "a registered test's name must be its course name in snake case, e.g. \
         initial_election_2a for TestInitialElection2A"
    );
}
