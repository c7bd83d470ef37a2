//! Reader throughput on a large generated corpus of realistic SBPL.
//! Target: >= 200 MB/s (issue 2). Reading into the bumpalo arena, instead of
//! a malloc and free per list, took this from ~110 to ~190 MiB/s, and
//! 360 MiB/s into a reused arena (`read_reusing_arena_8MiB_corpus`), measured
//! when the arena came in.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use profile::ast::Arena;
use std::fmt::Write;
use std::hint::black_box;

/// Size of the generated corpus in bytes (approximately).
const CORPUS_BYTES: usize = 8 << 20;

/// A tiny deterministic generator (xorshift), so every run reads the same text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const OPS: &[&str] = &[
    "file-read*",
    "file-read-data",
    "file-read-metadata",
    "file-write*",
    "file-write-create",
    "file-ioctl",
    "process-exec",
    "mach-lookup",
    "network-outbound",
    "sysctl-read",
    "iokit-open",
    "ipc-posix-shm-read-data",
];

const DIRS: &[&str] = &[
    "/usr/lib",
    "/System/Library/Frameworks",
    "/private/var/db/timezone",
    "/Library/Preferences",
    "/private/etc",
    "/dev",
    "/opt/homebrew/Cellar",
    "/Applications/Xcode.app/Contents",
];

/// One profile-sized chunk: header, defines, rules, comments, escapes.
fn chunk(rng: &mut Rng, out: &mut String) {
    out.push_str(";; generated profile chunk\n(version 1)\n(deny default)\n");
    out.push_str("(import \"system.sb\")\n");
    out.push_str("(define (home-subpath rel) (subpath (string-append (param \"HOME\") rel)))\n");
    out.push_str("#| a block comment\n   over two lines |#\n");
    for i in 0..40 {
        let op = rng.pick(OPS);
        let dir = rng.pick(DIRS);
        let n = rng.next() % 1000;
        match rng.next() % 6 {
            0 => writeln!(out, "(allow {op} (literal \"{dir}/file-{n}.dylib\"))"),
            1 => writeln!(out, "(allow {op}\n    (subpath \"{dir}\")\n    (subpath \"{dir}/sub{n}\"))"),
            2 => writeln!(out, "(deny {op} (regex #\"^{dir}/[^/]+\\.plist$\"))"),
            3 => writeln!(out, "(allow {op} (home-subpath \"/Library/Caches/item {n}\")) ; why"),
            4 => writeln!(
                out,
                "(if (param \"FLAG_{i}\")\n  (allow {op} (require-all (vnode-type REGULAR-FILE) (literal \"{dir}/a\\\"b\\\\c{n}\"))))"
            ),
            _ => writeln!(out, "(allow mach-lookup (global-name \"com.apple.service{n}\") (with report))"),
        }
        .expect("writing to a String cannot fail");
    }
}

/// The corpus as the profiles it is made of, each a few kilobytes.
fn profiles() -> Vec<String> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::new();
    let mut total = 0;
    while total < CORPUS_BYTES {
        let mut one = String::new();
        chunk(&mut rng, &mut one);
        total += one.len();
        out.push(one);
    }
    out
}

fn reader_throughput(c: &mut Criterion) {
    let profiles = profiles();
    let text = profiles.concat();
    // A corpus that does not read is a broken benchmark, not a slow one.
    let arena = Arena::new();
    let nodes = profile::reader::read(&text, &arena).expect("generated corpus must read");
    assert!(nodes.len() > 10_000);
    eprintln!(
        "corpus: {} bytes, {} top-level forms, arena {} bytes",
        text.len(),
        nodes.len(),
        arena.allocated_bytes()
    );
    let mut group = c.benchmark_group("reader");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    // Reading alone into a fresh arena (made and freed outside the timed
    // section): every page the tree lands on is faulted in during the read.
    group.bench_function("read_8MiB_corpus", |b| {
        b.iter_batched_ref(
            Arena::new,
            |arena| profile::reader::read(black_box(&text), arena).map(|n| n.len()),
            BatchSize::PerIteration,
        )
    });
    // Reading into an arena reset between reads, as `sbpl check` does from
    // its second file on: the same work on memory already mapped.
    group.bench_function("read_reusing_arena_8MiB_corpus", |b| {
        let mut arena = Arena::new();
        b.iter(|| {
            arena.reset();
            profile::reader::read(black_box(&text), &arena).map(|n| n.len())
        })
    });
    // The same bytes read profile by profile into one arena, reset between
    // them: what `sbpl check` does over a directory of profiles.
    group.bench_function("read_8MiB_as_profiles", |b| {
        let mut arena = Arena::new();
        b.iter(|| {
            let mut forms = 0;
            for one in &profiles {
                arena.reset();
                forms += profile::reader::read(black_box(one), &arena).map_or(0, |n| n.len());
            }
            forms
        })
    });
    // Reading plus freeing the tree: what a one-shot `sbpl check` pays.
    group.bench_function("read_and_drop_8MiB_corpus", |b| {
        b.iter(|| {
            let arena = Arena::new();
            profile::reader::read(black_box(&text), &arena).map(|n| n.len())
        })
    });
    group.bench_function("write_8MiB_corpus", |b| {
        b.iter(|| profile::writer::write(black_box(&nodes)).len())
    });
    group.finish();
}

criterion_group!(benches, reader_throughput);
criterion_main!(benches);
