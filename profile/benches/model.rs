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
        model.not_evaluated().is_empty(),
        "default profile leaves forms unevaluated: {:?}",
        model.not_evaluated()
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

/// Apple's application.sb (10.15.2) with its import followed, from the
/// shared corpus (`../shared/corpus` from the workspace or an ancestor's).
fn application_sb() -> (String, profile::model::CompileOptions) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let release = root
        .ancestors()
        .map(|a| a.join("shared/corpus/apple-sandbox-profiles/10.15.2_19C57"))
        .find(|p| p.is_dir())
        .expect("the shared corpus (../shared/corpus/apple-sandbox-profiles)");
    let dirs = vec![
        release.join("System/Library/Sandbox/Profiles"),
        release.join("usr/share/sandbox"),
    ];
    let file = dirs[0].join("application.sb");
    let text = std::fs::read_to_string(&file).expect("application.sb");
    let params = [
        ("_HOME", "/Users/bench"),
        ("application_container", "/Users/bench/C"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let opts = profile::model::CompileOptions {
        params,
        file: Some(file),
        import_paths: dirs,
    };
    (text, opts)
}

/// Compiling application.sb with system.sb imported (what a cold `explain`
/// does besides start-up), and deciding the requests its rules give.
fn bench_apple(c: &mut Criterion) {
    let (text, opts) = application_sb();
    let mut group = c.benchmark_group("apple");
    group.bench_function("compile_application_sb_with_imports", |b| {
        b.iter(|| black_box(Model::compile_with(black_box(&text), &opts).expect("compiles")))
    });
    let model = Model::compile_with(&text, &opts).expect("compiles");
    let reqs = model.derived_requests();
    group.throughput(Throughput::Elements(reqs.len() as u64));
    group.bench_function("decide_application_sb_derived_requests", |b| {
        b.iter(|| {
            for r in &reqs {
                black_box(model.decide(black_box(r)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench, bench_apple);
criterion_main!(benches);
