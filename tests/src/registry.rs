//! The test registry: each test is listed once, in the `catalogue` crate, and everything else
//! comes from that list.
//!
//! A suite hands its list ([`catalogue::raft_suite!`]) to [`registry!`](macro@crate::registry),
//! which produces:
//!
//! - the suite's registry, a `const` slice of [`TestCase`]s: each test's catalogue entry
//!   (part, name, the course's name, points, time limit, description) with its body, for the
//!   benchmark and the `#[test]` functions (the grader reads the catalogue crate alone, so
//!   that it never links the lab code it grades);
//! - for each part, an exported macro named after the part's module (`tests::raft_2a!()`)
//!   that expands to the part's `#[test]` functions, named `<name>_<part>`
//!   (`initial_election_2a`), so that `cargo test -p tests 2a` selects a part the way
//!   `go test -run 2A` does. Each file in `tests/tests/` invokes one of them;
//! - (in the catalogue crate) compile-time checks that every name carries its part as a
//!   suffix and matches the course's Go name (`initial_election_2a` is
//!   `TestInitialElection2A`).
//!
//! So a test cannot exist in one place and not another: a registered test without a body
//! does not compile; a body that is not registered is dead code (the bodies are
//! `pub(crate)`, and CI denies warnings); a part whose macro no file in `tests/tests/`
//! invokes fails `tests/tests/catalogue.rs`.

use std::future::Future;
use std::pin::Pin;

/// A test body, boxed.
pub type TestFuture = Pin<Box<dyn Future<Output = ()>>>;

/// One registered test: its catalogue entry and its body. It dereferences to the entry, so
/// `case.name`, `case.points` and the rest read as the catalogue's.
#[derive(Clone, Copy)]
pub struct TestCase {
    /// What the catalogue says about it.
    pub test: catalogue::Test,
    /// Builds the test body.
    pub body: fn() -> TestFuture,
}

impl std::ops::Deref for TestCase {
    type Target = catalogue::Test;

    fn deref(&self) -> &catalogue::Test {
        &self.test
    }
}

impl std::fmt::Debug for TestCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCase")
            .field("test", &self.test)
            .finish_non_exhaustive()
    }
}

/// Registers a suite from its catalogue list. See the [module docs](mod@crate::registry).
///
/// ```text
/// catalogue::raft_suite!(crate::registry);
/// // which expands to
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
                    test: catalogue::Test {
                        part: $part,
                        name: stringify!($name),
                        course_name: $course_name,
                        target: stringify!($module),
                        points: $points,
                        time_limit: catalogue::TEST_TIME_LIMIT,
                        description: $description,
                    },
                    body: || Box::pin($module::$name()),
                },
            )*)*
        ];

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
