//! The model's decision vectors: issue 3's (from Apple's source and
//! measurements elsewhere) exactly as written, then our own. These are model
//! predictions; the macOS matrix is what checks them against Seatbelt.

use profile::model::{Arg, Decision, Model, Request};
use rstest::rstest;
use std::collections::BTreeMap;

const HEAD: &str = "(version 1)(deny default)";

fn model(body: &str) -> Model {
    model_with(body, &[])
}

fn model_with(body: &str, params: &[(&str, &str)]) -> Model {
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Model::compile(body, &params)
        .unwrap_or_else(|e| panic!("profile {body:?} does not compile: {e}"))
}

fn arg(kind: &str, value: &str) -> Option<Arg> {
    let v = value.to_string();
    match kind {
        "path" => Some(Arg::Path(v)),
        "global" => Some(Arg::GlobalName(v)),
        "iokit" => Some(Arg::IokitClass(v)),
        "ipc" => Some(Arg::IpcName(v)),
        "sysctl" => Some(Arg::SysctlName(v)),
        "target" => Some(Arg::Target(v)),
        "remote" => Some(Arg::Remote(v)),
        "none" => None,
        other => panic!("bad arg kind {other}"),
    }
}

fn decide(profile: &str, op: &str, kind: &str, value: &str) -> Decision {
    let m = model(profile);
    let e = m.decide(&Request {
        op: op.into(),
        arg: arg(kind, value),
    });
    e.decision
}

use Decision::{Allow, Deny, Unknown};

// ---- issue 3, exactly as written ----

#[rstest]
#[case::subpath_deny_inside_allow(
    "(allow file-read* (subpath \"/a\"))(deny file-read* (subpath \"/a/s\"))",
    "file-read-data",
    "/a/s/x",
    Deny
)]
#[case::subpath_allow_outside_deny(
    "(allow file-read* (subpath \"/a\"))(deny file-read* (subpath \"/a/s\"))",
    "file-read-data",
    "/a/x",
    Allow
)]
#[case::subpath_swapped(
    "(deny file-read* (subpath \"/a/s\"))(allow file-read* (subpath \"/a\"))",
    "file-read-data",
    "/a/s/x",
    Allow
)]
#[case::unix_literal_deny_then_allow(
    "(deny network-outbound (literal \"/s\"))(allow network-outbound)",
    "network-outbound",
    "/s",
    Deny
)]
#[case::unix_literal_swapped(
    "(allow network-outbound)(deny network-outbound (literal \"/s\"))",
    "network-outbound",
    "/s",
    Deny
)]
#[case::specific_op_beats_later_family(
    "(allow file-read-data (subpath \"/x\"))(deny file-read* (subpath \"/x\"))",
    "file-read-data",
    "/x/f",
    Allow
)]
#[case::family_denies_other_children(
    "(allow file-read-data (subpath \"/x\"))(deny file-read* (subpath \"/x\"))",
    "file-read-metadata",
    "/x/f",
    Deny
)]
#[case::unfiltered_child_beats_filtered_parent(
    "(allow file-read-data)(deny file-read* (subpath \"/s\"))",
    "file-read-data",
    "/s/f",
    Allow
)]
#[case::later_allow_default_replaces_deny(
    "(allow file-read* (literal \"/q\"))(allow default)",
    "file-read-data",
    "/z",
    Allow
)]
fn issue_vectors_after_deny_default(
    #[case] body: &str,
    #[case] op: &str,
    #[case] path: &str,
    #[case] want: Decision,
) {
    assert_eq!(decide(&format!("{HEAD}{body}"), op, "path", path), want);
}

#[rstest]
#[case::write_under_w("file-write-data", "/w/x", Allow)]
#[case::write_elsewhere("file-write-data", "/z", Deny)]
#[case::read_elsewhere("file-read-data", "/z", Allow)]
fn issue_vector_allow_default_then_write_rules(
    #[case] op: &str,
    #[case] path: &str,
    #[case] want: Decision,
) {
    let p = "(version 1)(allow default)(deny file-write*)(allow file-write* (subpath \"/w\"))";
    assert_eq!(decide(p, op, "path", path), want);
}

