//! Escaper throughput on plain ASCII paths (the fast path). Target: >= 1 GB/s.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use profile::escape::{regex_literal, string_literal, Anchor};

fn paths() -> Vec<String> {
    (0..1024)
        .map(|i| format!("/Users/someone/Library/Application Support/tool-{i}/cache/data.{i}.bin"))
        .collect()
}

fn bench_escape(c: &mut Criterion) {
    let paths = paths();
    let bytes: usize = paths.iter().map(String::len).sum();
    let long = "/usr/local/share/some/rather/deep/plain/ascii/path/".repeat(80);

    let mut group = c.benchmark_group("escape");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("string_literal/plain_paths", |b| {
        b.iter(|| {
            for p in &paths {
                black_box(string_literal(black_box(p)).unwrap());
            }
        })
    });
    group.bench_function("regex_literal/plain_paths", |b| {
        b.iter(|| {
            for p in &paths {
                black_box(regex_literal(black_box(p), Anchor::Directory).unwrap());
            }
        })
    });
    group.throughput(Throughput::Bytes(long.len() as u64));
    group.bench_function("string_literal/one_4k_path", |b| {
        b.iter(|| black_box(string_literal(black_box(&long)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench_escape);
criterion_main!(benches);
