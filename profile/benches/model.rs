//! Model decisions per second on the default (strict) profile with a fixed
//! mix of requests. Target: >= 1,000,000 decisions/s.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use profile::model::{Arg, Model, Request};
use profile::path::HostEnv;
use profile::{build, BuildOptions, Config, ValueMode};

fn default_model() -> Model {
    let env = HostEnv {
        home: Some("/Users/bench".into()),
        user: Some("bench".into()),
        uid: 501,
    };
    let built = build(
        &Config::default(),
        &BuildOptions {
            mode: ValueMode::Param,
            env,
            program: None,
        },
    )
    .expect("default config builds");
    let model = Model::compile(&built.sbpl, &built.params).expect("default profile compiles");
    assert!(
        model.skipped_forms().is_empty(),
        "default profile skips forms: {:?}",
        model.skipped_forms()
    );
    model
}

/// What a CLI workload and the probes ask for, allowed and denied alike.
fn mix() -> Vec<Request> {
    let p = |op: &str, path: &str| Request::path(op, path);
    let w = |op: &str, arg: Arg| Request::with(op, arg);
    vec![
        p("file-read-data", "/usr/lib/libSystem.B.dylib"),
        p(
            "file-read-metadata",
            "/System/Library/Frameworks/Security.framework",
        ),
        p("file-read-data", "/Users/bench/.ssh/id_ed25519"),
        p("file-write-data", "/Users/bench/project/out.txt"),
        p("file-write-create", "/private/tmp/x"),
        p("file-read-data", "/dev/ptmx"),
        p("file-ioctl", "/dev/ttys003"),
        p("file-map-executable", "/usr/lib/dyld"),
        p("network-outbound", "/private/var/run/mDNSResponder"),
        w(
            "mach-lookup",
            Arg::GlobalName("com.apple.SecurityServer".into()),
        ),
        w(
            "mach-lookup",
            Arg::GlobalName("com.apple.windowserver.active".into()),
        ),
        w("iokit-open", Arg::IokitClass("IOHIDLibUserClient".into())),
        w("ipc-posix-sem", Arg::IpcName("/beltcheck.probe.1.0".into())),
        w("sysctl-read", Arg::SysctlName("hw.ncpu".into())),
        Request::bare("pseudo-tty"),
        w("signal", Arg::Target("self".into())),
    ]
}

fn bench(c: &mut Criterion) {
    let model = default_model();
    let reqs = mix();
    let mut group = c.benchmark_group("model");
    group.throughput(Throughput::Elements(reqs.len() as u64));
    group.bench_function("decide_default_profile_mix", |b| {
        b.iter(|| {
            for r in &reqs {
                black_box(model.decide(black_box(r)));
            }
        })
    });
    group.bench_function("verdict_default_profile_mix", |b| {
        b.iter(|| {
            for r in &reqs {
                black_box(model.verdict(black_box(r)));
            }
        })
    });
    group.bench_function("decide_all_default_profile_mix", |b| {
        b.iter(|| black_box(model.decide_all(black_box(&reqs))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