#[rstest]
#[case::map_executable("file-map-executable", "path", "/usr/lib/libx.dylib")]
#[case::process_info("process-info-pidinfo", "none", "")]
#[case::process_info_family("process-info*", "none", "")]
#[case::iokit_properties("iokit-get-properties", "iokit", "IOService")]
#[case::signal_self("signal", "target", "self")]
fn deny_default_alone_still_allows(#[case] op: &str, #[case] kind: &str, #[case] value: &str) {
    assert_eq!(decide(HEAD, op, kind, value), Allow);
}

#[test]
fn deny_default_position_independent() {
    let p = "(version 1)(allow file-read* (literal \"/a\"))(deny default)";
    assert_eq!(decide(p, "file-read-data", "path", "/a"), Allow);
    assert_eq!(decide(p, "file-read-data", "path", "/b"), Deny);
}

// ---- our own ----

#[rstest]
#[case::job_creation_own_fallback_deny("(allow default)", "job-creation", "none", "", Deny)]
#[case::system_privilege_own_fallback(
    "(version 1)(deny default)",
    "system-privilege",
    "none",
    "",
    Allow
)]
#[case::signal_others_denied("(version 1)(deny default)", "signal", "target", "others", Deny)]
#[case::bootstrap_follows_lookup(
    "(version 1)(deny default)(allow mach-lookup (global-name \"com.apple.x\"))",
    "mach-bootstrap",
    "none",
    "",
    Allow
)]
#[case::bootstrap_without_lookup("(version 1)(deny default)", "mach-bootstrap", "none", "", Deny)]
#[case::explicit_signal_rule_beats_implicit(
    "(version 1)(deny default)(deny signal (target same-sandbox))",
    "signal",
    "target",
    "self",
    Deny
)]
#[case::signal_children_is_not_self(
    "(version 1)(deny default)(allow signal (target children))",
    "signal",
    "target",
    "self",
    Allow
)]
#[case::no_default_rule_is_allow(
    "(version 1)(deny network*)",
    "file-read-data",
    "path",
    "/x",
    Allow
)]
#[case::network_family(
    "(version 1)(allow default)(deny network*)",
    "network-outbound",
    "path",
    "/s",
    Deny
)]
fn fallbacks_and_implicit_rules(
    #[case] p: &str,
    #[case] op: &str,
    #[case] kind: &str,
    #[case] v: &str,
    #[case] want: Decision,
) {
    assert_eq!(decide(p, op, kind, v), want);
}

