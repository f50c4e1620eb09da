//! The log reader (`cargo run -p tests --bin logs`): it replays a seed in a child process
//! and shows its events one column per node, with filters; and it reads LAB_LOG output.

use std::process::Command;

/// Runs the log reader with `args`; returns its standard output, and fails on an error.
fn logs(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_logs"))
        .args(args)
        .env_remove("LAB_SEED")
        .env_remove("LAB_RUNS")
        .env_remove("LAB_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the log reader starts");
    // Small inputs only: written whole before the output is read (a pipe holds 64 KiB).
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.unwrap_or("").as_bytes())
        .expect("stdin written");
    drop(pipe);
    let output = child.wait_with_output().expect("the log reader ends");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        output.status.success(),
        "logs {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The log reader's arguments to replay seed 3 of `initial_election_2a` without colours,
/// then `more`.
fn replay_args<'a>(more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--test",
        "initial_election_2a",
        "--seed",
        "3",
        "--colour",
        "never",
    ];
    args.extend_from_slice(more);
    args
}

/// The column names in the header line (the line that starts with `time`).
fn header(text: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("time"))
        .unwrap_or_else(|| panic!("no header in:\n{text}"));
    line.split('│')
        .skip(1)
        .map(|c| c.trim().to_owned())
        .collect()
}

#[test]
fn a_replay_shows_one_column_per_node_with_the_testers_events() {
    let text = logs(&replay_args(&["--width", "150"]), None);
    assert_eq!(header(&text), ["tester", "S0", "S1", "S2"], "{text}");
    assert!(text.contains("== Test (2A): initial election"), "{text}");
    assert!(text.contains("start S0"), "{text}");
    assert!(!text.contains('\x1b'), "colours were asked off");
    if raft::IS_REFERENCE {
        // The reference notes its votes and roles; the tester sees a leader.
        assert!(text.contains("voted for S"), "{text}");
        assert!(text.contains("leader in term"), "{text}");
        assert!(text.contains("ok: check_one_leader"), "{text}");
    } else {
        // The skeleton elects nobody: the replay fails, and says why.
        assert!(text.contains("expected one leader, got none"), "{text}");
    }
}

#[test]
fn filters_keep_only_the_nodes_topics_and_times_asked_for() {
    let text = logs(
        &replay_args(&[
            "--nodes",
            "S1",
            "--topics",
            "tester,node",
            "--from",
            "0",
            "--to",
            "0.001s",
        ]),
        None,
    );
    assert_eq!(header(&text), ["tester", "S1"], "{text}");
    // In the first millisecond: the servers start and are connected, nothing else.
    assert!(text.contains("start S1"), "{text}");
    assert!(text.contains("== Test (2A): initial election"), "{text}");
    // Other topics (the servers' states, votes) and later times are left out.
    assert!(!text.contains("term 0"), "{text}");
    assert!(!text.contains("voted"), "{text}");
}

#[test]
fn it_reads_lab_log_output() {
    let log = "running 1 test\n\
               [    0.000000s] tester  INFO tester: == Test (2A): initial election\n\
               [    0.330000s] S2     DEBUG raft: election timeout: asking for votes term=1\n\
               [    0.330000s] S0     DEBUG note: [vote] voted for S2 in term 1\n\
               test initial_election_2a ... ok\n";
    let text = logs(&["-", "--colour", "never", "--width", "120"], Some(log));
    assert_eq!(header(&text), ["tester", "S0", "S2"], "{text}");
    let vote = text
        .lines()
        .find(|l| l.contains("voted for S2"))
        .expect("the vote");
    let columns: Vec<&str> = vote.split('│').collect();
    assert!(columns[2].contains("voted for S2"), "S0's column: {vote}");
    assert!(!text.contains("test initial_election_2a"), "{text}");
}
