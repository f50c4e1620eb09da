//! What several test binaries share: running one test of the current test binary in a
//! child process (for the tests that must watch a process fail, such as the watchdog
//! ending it, without failing themselves), and a tiny echo RPC with a connected end.

// Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What a finished child process left behind.
pub struct ChildRun {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// Real time from start to exit.
    pub wall: Duration,
}

impl ChildRun {
    /// Everything the child printed, for assertions and failure messages.
    pub fn output(&self) -> String {
        format!(
            "--- child stdout ---\n{}\n--- child stderr ---\n{}",
            self.stdout, self.stderr
        )
    }

    #[track_caller]
    pub fn assert_mentions(&self, needle: &str) {
        assert!(
            self.stdout.contains(needle) || self.stderr.contains(needle),
            "expected the child's output to contain {needle:?}\n{}",
            self.output()
        );
    }

    /// The seed in "failed with seed N".
    pub fn failed_seed(&self) -> u64 {
        let marker = "labrpc: failed with seed ";
        let start = self
            .stderr
            .find(marker)
            .unwrap_or_else(|| panic!("the child did not print {marker:?}\n{}", self.output()))
            + marker.len();
        let digits: String = self.stderr[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().expect("a seed after 'failed with seed'")
    }

    /// The first line of stderr that starts with `prefix`.
    pub fn line_starting(&self, prefix: &str) -> String {
        self.stderr
            .lines()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starts with {prefix:?}\n{}", self.output()))
            .to_string()
    }
}

/// Runs the `#[ignore]`d test `name` of this test binary in a child process, with
/// `child_env` set to `1` (so the child knows to run) and `env` added; the `LAB_*`
/// variables of the parent are not passed on. Kills the child and fails if it runs longer
/// than `hang_guard` of real time.
pub fn run_child(
    child_env: &str,
    hang_guard: Duration,
    name: &str,
    env: &[(&str, &str)],
) -> ChildRun {
    let exe = std::env::current_exe().expect("the path of this test binary");
    let mut command = Command::new(exe);
    command
        .args([name, "--ignored", "--exact", "--nocapture"])
        .env(child_env, "1")
        .env("RUST_BACKTRACE", "0")
        .env_remove("LAB_SEED")
        .env_remove("LAB_RUNS")
        .env_remove("LAB_CHECK_DETERMINISM")
        .env_remove("LAB_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("start the child test process");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let stdout_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if started.elapsed() > hang_guard {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "child test {name} did not finish within {hang_guard:?} of real time\n\
                 --- child stdout ---\n{}\n--- child stderr ---\n{}",
                stdout_reader.join().unwrap_or_default(),
                stderr_reader.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = started.elapsed();
    let run = ChildRun {
        status,
        stdout: stdout_reader.join().unwrap_or_default(),
        stderr: stderr_reader.join().unwrap_or_default(),
        wall,
    };
    run.assert_mentions("running 1 test");
    run
}

/// The text of a caught panic.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "<a panic payload that is not a string>".into()
    }
}

/// `Echo.Ping`: answers its argument.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Ping(pub u32);

impl labrpc::Rpc for Ping {
    type Reply = u32;
    const METHOD: &'static str = "Echo.Ping";
}

/// A new end of `net`, connected to `server` and enabled.
pub fn connected_end(net: &labrpc::tester::Network, end: &str, server: &str) -> labrpc::ClientEnd {
    let client = net.make_end(end);
    net.connect(end, server);
    net.enable(end, true);
    client
}
