//! The matrix axes. Each is a boolean; every combination runs. Adding one is
//! one line in [`BUILTIN`]: its name (as used in `allowed_when`), how it sets
//! the config, and the backends on which it means nothing.

use profile::config::{Config, Outbound, OutboundMode};
use runner::launch::Backend;

/// What a dimension needs to know about the harness's fixtures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionEnv {
    /// The AF_UNIX listener the `unix-connect` probe connects to.
    pub unix_socket: String,
}

/// One boolean axis of the built-in matrix.
pub struct Dimension {
    pub name: &'static str,
    /// Sets the config for this side of the axis.
    pub apply: fn(&mut Config, bool, &DimensionEnv),
    /// Backends that cannot express this option: an observation there says
    /// nothing about it, so cells whose expectation hinges on it are
    /// inconclusive.
    pub no_meaning_on: &'static [Backend],
}

/// The built-in axes, in report order.
pub const BUILTIN: &[Dimension] = &[
    Dimension {
        name: "nested_pty",
        apply: |c, v, _| c.nested_pty = v,
        no_meaning_on: &[],
    },
    Dimension {
        name: "keychain_access",
        apply: |c, v, _| c.keychain_access = v,
        no_meaning_on: &[],
    },
    Dimension {
        name: "gui_access",
        apply: |c, v, _| c.gui_access = v,
        no_meaning_on: &[Backend::Linux],
    },
    Dimension {
        name: "ui.injection",
        apply: |c, v, _| c.ui.injection = v,
        no_meaning_on: &[],
    },
    Dimension {
        name: "posix_ipc.semaphores",
        apply: |c, v, _| c.posix_ipc.semaphores = v,
        no_meaning_on: &[],
    },
    Dimension {
        name: "unix_socket",
        apply: set_unix_socket,
        no_meaning_on: &[],
    },
    Dimension {
        name: "network.outbound",
        apply: set_outbound,
        no_meaning_on: &[],
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

/// A known gap of a backend: for `probe`, in the configs where `when` (an
/// `allowed_when`-style expression) holds, the backend cannot enforce what
/// the spec says, so an observation there is inconclusive with `reason`.
pub struct Limitation {
    pub backend: Backend,
    pub probe: &'static str,
    pub when: &'static str,
    pub reason: &'static str,
}

/// The known backend gaps (each one also documented in docs/matrix.md).
pub const LIMITATIONS: &[Limitation] = &[Limitation {
    backend: Backend::Linux,
    probe: "shm",
    when: "posix_ipc.semaphores",
    reason: "the linux backend grants semaphores with a writable /dev/shm, which shm_open shares",
}];

/// The reason an observation of `probe` on `backend` under `bits` says
/// nothing, if a known limitation covers it.
pub fn limitation(backend: Backend, probe: &str, bits: &[bool]) -> Option<&'static str> {
    let names: Vec<String> = builtin_names().iter().map(|s| s.to_string()).collect();
    LIMITATIONS
        .iter()
        .filter(|l| l.backend == backend && l.probe == probe)
        .find(|l| super::expect::compile(l.when, &names).is_ok_and(|e| e.eval(bits)))
        .map(|l| l.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limitations_compile_and_apply() {
        let names: Vec<String> = builtin_names().iter().map(|s| s.to_string()).collect();
        for l in LIMITATIONS {
            assert!(
                super::super::expect::compile(l.when, &names).is_ok(),
                "{}",
                l.when
            );
        }
        let mut bits = vec![false; BUILTIN.len()];
        assert_eq!(limitation(Backend::Linux, "shm", &bits), None);
        bits[4] = true;
        assert!(limitation(Backend::Linux, "shm", &bits).is_some());
        assert_eq!(limitation(Backend::Seatbelt, "shm", &bits), None);
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