#[rstest]
#[case::literal_exact("(allow file-read* (literal \"/a/b\"))", "/a/b", Allow)]
#[case::literal_not_below("(allow file-read* (literal \"/a\"))", "/a/b", Deny)]
#[case::path_alias("(allow file-read* (path \"/a\"))", "/a", Allow)]
#[case::subpath_component("(allow file-read* (subpath \"/a\"))", "/ab", Deny)]
#[case::subpath_itself("(allow file-read* (subpath \"/a\"))", "/a", Allow)]
#[case::prefix_bytes("(allow file-read* (prefix \"/a\"))", "/ab", Allow)]
#[case::regex_anchored(
    "(allow file-read* (regex #\"^/dev/ttys[0-9]+$\"))",
    "/dev/ttys003",
    Allow
)]
#[case::regex_no_sibling("(allow file-read* (regex #\"^/a/b(/|$)\"))", "/a/bc", Deny)]
#[case::regex_plain_string("(allow file-read* (regex \"^/a\\\\.b$\"))", "/a.b", Allow)]
#[case::regex_plain_string_dot_literal("(allow file-read* (regex \"^/a\\\\.b$\"))", "/axb", Deny)]
#[case::several_filters_any("(allow file-read* (literal \"/q\") (subpath \"/a\"))", "/a/z", Allow)]
#[case::require_all(
    "(allow file-read* (require-all (subpath \"/a\") (regex #\"\\.txt$\")))",
    "/a/f.txt",
    Allow
)]
#[case::require_all_fails(
    "(allow file-read* (require-all (subpath \"/a\") (regex #\"\\.txt$\")))",
    "/a/f.bin",
    Deny
)]
#[case::require_not(
    "(allow file-read* (require-all (subpath \"/a\") (require-not (subpath \"/a/s\"))))",
    "/a/s/f",
    Deny
)]
#[case::require_not_outside(
    "(allow file-read* (require-all (subpath \"/a\") (require-not (subpath \"/a/s\"))))",
    "/a/t",
    Allow
)]
#[case::require_any(
    "(allow file-read* (require-any (literal \"/q\") (literal \"/r\")))",
    "/r",
    Allow
)]
#[case::tmp_resolves_to_private("(allow file-read* (subpath \"/private/tmp\"))", "/tmp/x", Allow)]
#[case::spelled_tmp_never_matches("(allow file-read* (subpath \"/tmp\"))", "/tmp/x", Deny)]
#[case::with_modifier_ignored("(deny file-read* (subpath \"/a\") (with message \"TAG\"))(allow file-read* (literal \"/b\") (with report))", "/a/x", Deny)]
#[case::regex_quote(
    "(allow file-read* (regex (string-append \"^\" (regex-quote \"/a.b\") \"$\")))",
    "/a.b",
    Allow
)]
#[case::regex_quote_no_wildcard(
    "(allow file-read* (regex (string-append \"^\" (regex-quote \"/a.b\") \"$\")))",
    "/axb",
    Deny
)]
fn path_filters(#[case] body: &str, #[case] path: &str, #[case] want: Decision) {
    assert_eq!(
        decide(&format!("{HEAD}{body}"), "file-read-data", "path", path),
        want
    );
}

#[rstest]
#[case::defined_param(&[("HOME", "/Users/u")], "/Users/u/x", Allow)]
#[case::defined_param_outside(&[("HOME", "/Users/u")], "/Users/v/x", Deny)]
fn param_and_string_append(
    #[case] params: &[(&str, &str)],
    #[case] path: &str,
    #[case] want: Decision,
) {
    let p = format!("{HEAD}(allow file-read* (subpath (string-append (param \"HOME\") \"/\")) (subpath (string-append (param \"HOME\") \"/x\")))");
    let m = model_with(&p, params);
    assert_eq!(
        m.decide(&Request::path("file-read-data", path)).decision,
        want
    );
}

#[test]
fn undefined_param_makes_the_rule_unknown_never_a_guess() {
    let p = format!("{HEAD}(allow file-read* (subpath (param \"HOME\")))");
    let e = model(&p).decide(&Request::path("file-read-data", "/x"));
    assert_eq!(e.decision, Unknown, "{}", e.reason);
}

#[rstest]
#[case::global_name(
    "(allow mach-lookup (global-name \"com.apple.a\"))",
    "com.apple.a",
    Allow
)]
#[case::global_name_other(
    "(allow mach-lookup (global-name \"com.apple.a\"))",
    "com.apple.b",
    Deny
)]
#[case::global_name_regex(
    "(allow mach-lookup (global-name-regex #\"^com\\.apple\\.trustd\"))",
    "com.apple.trustd.agent",
    Allow
)]
#[case::local_name_never_matches_global(
    "(allow mach-lookup (local-name \"com.apple.a\"))",
    "com.apple.a",
    Deny
)]
#[case::unfiltered_mach_family("(allow mach*)", "com.apple.z", Allow)]
fn mach_lookup(#[case] body: &str, #[case] name: &str, #[case] want: Decision) {
    assert_eq!(
        decide(&format!("{HEAD}{body}"), "mach-lookup", "global", name),
        want
    );
}

