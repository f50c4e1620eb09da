//! Naming servers on the network and making the ends that reach them, the same way in the
//! Raft and the Lab 3 harnesses.

use labrpc::ClientEnd;
use labrpc::tester::Network;

/// The network name of server `i`.
pub fn server_name(i: usize) -> String {
    // Without the formatting machinery: the timeline's records name servers often, and
    // `format!` cost several times the allocation.
    const SMALL: [&str; 10] = ["S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"];
    match SMALL.get(i) {
        Some(name) => (*name).to_owned(),
        None => format!("S{i}"),
    }
}

/// The index of the server named `name` (`"S3"` is 3), if it is a server's name.
pub fn server_index(name: &str) -> Option<usize> {
    name.strip_prefix('S')?.parse().ok()
}

/// Makes an end for each name in `names`, the `j`-th connected to server `j`.
pub fn make_ends(net: &Network, names: &[String]) -> Vec<ClientEnd> {
    names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let end = net.make_end(name.as_str());
            net.connect(name, server_name(j));
            end
        })
        .collect()
}
