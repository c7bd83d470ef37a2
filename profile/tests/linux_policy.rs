//! The Linux policy keeps TIOCSTI refused whatever grants the config makes.
//!
//! `ui.injection` grants HID devices (input injection through the kernel's
//! input layer); it must never lift the seccomp rule that refuses TIOCSTI
//! (input injection into the runner's terminal). A review seeded exactly
//! that bug and only a macOS-shaped test noticed, so this checks it where
//! the rule is decided, over every combination of the options that lift
//! other seccomp rules or grant devices.

use profile::config::{Baseline, Outbound, OutboundMode};
use profile::linux::{LinuxPolicy, Paths, SeccompDeny, LINUX_TIOCSTI};
use profile::path::HostEnv;
use profile::Config;

/// `TIOCSTI` in Linux's `asm-generic/ioctls.h`, written out here so the
/// test does not trust the constant the policy is built from.
const TIOCSTI: u64 = 0x5412;

fn env() -> HostEnv {
    HostEnv {
        home: Some("/home/u".into()),
        user: Some("u".into()),
        uid: 1000,
    }
}

/// Every combination of the options that change the seccomp rules or the
/// device binds, each with `ui.injection` on.
fn injection_configs() -> Vec<(String, Config)> {
    let mut out = Vec::new();
    for bits in 0u8..32 {
        let on = |i: u8| bits & (1 << i) != 0;
        let mut c = Config {
            keychain_access: on(0),
            nested_pty: on(1),
            gui_access: on(2),
            ..Config::default()
        };
        c.ui.injection = true;
        if on(3) {
            c.network.outbound = Outbound::Mode(OutboundMode::Allow);
        }
        if on(4) {
            c.baseline = Baseline::Permissive;
        }
        out.push((format!("options {bits:05b}"), c));
    }
    out
}

#[test]
fn tiocsti_stays_denied_with_injection_on() {
    assert_eq!(LINUX_TIOCSTI, TIOCSTI, "the policy's TIOCSTI number");
    for (label, config) in injection_configs() {
        let policy = LinuxPolicy::compile(&config, &env(), Paths::AsWritten)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert!(
            !policy.device_binds.is_empty(),
            "{label}: injection on binds HID devices, so the config really grants injection"
        );
        assert!(
            policy
                .seccomp_deny
                .contains(&SeccompDeny::Ioctl { request: TIOCSTI }),
            "{label}: TIOCSTI not refused: {:?}",
            policy.seccomp_deny
        );
    }
}