#[rstest]
#[case::user_client_class(
    "(allow iokit-open (iokit-user-client-class \"IOHIDLibUserClient\"))",
    "IOHIDLibUserClient",
    Allow
)]
#[case::registry_entry_alias(
    "(allow iokit-open (iokit-registry-entry-class \"IOHIDLibUserClient\"))",
    "IOHIDLibUserClient",
    Allow
)]
#[case::later_deny_wins("(allow iokit-open)(allow iokit-open (iokit-user-client-class \"X\"))(deny iokit-open (iokit-registry-entry-class \"IOHIDParamUserClient\"))", "IOHIDParamUserClient", Deny)]
#[case::earlier_deny_loses_to_later_allow("(deny iokit-open (iokit-registry-entry-class \"IOHIDParamUserClient\"))(allow iokit-open (iokit-user-client-class \"IOHIDParamUserClient\"))", "IOHIDParamUserClient", Allow)]
#[case::other_class("(allow iokit-open (iokit-user-client-class \"A\"))", "B", Deny)]
fn iokit(#[case] body: &str, #[case] class: &str, #[case] want: Decision) {
    assert_eq!(
        decide(&format!("{HEAD}{body}"), "iokit-open", "iokit", class),
        want
    );
}

#[rstest]
#[case::sem_name(
    "ipc-posix-sem",
    "(allow ipc-posix-sem (ipc-posix-name \"/bc_1\"))",
    "/bc_1",
    Allow
)]
#[case::sem_prefix(
    "ipc-posix-sem",
    "(allow ipc-posix-sem (ipc-posix-name-prefix \"/bc_\"))",
    "/bc_77",
    Allow
)]
#[case::sem_regex(
    "ipc-posix-sem",
    "(allow ipc-posix-sem (ipc-posix-name-regex #\"^/mp-\"))",
    "/mp-abc",
    Allow
)]
#[case::sem_other(
    "ipc-posix-sem",
    "(allow ipc-posix-sem (ipc-posix-name \"/bc_1\"))",
    "/bc_2",
    Deny
)]
#[case::sem_star_alias("ipc-posix-sem", "(allow ipc-posix-sem*)", "/x", Allow)]
#[case::shm_family(
    "ipc-posix-shm-write-create",
    "(allow ipc-posix-shm* (ipc-posix-name-prefix \"/bc\"))",
    "/bc1",
    Allow
)]
#[case::shm_read_not_write(
    "ipc-posix-shm-write-data",
    "(allow ipc-posix-shm-read*)",
    "/bc1",
    Deny
)]
fn posix_ipc(#[case] op: &str, #[case] body: &str, #[case] name: &str, #[case] want: Decision) {
    assert_eq!(decide(&format!("{HEAD}{body}"), op, "ipc", name), want);
}

#[rstest]
#[case::exact(
    "(allow sysctl-read (sysctl-name \"kern.ostype\"))",
    "kern.ostype",
    Allow
)]
#[case::prefix("(allow sysctl-read (sysctl-name-prefix \"hw.\"))", "hw.ncpu", Allow)]
#[case::other("(allow sysctl-read (sysctl-name-prefix \"hw.\"))", "kern.x", Deny)]
#[case::family("(allow sysctl*)", "kern.x", Allow)]
fn sysctl(#[case] body: &str, #[case] name: &str, #[case] want: Decision) {
    assert_eq!(
        decide(&format!("{HEAD}{body}"), "sysctl-read", "sysctl", name),
        want
    );
}

#[rstest]
#[case::literal_filtered_beats_unfiltered(
    "(allow network-outbound)(deny network-outbound (literal \"/s\"))",
    "/t",
    Allow
)]
#[case::older_spelling(
    "(allow network-outbound (remote unix-socket (path-literal \"/s\")))",
    "/s",
    Allow
)]
#[case::older_spelling_other(
    "(allow network-outbound (remote unix-socket (path-literal \"/s\")))",
    "/t",
    Deny
)]
#[case::inet_rule_never_matches_unix(
    "(allow network-outbound (remote ip \"localhost:*\"))",
    "/s",
    Deny
)]
#[case::socket_domain_unix("(allow network-outbound (socket-domain AF_UNIX))", "/s", Allow)]
#[case::tmp_socket_resolves(
    "(allow network-outbound (literal \"/private/tmp/s\"))",
    "/tmp/s",
    Allow
)]
fn network_outbound(#[case] body: &str, #[case] path: &str, #[case] want: Decision) {
    assert_eq!(
        decide(&format!("{HEAD}{body}"), "network-outbound", "path", path),
        want
    );
}

