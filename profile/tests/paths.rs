//! Path rules: one row per rule, accepted and refused.

use profile::path::{normalise, private_form, resolve, HostEnv, Templates};
use rstest::rstest;

fn env() -> HostEnv {
    HostEnv {
        home: Some("/Users/u".into()),
        user: Some("alice".into()),
        uid: 501,
    }
}

#[rstest]
#[case::plain("/opt/tool", "/opt/tool")]
#[case::root("/", "/")]
#[case::double_slash("//opt//tool", "/opt/tool")]
#[case::trailing_slash("/opt/tool/", "/opt/tool")]
#[case::dot_segment("/opt/./tool", "/opt/tool")]
#[case::only_slashes("///", "/")]
#[case::home("~/work", "/Users/u/work")]
#[case::home_alone("~", "/Users/u")]
#[case::home_slash("~/", "/Users/u")]
#[case::tmp("/tmp", "/private/tmp")]
#[case::tmp_child("/tmp/x/", "/private/tmp/x")]
#[case::var("/var/folders/ab", "/private/var/folders/ab")]
#[case::etc("/etc/hosts", "/private/etc/hosts")]
#[case::tmp_lookalike("/tmpfiles/x", "/tmpfiles/x")]
#[case::already_private("/private/tmp/x", "/private/tmp/x")]
#[case::nested_tmp("/opt/tmp", "/opt/tmp")]
#[case::tilde_inside("/a/~/b", "/a/~/b")]
#[case::dots_in_name("/a/..b/c..", "/a/..b/c..")]
#[case::templates_literal("/x/<USER>", "/x/<USER>")]
#[case::non_ascii_kept("/caf\u{e9}", "/caf\u{e9}")]
#[case::quote_kept("/a\"b", "/a\"b")]
fn accepted(#[case] raw: &str, #[case] want: &str) {
    assert_eq!(resolve(raw, &env(), "k", Templates::Literal).unwrap(), want);
}

#[rstest]
#[case::user("/tmp/<USER>.sock", "/private/tmp/alice.sock")]
#[case::uid("/var/run/<UID>/s", "/private/var/run/501/s")]
#[case::both("~/<USER>-<UID>", "/Users/u/alice-501")]
#[case::repeated("/<UID>/<UID>", "/501/501")]
fn templates_expand(#[case] raw: &str, #[case] want: &str) {
    assert_eq!(resolve(raw, &env(), "k", Templates::Expand).unwrap(), want);
}

#[rstest]
#[case::empty("", "empty path")]
#[case::relative("tmp/x", "relative path \"tmp/x\"")]
#[case::dot_relative("./x", "relative path")]
#[case::tilde_user("~bob/x", "relative path")]
#[case::dotdot("/a/../b", "\"..\" segment")]
#[case::dotdot_end("/a/..", "\"..\" segment")]
#[case::dotdot_root("/..", "\"..\" segment")]
#[case::nul("/a\0b", "NUL")]
fn refused(#[case] raw: &str, #[case] fragment: &str) {
    let e = resolve(raw, &env(), "filesystem.read_only[3]", Templates::Literal).unwrap_err();
    assert_eq!(e.key, "filesystem.read_only[3]");
    assert!(
        e.message.contains(fragment),
        "{e} should contain {fragment}"
    );
    assert!(
        e.message.contains(&format!("{raw:?}")),
        "{e} should name {raw:?}"
    );
}

#[test]
fn home_unset_is_an_error() {
    let no_home = HostEnv {
        home: None,
        ..env()
    };
    let e = resolve("~/x", &no_home, "filesystem.denied[0]", Templates::Literal).unwrap_err();
    assert_eq!(e.key, "filesystem.denied[0]");
    assert!(e.message.contains("HOME"), "{e}");
}

#[test]
fn relative_home_is_an_error() {
    let bad = HostEnv {
        home: Some("relative".into()),
        ..env()
    };
    assert!(resolve("~/x", &bad, "k", Templates::Literal).is_err());
}

#[test]
fn user_unknown_is_an_error_only_when_used() {
    let anon = HostEnv {
        user: None,
        ..env()
    };
    assert!(resolve("/s/<USER>", &anon, "k", Templates::Expand).is_err());
    assert_eq!(
        resolve("/s/<UID>", &anon, "k", Templates::Expand).unwrap(),
        "/s/501"
    );
}

#[test]
fn template_cannot_smuggle_dotdot_or_slash() {
    let evil = HostEnv {
        user: Some("..".into()),
        ..env()
    };
    assert!(resolve("/s/<USER>/x", &evil, "k", Templates::Expand).is_err());
    let slashy = HostEnv {
        user: Some("a/b".into()),
        ..env()
    };
    assert!(resolve("/s/<USER>", &slashy, "k", Templates::Expand).is_err());
}

#[test]
fn normalise_keeps_the_spelled_form() {
    assert_eq!(
        normalise("/tmp//x/", &env(), "k", Templates::Literal).unwrap(),
        "/tmp/x"
    );
    assert_eq!(private_form("/etc"), "/private/etc");
    assert_eq!(private_form("/etcetera"), "/etcetera");
}
