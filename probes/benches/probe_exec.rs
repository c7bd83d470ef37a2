//! Wall time of one `beltcheck-probe` process, exec to exit, per Linux probe
//! (the matrix runs thousands of them). Target: median <= 5 ms.
//!
//! Peers are set up the way the harness should run them: a loopback TCP
//! listener, and a unix socket peer that greets at once (a silent peer costs
//! the probe its 50 ms greeting wait).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

const BIN: &str = env!("CARGO_BIN_EXE_beltcheck-probe");

fn greeting_peer(listener: UnixListener) {
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let _ = s.write_all(b"G");
            let mut b = [0u8; 1];
            let _ = s.read(&mut b);
        }
    });
}

fn tcp_peer(listener: TcpListener) {
    std::thread::spawn(move || for _ in listener.incoming() {});
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("peer.sock");
    greeting_peer(UnixListener::bind(&sock).unwrap());
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port().to_string();
    tcp_peer(tcp);
    let readable = dir.path().join("r.txt");
    std::fs::write(&readable, b"hello").unwrap();
    let sock = sock.to_str().unwrap().to_string();
    let bind_path = dir.path().join("bind.sock").to_str().unwrap().to_string();
    let write_path = dir.path().join("w.txt").to_str().unwrap().to_string();
    let read_path = readable.to_str().unwrap().to_string();

    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("pty", vec!["pty"]),
        ("sem", vec!["sem"]),
        ("shm", vec!["shm"]),
        ("keychain", vec!["keychain"]),
        ("unix-connect", vec!["unix-connect", "--path", &sock]),
        ("unix-bind", vec!["unix-bind", "--path", &bind_path]),
        (
            "network",
            vec!["network", "--host", "127.0.0.1", "--port", &port],
        ),
        ("file-read", vec!["file-read", "--path", &read_path]),
        ("file-write", vec!["file-write", "--path", &write_path]),
        ("sysctl", vec!["sysctl", "--name", "kernel.ostype"]),
        ("hid", vec!["hid"]),
        ("tiocsti-no-tty", vec!["tiocsti"]),
        ("nofile", vec!["nofile"]),
        ("list", vec!["--list"]),
    ];
    let mut group = c.benchmark_group("probe_exec");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for (id, args) in &cases {
        group.bench_function(*id, |b| {
            b.iter(|| {
                let out = Command::new(BIN).args(args).output().unwrap();
                assert_eq!(out.status.code(), Some(0), "{id}");
                out
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