// ---- inet addresses: (remote ip "HOST:PORT") against Remote requests ----

const IP_ANY: &str = "(allow network-outbound (remote ip \"*:*\"))";
const LOCAL_8080: &str = "(allow network-outbound (remote ip \"localhost:8080\"))";

#[rstest]
#[case::any_host_any_port(IP_ANY, "remote", "93.184.216.34:443", Allow)]
#[case::any_matches_loopback(IP_ANY, "remote", "127.0.0.1:8080", Allow)]
#[case::any_matches_v6(IP_ANY, "remote", "[2001:db8::1]:80", Allow)]
#[case::localhost_port(LOCAL_8080, "remote", "127.0.0.1:8080", Allow)]
#[case::localhost_by_name(LOCAL_8080, "remote", "localhost:8080", Allow)]
#[case::localhost_v6(LOCAL_8080, "remote", "[::1]:8080", Allow)]
#[case::localhost_other_port(LOCAL_8080, "remote", "127.0.0.1:8081", Deny)]
#[case::localhost_other_host(LOCAL_8080, "remote", "10.0.0.1:8080", Deny)]
#[case::localhost_other_loopback(LOCAL_8080, "remote", "127.0.0.2:8080", Unknown)]
#[case::ip4_family_v6_host(
    "(allow network-outbound (remote ip4 \"*:*\"))",
    "remote",
    "[::1]:80",
    Deny
)]
#[case::tcp_is_not_decided(
    "(allow network-outbound (remote tcp \"*:*\"))",
    "remote",
    "127.0.0.1:80",
    Unknown
)]
#[case::local_side_is_not_decided(
    "(allow network-outbound (local ip \"*:80\"))",
    "remote",
    "127.0.0.1:80",
    Unknown
)]
#[case::host_pattern_sbpl_refuses(
    "(allow network-outbound (remote ip \"example.com:80\"))",
    "remote",
    "127.0.0.1:80",
    Unknown
)]
// The filter kinds never cross: an inet filter never matches an AF_UNIX
// path, a path filter never matches a remote address.
#[case::ip_rule_never_matches_unix_path(IP_ANY, "path", "/private/tmp/s.sock", Deny)]
#[case::path_rule_never_matches_remote(
    "(allow network-outbound (literal \"/private/tmp/s.sock\"))",
    "remote",
    "127.0.0.1:80",
    Deny
)]
#[case::unix_socket_domain_never_matches_remote(
    "(allow network-outbound (socket-domain AF_UNIX))",
    "remote",
    "127.0.0.1:80",
    Deny
)]
#[case::later_ip_deny_wins(
    "(allow network-outbound (remote ip \"localhost:*\"))(deny network-outbound (remote ip \"*:*\"))",
    "remote",
    "127.0.0.1:80",
    Deny
)]
#[case::later_port_allow_wins(
    "(deny network-outbound (remote ip \"*:*\"))(allow network-outbound (remote ip \"localhost:8080\"))",
    "remote",
    "127.0.0.1:8080",
    Allow
)]
#[case::param_address(
    "(allow network-outbound (remote ip (string-append \"localhost:\" \"8080\")))",
    "remote",
    "127.0.0.1:8080",
    Allow
)]
fn remote_addresses(
    #[case] body: &str,
    #[case] kind: &str,
    #[case] value: &str,
    #[case] want: Decision,
) {
    assert_eq!(
        decide(&format!("{HEAD}{body}"), "network-outbound", kind, value),
        want
    );
}

// ---- ioctls: path filters see the file, (ioctl-command N) the command ----

