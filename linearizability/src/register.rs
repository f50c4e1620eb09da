//! A single integer register with reads and writes: the smallest useful model.

use crate::model::Model;

/// A request to the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisterInput {
    /// Read the value.
    Read,
    /// Replace the value.
    Write(i64),
}

/// The register's specification: it starts at 0; a read returns the last value written.
/// The output of an operation is the value read (ignored for writes).
#[derive(Debug, Clone, Copy, Default)]
pub struct RegisterModel;

impl Model for RegisterModel {
    type State = i64;
    type Input = RegisterInput;
    type Output = i64;

    fn init(&self) -> i64 {
        0
    }

    fn step(&self, state: &i64, input: &RegisterInput, output: &i64) -> Option<i64> {
        match *input {
            RegisterInput::Read => (output == state).then_some(*state),
            RegisterInput::Write(value) => Some(value),
        }
    }

    fn is_read_only(&self, input: &RegisterInput) -> bool {
        matches!(input, RegisterInput::Read)
    }

    fn describe_operation(&self, input: &RegisterInput, output: &i64) -> String {
        match input {
            RegisterInput::Read => format!("read -> {output}"),
            RegisterInput::Write(value) => format!("write({value})"),
        }
    }

    fn describe_state(&self, state: &i64) -> String {
        state.to_string()
    }
}
