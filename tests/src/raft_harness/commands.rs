//! The commands the tester submits: a value the checks compare, encoded as Raft sees it.

use serde::{Deserialize, Serialize};

/// The largest encoding of a 2D command (a random value below 2^63 with no padding): 9
/// bytes of varint for the value and 1 for the empty padding's length. Sizes the 2D log
/// bound ([`MAX_LOG_SIZE`](super::MAX_LOG_SIZE)).
pub const MAX_2D_COMMAND_BYTES: usize = 10;

/// A command as the tester submits it: a value the checks compare, and optional padding
/// (the RPC byte-count test sends 5000-byte commands).
#[derive(Serialize, Deserialize)]
struct TestCommand {
    value: u64,
    #[serde(with = "serde_bytes")]
    padding: Vec<u8>,
}

/// Encodes a test command the way the tester hands it to `start`.
pub fn encode_command(value: u64) -> Vec<u8> {
    encode_padded_command(value, Vec::new())
}

/// Encodes a test command carrying `padding` bytes besides its value.
pub fn encode_padded_command(value: u64, padding: Vec<u8>) -> Vec<u8> {
    labrpc::codec::encode(&TestCommand { value, padding }).expect("commands encode")
}

/// What the appliers record for a no-op entry (part 2E's `Options::noop_on_election`), in
/// place of a command's value: the tester's values are below 2^63, so it is no command's.
pub(crate) const NOOP: u64 = u64::MAX;

/// What the appliers record for a configuration entry (part 2F) in place of a command's
/// value: this bit, with bit `i` set for each member `i` (below 2^62, so never [`NOOP`]).
pub(crate) const CONFIGURATION: u64 = 1 << 63;

/// The value recorded for a configuration of `servers`.
pub(crate) fn configuration_value(servers: &[usize]) -> u64 {
    servers
        .iter()
        .fold(CONFIGURATION, |value, &s| value | 1 << s.min(61))
}

/// The value an apply message carries for the checks: its command's, or [`NOOP`] for a
/// no-op, which only a server started with `noop_on_election` may apply. `None` for a
/// snapshot.
pub(super) fn applied_value(
    i: usize,
    msg: &raft::ApplyMsg,
    noop_on_election: bool,
) -> Option<(u64, Result<u64, String>)> {
    match msg {
        raft::ApplyMsg::Command { index, command, .. } => {
            Some((*index, decode_command(i, *index, command)))
        }
        raft::ApplyMsg::Noop { index, .. } if noop_on_election => Some((*index, Ok(NOOP))),
        raft::ApplyMsg::Noop { index, .. } => Some((
            *index,
            Err(format!(
                "server S{i} applied a no-op at index {index}, but this test runs without \
                 Options::noop_on_election: only part 2E's leaders append no-ops (the \
                 course's tests expect their commands at the indices start() returned)"
            )),
        )),
        raft::ApplyMsg::Configuration { index, servers, .. } => {
            Some((*index, Ok(configuration_value(servers))))
        }
        raft::ApplyMsg::Snapshot { .. } | raft::ApplyMsg::ReadReady { .. } => None,
    }
}

/// Decodes a command server `i` applied at `index`.
pub(super) fn decode_command(i: usize, index: u64, bytes: &[u8]) -> Result<u64, String> {
    let command: Result<TestCommand, _> = labrpc::codec::decode(bytes);
    command.map(|c| c.value).map_err(|e| {
        format!(
            "server S{i} applied something at index {index} that is not a command the tester \
             submitted ({} bytes: {e})",
            bytes.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2d_command_encodes_to_at_most_max_2d_command_bytes() {
        // 2D draws its values below 2^63.
        assert_eq!(encode_command((1 << 63) - 1).len(), MAX_2D_COMMAND_BYTES);
        assert_eq!(encode_command(1 << 62).len(), MAX_2D_COMMAND_BYTES);
    }
}
