//! Single integer registers: [`RegisterModel`] with reads and writes (the smallest useful
//! model), and [`CasRegisterModel`] with compare-and-swap and an absent value (as etcd).

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

    fn describe_read_as_state(&self, input: &RegisterInput, output: &i64) -> Option<String> {
        matches!(input, RegisterInput::Read).then(|| output.to_string())
    }
}

/// A request to a [`CasRegisterModel`] register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CasInput {
    /// Read the value (absent until the first write).
    Read,
    /// Replace the value.
    Write(i64),
    /// If the value is `from`, replace it with `to`; otherwise leave it.
    Cas {
        /// The value expected.
        from: i64,
        /// The value written if the expected one was there.
        to: i64,
    },
}

/// A response of a [`CasRegisterModel`] register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CasOutput {
    /// A read's result: the value, or `None` if the register was never written.
    Value(Option<i64>),
    /// A write was acknowledged.
    Written,
    /// Whether a compare-and-swap found its expected value (and so wrote).
    Swapped(bool),
    /// The client never learnt the outcome (it timed out): accepted in any state. Give
    /// such an operation `ret` = [`crate::NEVER_RETURNED`] (see [`crate::Operation`]).
    Unknown,
}

/// A register with reads, writes and compare-and-swap, absent until first written: the
/// model of Jepsen's etcd tests (and porcupine's). The state is the value, `None` while
/// absent.
///
/// A compare-and-swap whose outcome is [`CasOutput::Unknown`] swaps if the value is the
/// expected one when it takes effect; that it may never have taken effect is expressed by
/// its `ret` being [`crate::NEVER_RETURNED`], which lets it take effect after everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct CasRegisterModel;

impl Model for CasRegisterModel {
    type State = Option<i64>;
    type Input = CasInput;
    type Output = CasOutput;

    fn init(&self) -> Option<i64> {
        None
    }

    fn step(
        &self,
        state: &Option<i64>,
        input: &CasInput,
        output: &CasOutput,
    ) -> Option<Self::State> {
        match (*input, *output) {
            (CasInput::Read, CasOutput::Value(value)) => (value == *state).then_some(*state),
            (CasInput::Read, CasOutput::Unknown) => Some(*state),
            (CasInput::Write(value), CasOutput::Written | CasOutput::Unknown) => Some(Some(value)),
            (CasInput::Cas { from, to }, CasOutput::Swapped(swapped)) => {
                let matches = *state == Some(from);
                (matches == swapped).then_some(if matches { Some(to) } else { *state })
            }
            (CasInput::Cas { from, to }, CasOutput::Unknown) => Some(if *state == Some(from) {
                Some(to)
            } else {
                *state
            }),
            // An output of the wrong kind cannot happen in any state.
            _ => None,
        }
    }

    fn is_read_only(&self, input: &CasInput) -> bool {
        matches!(input, CasInput::Read)
    }

    /// A read can still see its value if the register holds it now or some write or
    /// compare-and-swap that may come first writes it (a register never becomes absent).
    fn read_may_still_fit(
        &self,
        state: &Option<i64>,
        _input: &CasInput,
        output: &CasOutput,
        writes: &mut dyn Iterator<Item = &CasInput>,
    ) -> bool {
        let CasOutput::Value(seen) = *output else {
            return true;
        };
        if seen == *state {
            return true;
        }
        let Some(seen) = seen else {
            return false;
        };
        for write in writes {
            if let CasInput::Write(value) | CasInput::Cas { to: value, .. } = *write
                && value == seen
            {
                return true;
            }
        }
        false
    }

    fn describe_operation(&self, input: &CasInput, output: &CasOutput) -> String {
        let outcome = match output {
            CasOutput::Value(Some(value)) => value.to_string(),
            CasOutput::Value(None) => "absent".to_string(),
            CasOutput::Written => "ok".to_string(),
            CasOutput::Swapped(true) => "swapped".to_string(),
            CasOutput::Swapped(false) => "failed".to_string(),
            CasOutput::Unknown => "unknown".to_string(),
        };
        match input {
            CasInput::Read => format!("read -> {outcome}"),
            CasInput::Write(value) => format!("write({value}) -> {outcome}"),
            CasInput::Cas { from, to } => format!("cas({from}, {to}) -> {outcome}"),
        }
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        state.map_or_else(|| "absent".to_string(), |value| value.to_string())
    }

    fn describe_read_as_state(&self, input: &CasInput, output: &CasOutput) -> Option<String> {
        match (input, output) {
            (CasInput::Read, CasOutput::Value(value)) => Some(self.describe_state(value)),
            _ => None,
        }
    }
}
