//! The matrix axes. Each is a boolean; every combination runs. Adding one is
//! one line in [`BUILTIN`]: its name (as used in `allowed_when`), the config
//! key it sets, and how it sets it. What a backend cannot enforce is not
//! kept here: the matrix asks the backend's compiled policy
//! (`profile::Policy::limitation`) about the keys a cell speaks to.

use profile::config::{Config, Outbound, OutboundMode};

/// What a dimension needs to know about the harness's fixtures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionEnv {
    /// The AF_UNIX listener the `unix-connect` probe connects to.
    pub unix_socket: String,
}

/// One boolean axis of the built-in matrix.
pub struct Dimension {
    pub name: &'static str,
    /// The config key path it sets (what a policy's limitations name).
    pub key: &'static str,
    /// Sets the config for this side of the axis.
    pub apply: fn(&mut Config, bool, &DimensionEnv),
}

/// The built-in axes, in report order.
pub const BUILTIN: &[Dimension] = &[
    Dimension {
        name: "nested_pty",
        key: "nested_pty",
        apply: |c, v, _| c.nested_pty = v,
    },
    Dimension {
        name: "keychain_access",
        key: "keychain_access",
        apply: |c, v, _| c.keychain_access = v,
    },
    Dimension {
        name: "gui_access",
        key: "gui_access",
        apply: |c, v, _| c.gui_access = v,
    },
    Dimension {
        name: "ui.injection",
        key: "ui.injection",
        apply: |c, v, _| c.ui.injection = v,
    },
    Dimension {
        name: "posix_ipc.semaphores",
        key: "posix_ipc.semaphores",
        apply: |c, v, _| c.posix_ipc.semaphores = v,
    },
    Dimension {
        name: "unix_socket",
        key: "unix_socket_connects",
        apply: set_unix_socket,
    },
    Dimension {
        name: "network.outbound",
        key: "network.outbound",
        apply: set_outbound,
    },
];

fn set_unix_socket(c: &mut Config, on: bool, env: &DimensionEnv) {
    c.unix_socket_connects.retain(|p| p != &env.unix_socket);
    if on {
        c.unix_socket_connects.push(env.unix_socket.clone());
    }
}

fn set_outbound(c: &mut Config, on: bool, _: &DimensionEnv) {
    let mode = if on {
        OutboundMode::Allow
    } else {
        OutboundMode::Deny
    };
    c.network.outbound = Outbound::Mode(mode);
}

/// The names of the built-in axes, in order.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|d| d.name).collect()
}

/// The config for one assignment of the built-in axes (`bits[i]` is axis
/// `i`), starting from `base`.
pub fn config_for(base: &Config, bits: &[bool], env: &DimensionEnv) -> Config {
    let mut config = base.clone();
    for (dim, &on) in BUILTIN.iter().zip(bits) {
        (dim.apply)(&mut config, on, env);
    }
    config
}

/// Config keys a probe observes whatever the dimensions: an observation of
/// the probe says nothing when the backend's policy cannot enforce one of
/// them as set (e.g. `shm` on Linux while semaphores share `/dev/shm`).
pub fn observed_keys(probe: &str) -> &'static [&'static str] {
    match probe {
        "pty" | "workload-pty" => &["nested_pty"],
        "keychain" | "workload-keychain" => &["keychain_access"],
        "sem" | "workload-sem" => &["posix_ipc.semaphores"],
        "shm" => &["posix_ipc.shared_memory"],
        "unix-connect" | "workload-unix-connect" => &["unix_socket_connects"],
        "hid" => &["ui.injection"],
        "network" => &["network.outbound"],
        "file-read" => &["filesystem.read_only"],
        "file-write" => &["filesystem.read_write"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_config_keys_a_policy_can_name() {
        let known = [
            "nested_pty",
            "keychain_access",
            "gui_access",
            "ui.injection",
            "posix_ipc.semaphores",
            "posix_ipc.shared_memory",
            "unix_socket_connects",
            "network.outbound",
            "filesystem.read_only",
            "filesystem.read_write",
        ];
        for dim in BUILTIN {
            assert!(known.contains(&dim.key), "{}", dim.key);
        }
        for probe in ["pty", "shm", "unix-connect", "file-read"] {
            assert!(observed_keys(probe).iter().all(|k| known.contains(k)));
        }
        assert!(observed_keys("tiocsti").is_empty());
    }

    #[test]
    fn each_axis_changes_the_config() {
        let env = DimensionEnv {
            unix_socket: "/tmp/x.sock".into(),
        };
        let base = Config::default();
        for (i, dim) in BUILTIN.iter().enumerate() {
            let mut on = vec![false; BUILTIN.len()];
            on[i] = true;
            let off = vec![false; BUILTIN.len()];
            assert_ne!(
                config_for(&base, &on, &env),
                config_for(&base, &off, &env),
                "{}",
                dim.name
            );
        }
        let all = config_for(&base, &[true; 7], &env);
        assert_eq!(all.unix_socket_connects, vec!["/tmp/x.sock".to_string()]);
        assert_eq!(all.network.outbound, Outbound::Mode(OutboundMode::Allow));
    }
}
