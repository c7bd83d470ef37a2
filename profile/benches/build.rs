//! Building the default profile. Target: <= 20 us.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use profile::config::Baseline;
use profile::path::HostEnv;
use profile::{build, BuildOptions, Config, ValueMode};

fn env() -> HostEnv {
    HostEnv {
        home: Some("/Users/someone".into()),
        user: Some("someone".into()),
        uid: 501,
    }
}

fn bench_build(c: &mut Criterion) {
    let opts = BuildOptions {
        mode: ValueMode::Param,
        env: env(),
        program: None,
    };
    let strict = Config::default();
    let permissive = Config {
        baseline: Baseline::Permissive,
        ..Config::default()
    };
    let mut busy = Config::default();
    busy.filesystem.read_write = (0..16).map(|i| format!("~/work/project-{i}")).collect();
    busy.filesystem.denied = vec!["~/.ssh".into(), "/tmp/secret".into()];
    busy.unix_socket_connects = vec!["/tmp/<USER>/agent.sock".into()];

    let mut group = c.benchmark_group("build");
    group.bench_function("default_strict", |b| {
        b.iter(|| black_box(build(black_box(&strict), &opts).unwrap()))
    });
    group.bench_function("default_permissive", |b| {
        b.iter(|| black_box(build(black_box(&permissive), &opts).unwrap()))
    });
    group.bench_function("strict_19_paths", |b| {
        b.iter(|| black_box(build(black_box(&busy), &opts).unwrap()))
    });
    let inline = BuildOptions {
        mode: ValueMode::Inline,
        env: env(),
        program: None,
    };
    group.bench_function("strict_19_paths_inline", |b| {
        b.iter(|| black_box(build(black_box(&busy), &inline).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench_build);
criterion_main!(benches);
