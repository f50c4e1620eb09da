//! The grader: runs the lab's test suites over many seeds, each batch of seeds in a child
//! process of its own, in parallel; scores the results by part; writes the reports.
//!
//! It never links the lab code it grades: it reads the list of tests from the `catalogue`
//! crate, builds the test binaries with cargo, and believes only the result lines those
//! binaries write (see labrpc's `Sim::run_test`), so no exit status, output or crash of lab
//! code can earn a point.

pub mod bundle;
pub mod channel;
pub mod child;
pub mod class;
pub mod cli;
pub mod compile;
pub mod crash;
pub mod digest;
pub mod files;
pub mod grade;
pub mod handout;
pub mod layout;
pub mod markers;
pub mod outcome;
pub mod progress;
pub mod report;
pub mod results;
pub mod rubric;
pub mod sandbox;
pub mod schedule;
pub mod select;
pub mod source;
pub mod submission;
pub mod swarm;