const TIOCSTI: u64 = 0x8001_7472;
const TIOCGWINSZ: u64 = 0x4008_7468;
const PTY_THEN_NO_TIOCSTI: &str =
    "(allow file-ioctl (regex #\"^/dev/ttys[0-9]+$\"))(deny file-ioctl (ioctl-command #x80017472))";

fn ioctl(body: &str, path: &str, command: u64) -> Decision {
    model(&format!("{HEAD}{body}"))
        .decide(&Request::with(
            "file-ioctl",
            Arg::Ioctl {
                path: path.into(),
                command,
            },
        ))
        .decision
}

#[rstest]
#[case::tiocsti_denied_last(PTY_THEN_NO_TIOCSTI, "/dev/ttys000", TIOCSTI, Deny)]
#[case::other_command_allowed(PTY_THEN_NO_TIOCSTI, "/dev/ttys000", TIOCGWINSZ, Allow)]
#[case::other_file_default(PTY_THEN_NO_TIOCSTI, "/dev/null", TIOCGWINSZ, Deny)]
#[case::tiocsti_elsewhere_denied(PTY_THEN_NO_TIOCSTI, "/dev/tty", TIOCSTI, Deny)]
#[case::swapped_allow_wins(
    "(deny file-ioctl (ioctl-command #x80017472))(allow file-ioctl (regex #\"^/dev/ttys[0-9]+$\"))",
    "/dev/ttys000",
    TIOCSTI,
    Allow
)]
#[case::decimal_command(
    "(allow file-ioctl (ioctl-command 2147578994))",
    "/dev/ttys000",
    TIOCSTI,
    Allow
)]
#[case::path_and_command(
    "(allow file-ioctl (require-all (literal \"/dev/ttys000\") (ioctl-command #x40087468)))",
    "/dev/ttys000",
    TIOCGWINSZ,
    Allow
)]
#[case::path_and_command_other_file(
    "(allow file-ioctl (require-all (literal \"/dev/ttys000\") (ioctl-command #x40087468)))",
    "/dev/ttys001",
    TIOCGWINSZ,
    Deny
)]
#[case::tmp_path_resolves(
    "(allow file-ioctl (subpath \"/private/tmp\"))",
    "/tmp/f",
    TIOCGWINSZ,
    Allow
)]
// The symbolic name is unbound on macOS 13/14; the model does not guess it.
#[case::symbolic_name_unknown(
    "(allow file-ioctl (ioctl-command TIOCSTI))",
    "/dev/ttys000",
    TIOCSTI,
    Unknown
)]
fn ioctl_commands(
    #[case] body: &str,
    #[case] path: &str,
    #[case] command: u64,
    #[case] want: Decision,
) {
    assert_eq!(ioctl(body, path, command), want);
}

#[test]
fn a_path_only_ioctl_request_cannot_be_decided_by_a_command_filter() {
    let m = model(&format!("{HEAD}{PTY_THEN_NO_TIOCSTI}"));
    let e = m.decide(&Request::path("file-ioctl", "/dev/ttys000"));
    assert_eq!(e.decision, Unknown, "{}", e.reason);
    assert!(e.reason.contains("no ioctl command"), "{}", e.reason);
}

#[test]
fn remote_and_ioctl_requests_are_named_in_explanations() {
    let m = model(&format!("{HEAD}{LOCAL_8080}{PTY_THEN_NO_TIOCSTI}"));
    let net = m.decide_all(&[Request::with(
        "network-outbound",
        Arg::Remote("127.0.0.1:9".into()),
    )]);
    assert_eq!(net.decision, Deny);
    assert!(
        net.reason.starts_with("network-outbound 127.0.0.1:9"),
        "{}",
        net.reason
    );
    let tty = m.decide_all(&[Request::with(
        "file-ioctl",
        Arg::Ioctl {
            path: "/dev/ttys000".into(),
            command: TIOCSTI,
        },
    )]);
    assert_eq!(tty.decision, Deny);
    assert!(tty.reason.contains("#x80017472"), "{}", tty.reason);
}

// ---- evaluation of Scheme forms ----

