//! Job control in an interactive shell under `beltcheck run --backend
//! linux` (issue 13 item 3): the workload runs in bubblewrap's PID
//! namespace, where the exec stage takes the pty as its controlling
//! terminal, so a shell there must be able to stop a foreground job with
//! Ctrl-Z, resume it with `bg` and bring it back with `fg`.
//!
//! Driven through a real terminal: tmux (on a private server socket) runs
//! beltcheck in a window, the test types with `send-keys` and reads the
//! screen with `capture-pane`, asserting on what bash prints.
#![cfg(target_os = "linux")]

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

const WITHIN: Duration = Duration::from_secs(30);

/// A tmux server of the test's own, removed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux")
    }

    fn screen(&self) -> String {
        let out = self.cmd(&["capture-pane", "-p", "-t", "t", "-S", "-200"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status.success());
    }

    /// Waits until the screen has `count` occurrences of `text`.
    #[track_caller]
    fn wait_for(&self, text: &str, count: usize) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.matches(text).count() >= count {
                return screen;
            }
            assert!(
                start.elapsed() < WITHIN,
                "no {count}x {text:?} on screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

#[test]
fn ctrl_z_bg_and_fg_work_in_a_shell_under_the_linux_backend() {
    let tmux = Tmux {
        socket: format!("beltcheck-jobs-{}", std::process::id()),
    };
    let stage = common::bin_dir().join("beltcheck-stage");
    let shell = format!(
        "env BELTCHECK_STAGE='{}' PS1='PROMPT> ' '{}' run --backend linux -- \
         /bin/bash --norc --noprofile -i",
        stage.display(),
        env!("CARGO_BIN_EXE_beltcheck")
    );
    let started = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "120",
        "-y",
        "50",
        &shell,
    ]);
    assert!(started.status.success(), "{started:?}");
    tmux.wait_for("PROMPT>", 1);

    // A foreground job, stopped by Ctrl-Z typed on the terminal.
    tmux.keys(&["sleep 300", "Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys(&["C-z"]);
    let screen = tmux.wait_for("Stopped", 1);
    assert!(screen.contains("sleep 300"), "{screen}");
    tmux.wait_for("PROMPT>", 2);

    // bg resumes it in the background: jobs says Running.
    tmux.keys(&["bg", "Enter"]);
    tmux.wait_for("PROMPT>", 3);
    tmux.keys(&["jobs", "Enter"]);
    let screen = tmux.wait_for("Running", 1);
    assert!(screen.contains("sleep 300 &"), "{screen}");
    tmux.wait_for("PROMPT>", 4);

    // fg brings it back to the foreground; Ctrl-C reaches it there and the
    // shell gets the terminal back.
    tmux.keys(&["fg", "Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys(&["C-c"]);
    tmux.wait_for("PROMPT>", 5);
    tmux.keys(&["jobs; echo JOBS-$((6*7))", "Enter"]);
    let screen = tmux.wait_for("JOBS-42", 1);
    assert!(!screen.contains("no job control"), "{screen}");
    // After fg and Ctrl-C, no job is left.
    let tail = &screen[screen.rfind("jobs; echo").unwrap()..];
    assert!(!tail.contains("sleep 300"), "{screen}");
    tmux.keys(&["exit", "Enter"]);
}
