//! Config loading and validation: every error names the key path and value.

use profile::config::{Baseline, Clipboard, Config, Outbound, OutboundMode};
use profile::path::HostEnv;
use rstest::rstest;
use std::io::Write;

fn env() -> HostEnv {
    HostEnv {
        home: Some("/Users/u".into()),
        user: Some("u".into()),
        uid: 501,
    }
}

#[test]
fn empty_toml_and_json_are_the_defaults() {
    assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
    assert_eq!(Config::from_json_str("{}").unwrap(), Config::default());
}

#[test]
fn every_key_parses_in_toml() {
    let text = r#"
baseline = "permissive"
nested_pty = false
keychain_access = true
gui_access = true
unix_socket_connects = ["/tmp/<USER>/s.sock"]
extra_mach_lookups = ["com.example.x"]
[ui]
disable = false
injection = true
clipboard = "read"
[posix_ipc]
semaphores = false
shared_memory = true
[filesystem]
read_only = ["/opt"]
read_write = ["~/work"]
denied = ["~/.ssh"]
[network]
outbound = { proxy_port = 8080 }
[limits]
raise_nofile = false
"#;
    let c = Config::from_toml_str(text).unwrap();
    assert_eq!(c.baseline, Baseline::Permissive);
    assert!(!c.nested_pty && c.keychain_access && c.gui_access);
    assert_eq!(c.ui.clipboard, Clipboard::Read);
    assert!(c.ui.injection && !c.ui.disable);
    assert!(!c.posix_ipc.semaphores && c.posix_ipc.shared_memory);
    assert_eq!(c.filesystem.denied, vec!["~/.ssh".to_string()]);
    assert_eq!(c.network.outbound, Outbound::Proxy { proxy_port: 8080 });
    assert!(!c.limits.raise_nofile);
}

#[rstest]
#[case(
    r#"{"network": {"outbound": "allow"}}"#,
    Outbound::Mode(OutboundMode::Allow)
)]
#[case(
    r#"{"network": {"outbound": "deny"}}"#,
    Outbound::Mode(OutboundMode::Deny)
)]
#[case(r#"{"network": {"outbound": {"proxy_port": 3128}}}"#, Outbound::Proxy { proxy_port: 3128 })]
fn outbound_forms_in_json(#[case] text: &str, #[case] want: Outbound) {
    assert_eq!(Config::from_json_str(text).unwrap().network.outbound, want);
}

/// (text, key path the error must name, a fragment naming the value)
#[rstest]
#[case::unknown_top("bogus = 1", "", "bogus")]
#[case::unknown_nested("[ui]\nclipbord = \"none\"", "ui", "clipbord")]
#[case::wrong_type_bool("nested_pty = \"yes\"", "nested_pty", "\"yes\"")]
#[case::wrong_type_list(
    "[filesystem]\nread_only = \"/opt\"",
    "filesystem.read_only",
    "\"/opt\""
)]
#[case::wrong_type_item(
    "[filesystem]\nread_write = [\"/a\", 7]",
    "filesystem.read_write[1]",
    "7"
)]
#[case::bad_enum("baseline = \"lax\"", "baseline", "lax")]
#[case::bad_clipboard("[ui]\nclipboard = \"both\"", "ui.clipboard", "both")]
#[case::bad_outbound("[network]\noutbound = \"maybe\"", "network.outbound", "\"maybe\"")]
#[case::bad_proxy_key("[network]\noutbound = { port = 1 }", "network.outbound", "port")]
#[case::bad_port(
    "[network]\noutbound = { proxy_port = 70000 }",
    "network.outbound.proxy_port",
    "70000"
)]
fn toml_errors_name_key_and_value(#[case] text: &str, #[case] key: &str, #[case] value: &str) {
    let e = Config::from_toml_str(text).unwrap_err();
    assert!(
        e.key.starts_with(key),
        "key {:?} should start with {key:?} ({e})",
        e.key
    );
    assert!(e.to_string().contains(value), "{e} should name {value}");
}

#[rstest]
#[case::unknown(r#"{"network": {"inbound": "deny"}}"#, "network", "inbound")]
#[case::wrong_type(r#"{"gui_access": 1}"#, "gui_access", "1")]
#[case::bad_value(r#"{"ui": {"clipboard": "all!"}}"#, "ui.clipboard", "all!")]
#[case::wrong_item(
    r#"{"unix_socket_connects": ["/a", null]}"#,
    "unix_socket_connects[1]",
    "null"
)]
fn json_errors_name_key_and_value(#[case] text: &str, #[case] key: &str, #[case] value: &str) {
    let e = Config::from_json_str(text).unwrap_err();
    assert!(
        e.key.starts_with(key),
        "key {:?} should start with {key:?} ({e})",
        e.key
    );
    assert!(e.to_string().contains(value), "{e} should name {value}");
}

#[test]
fn toml_errors_give_the_line() {
    let e = Config::from_toml_str("\n\nnested_pty = 3").unwrap_err();
    assert!(e.message.contains("line 3"), "{e}");
}