#[rstest]
#[case::define_value("(define home \"/h\")(allow file-read* (subpath home))", "/h/x", Allow)]
#[case::define_function(
    "(define (dir p) (subpath (string-append \"/h\" p)))(allow file-read* (dir \"/d\"))",
    "/h/d/x",
    Allow
)]
#[case::function_emitting_rules(
    "(define (grant p) (allow file-read* (literal p)))(grant \"/g\")",
    "/g",
    Allow
)]
#[case::if_on_defined_param("(if (param \"ON\") (allow file-read* (literal \"/p\")))", "/p", Allow)]
#[case::when_on_undefined_param(
    "(when (param \"OFF\") (allow file-read* (literal \"/p\")))",
    "/p",
    Deny
)]
#[case::unless_on_undefined_param(
    "(unless (param \"OFF\") (allow file-read* (literal \"/p\")))",
    "/p",
    Allow
)]
#[case::let_binding("(let ((d \"/l\")) (allow file-read* (subpath d)))", "/l/x", Allow)]
#[case::lambda_rest_args(
    "(define (any-of . ps) (apply-not-modelled ps))(allow file-read* (literal \"/p\"))",
    "/p",
    Allow
)]
fn scheme_forms(#[case] body: &str, #[case] path: &str, #[case] want: Decision) {
    let m = model_with(&format!("{HEAD}{body}"), &[("ON", "1")]);
    let e = m.decide(&Request::path("file-read-data", path));
    assert_eq!(e.decision, want, "{}", e.reason);
}

// ---- soundness: undecidable rules ----

#[test]
fn undecidable_rule_above_the_decider_makes_unknown() {
    let p =
        format!("{HEAD}(allow file-read* (subpath \"/a\"))(deny file-read* (vnode-type SYMLINK))");
    let e = model(&p).decide(&Request::path("file-read-data", "/a/x"));
    assert_eq!(e.decision, Unknown);
    assert_eq!(e.rule.as_ref().map(|r| r.line), Some(1));
    assert!(e.reason.contains("vnode-type"), "{}", e.reason);
}

#[test]
fn undecidable_rule_below_the_decider_does_not_matter() {
    let p =
        format!("{HEAD}(deny file-read* (vnode-type SYMLINK))(allow file-read* (subpath \"/a\"))");
    assert_eq!(decide(&p, "file-read-data", "path", "/a/x"), Allow);
}

#[test]
fn undecidable_rule_ruled_out_by_other_filters_does_not_matter() {
    let p = format!("{HEAD}(allow file-read* (subpath \"/a\"))(deny file-read* (require-all (subpath \"/b\") (extension \"x\")))");
    assert_eq!(decide(&p, "file-read-data", "path", "/a/x"), Allow);
}

#[test]
fn undecidable_rule_agreeing_with_the_decision_is_only_mentioned() {
    let p =
        format!("{HEAD}(allow file-read* (subpath \"/a\"))(allow file-read* (extension \"x\"))");
    let e = model(&p).decide(&Request::path("file-read-data", "/a/x"));
    assert_eq!(e.decision, Allow);
    assert!(e.reason.contains("would decide the same"), "{}", e.reason);
}

#[test]
fn undecidable_condition_keeps_its_rules_as_possible() {
    // Whether a name is defined on the release is undecidable, but nothing
    // is left unevaluated: both branches run, their rules only possible.
    let p = format!("{HEAD}(allow file-read* (subpath \"/a\"))(if (defined? 'some-new-filter) (deny file-read* (literal \"/a/x\")))");
    let m = model(&p);
    assert_eq!(
        m.decide(&Request::path("file-read-data", "/a/x")).decision,
        Unknown
    );
    assert_eq!(
        m.decide(&Request::path("file-read-data", "/a/y")).decision,
        Allow
    );
    assert!(!m.not_evaluated().is_empty());
}