/// Semantic errors from validate: (json, key path, message fragment)
#[rstest]
#[case(
    r#"{"filesystem": {"read_write": ["/a", "/b", "tmp/x"]}}"#,
    "filesystem.read_write[2]",
    "relative path \"tmp/x\""
)]
#[case(
    r#"{"filesystem": {"read_only": [""]}}"#,
    "filesystem.read_only[0]",
    "empty path"
)]
#[case(
    r#"{"filesystem": {"denied": ["/a/../etc"]}}"#,
    "filesystem.denied[0]",
    "\"/a/../etc\""
)]
#[case(
    r#"{"filesystem": {"denied": ["/a\u0000b"]}}"#,
    "filesystem.denied[0]",
    "NUL"
)]
#[case(
    r#"{"unix_socket_connects": ["run/x.sock"]}"#,
    "unix_socket_connects[0]",
    "relative path"
)]
#[case(
    r#"{"extra_mach_lookups": ["com.a\"b"]}"#,
    "extra_mach_lookups[0]",
    "com.a\\\"b"
)]
#[case(
    r#"{"extra_mach_lookups": ["caf\u00e9"]}"#,
    "extra_mach_lookups[0]",
    "printable ASCII"
)]
#[case(r#"{"extra_mach_lookups": [""]}"#, "extra_mach_lookups[0]", "empty")]
#[case(
    r#"{"network": {"outbound": {"proxy_port": 0}}}"#,
    "network.outbound.proxy_port",
    "port 0"
)]
fn validate_errors_name_key_and_value(
    #[case] json: &str,
    #[case] key: &str,
    #[case] fragment: &str,
) {
    let e = Config::from_json_str(json)
        .unwrap()
        .validate(&env())
        .unwrap_err();
    assert_eq!(e.key, key, "{e}");
    assert!(
        e.to_string().contains(fragment),
        "{e} should contain {fragment}"
    );
}

#[test]
fn the_contract_example_message() {
    let c =
        Config::from_json_str(r#"{"filesystem": {"read_write": ["/a", "/b", "tmp/x"]}}"#).unwrap();
    let e = c.validate(&env()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "filesystem.read_write[2]: relative path \"tmp/x\""
    );
}

#[test]
fn validate_resolves_paths_and_implications() {
    let c = Config::from_toml_str(
        "gui_access = true\nkeychain_access = true\nunix_socket_connects = [\"/var/run/<USER>/<UID>.sock\"]\n[filesystem]\nread_write = [\"~/w//x/\", \"/tmp\"]",
    )
    .unwrap();
    let r = c.validate(&env()).unwrap();
    assert_eq!(
        r.filesystem.read_write,
        vec!["/Users/u/w/x", "/private/tmp"]
    );
    assert_eq!(r.unix_socket_connects, vec!["/private/var/run/u/501.sock"]);
    assert_eq!(
        r.keychain_dir.as_deref(),
        Some("/Users/u/Library/Keychains")
    );
    assert!(!r.ui.disable, "gui_access implies ui.disable = false");
}

#[test]
fn keychain_without_home_is_an_error_naming_the_key() {
    let c = Config {
        keychain_access: true,
        ..Config::default()
    };
    let e = c
        .validate(&HostEnv {
            home: None,
            user: None,
            uid: 1,
        })
        .unwrap_err();
    assert_eq!(e.key, "keychain_access");
    assert!(e.message.contains("HOME"), "{e}");
}

#[rstest]
#[case("c.toml", "nested_pty = false\n")]
#[case("c.json", "{\"nested_pty\": false}")]
fn load_by_extension(#[case] name: &str, #[case] text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    assert!(!Config::load(&path).unwrap().nested_pty);
}

#[test]
fn load_refuses_other_extensions_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, "nested_pty: false").unwrap();
    let e = Config::load(&path).unwrap_err();
    assert!(e.to_string().contains("c.yaml"), "{e}");
}

#[test]
fn load_names_the_file_on_parse_errors_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "nested_pty = 1").unwrap();
    let e = Config::load(&path).unwrap_err();
    assert_eq!(e.key, "nested_pty");
    assert!(e.to_string().contains("bad.toml"), "{e}");
    let e = Config::load(&dir.path().join("missing.json")).unwrap_err();
    assert!(e.to_string().contains("missing.json"), "{e}");
}

/// Every key whose value is a table, found from the defaults (so a table
/// added later is covered): given as an array it is refused, naming the
/// key, in TOML and JSON alike; the root given as an array too.
#[test]
fn every_table_given_as_an_array_is_refused_naming_the_key() {
    fn tables(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        if let serde_json::Value::Object(map) = value {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if v.is_object() {
                    out.push(key.clone());
                    tables(&key, v, out);
                }
            }
        }
    }
    let defaults = serde_json::to_value(Config::default()).unwrap();
    let mut keys = Vec::new();
    tables("", &defaults, &mut keys);
    assert!(keys.len() >= 5, "{keys:?}");
    for key in &keys {
        // {"a": {"b": [true]}} for key a.b
        let mut json = "[true, false]".to_string();
        for part in key.rsplit('.') {
            json = format!("{{\"{part}\": {json}}}");
        }
        let e = Config::from_json_str(&json).unwrap_err();
        assert_eq!(&e.key, key, "{json}: {e}");
        assert!(e.message.contains("expected a table"), "{json}: {e}");
        let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key));
        let toml = if table.is_empty() {
            format!("{leaf} = [true, false]\n")
        } else {
            format!("[{table}]\n{leaf} = [true, false]\n")
        };
        let e = Config::from_toml_str(&toml).unwrap_err();
        assert_eq!(&e.key, key, "{toml}: {e}");
    }
    let e = Config::from_json_str("[\"permissive\", true]").unwrap_err();
    assert!(e.message.contains("expected a table"), "{e}");
}