#[test]
fn an_unknown_procedure_leaves_no_answer_definite() {
    let p = format!("{HEAD}(allow file-read* (subpath \"/a\"))(if (some-unknown-fn) (deny file-read* (literal \"/a/x\")))");
    let m = model(&p);
    let e = m.decide(&Request::path("file-read-data", "/a/y"));
    assert_eq!(e.decision, Unknown);
    assert!(e.reason.contains("some-unknown-fn"), "{}", e.reason);
}

#[test]
fn untranslatable_regex_is_unknown_only_where_it_could_decide() {
    let p = format!("{HEAD}(allow file-read* (subpath \"/a\"))(deny file-read* (regex #\"\\d+\"))");
    let m = model(&p);
    assert_eq!(
        m.decide(&Request::path("file-read-data", "/a/1")).decision,
        Unknown
    );
    assert_eq!(
        m.decide(&Request::path("file-write-data", "/a/1")).decision,
        Deny
    );
}

#[test]
fn import_is_recorded_as_skipped() {
    let m = model("(version 1)(import \"bsd.sb\")(deny default)");
    assert_eq!(m.not_evaluated().len(), 1);
    assert!(
        m.not_evaluated()[0].why.contains("import"),
        "{:?}",
        m.not_evaluated()
    );
    // A missing import could decide anything.
    let e = m.decide(&Request::path("file-read-data", "/x"));
    assert_eq!(e.decision, Unknown);
    assert!(e.reason.contains("bsd.sb"), "{}", e.reason);
}

// ---- explanations ----

#[test]
fn explanation_names_the_deciding_rule_and_the_path_through_the_tree() {
    let p = "(version 1)\n(deny default)\n(allow file-read* (subpath \"/x\"))\n";
    let e = model(p).decide(&Request::path("file-read-data", "/x/f"));
    assert_eq!(e.decision, Allow);
    let rule = e.rule.expect("a rule decided");
    assert_eq!(
        (rule.line, rule.text.as_str()),
        (3, "(allow file-read* (subpath \"/x\"))")
    );
    assert_eq!(
        e.reason,
        "most specific operation file-read-data had no match; file-read* rule at line 3 matched (subpath \"/x\")"
    );
}

#[test]
fn default_decision_has_no_rule() {
    let e = model("(version 1)\n(deny default)").decide(&Request::path("file-read-data", "/x"));
    assert_eq!(e.decision, Deny);
    assert!(e.rule.is_none());
    assert!(
        e.reason.contains("(deny default) at line 2"),
        "{}",
        e.reason
    );
}

#[test]
fn footprint_is_a_conjunction() {
    let m = model(&format!(
        "{HEAD}(allow file-read* (literal \"/dev/ptmx\"))(allow pseudo-tty)"
    ));
    let ok = [
        Request::path("file-read-data", "/dev/ptmx"),
        Request::bare("pseudo-tty"),
    ];
    assert_eq!(m.decide_all(&ok).decision, Allow);
    let denied = [
        Request::bare("pseudo-tty"),
        Request::path("file-write-data", "/dev/ptmx"),
    ];
    let e = m.decide_all(&denied);
    assert_eq!(e.decision, Deny);
    assert!(
        e.reason.starts_with("file-write-data /dev/ptmx"),
        "{}",
        e.reason
    );
    let unknown = [Request::bare("pseudo-tty"), Request::bare("file-read-data")];
    assert_eq!(m.decide_all(&unknown).decision, Unknown);
    assert_eq!(m.decide_all(&[]).decision, Unknown);
}

#[test]
fn read_errors_carry_line_and_column() {
    let err = Model::compile(
        "(version 1)\n(allow file-read* (subpath \"/x\")",
        &BTreeMap::new(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("2:"), "{text}");
}

#[test]
fn unbounded_recursion_ends_without_crashing() {
    let m = model(&format!(
        "{HEAD}(define (f x) (f x))(f 1)(allow file-read* (literal \"/r\"))"
    ));
    // The budget ends evaluation: what follows is not known.
    let e = m.decide(&Request::path("file-read-data", "/r"));
    assert_eq!(e.decision, Unknown);
    assert!(e.reason.contains("recursion budget"), "{}", e.reason);
}
