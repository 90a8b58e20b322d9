// Leaks for etrace's heap report, in Rust (built by the test with Debian's
// rustc). Usage: rust_leak MODE [panic]
//   leak    make_table's Vec of 100 u64 (800 bytes) forgotten with
//           mem::forget in leak_table, and leak_box's 48 bytes kept by
//           Box::leak: 848 bytes in 2 blocks definitely lost
//   clean   the same allocations, dropped: nothing lost
// With a second argument "panic", it panics after leaking (exit 101); with
// RUST_BACKTRACE=1 the panic handler maps the program's own file to read
// its debug info, which must not be taken for where its code is.
use std::env;
use std::mem;

#[inline(never)]
fn make_table(n: usize) -> Vec<u64> {
    let mut v = Vec::with_capacity(n); // @alloc table
    for i in 0..n {
        v.push(i as u64 * 3);
    }
    v
}

#[inline(never)]
fn leak_table() {
    let v = make_table(100);
    mem::forget(v);
}

#[inline(never)]
fn leak_box() -> &'static mut [u8; 48] {
    Box::leak(Box::new([7u8; 48])) // @alloc box
}

fn main() {
    let args: Vec<String> = env::args().collect();
    let mode = args.get(1).map(|s| s.as_str()).unwrap_or("");
    match mode {
        "leak" => {
            leak_table();
            let b = leak_box();
            b[0] = 1;
        }
        "clean" => {
            let v = make_table(100);
            let s: u64 = v.iter().sum();
            let b = Box::new(s);
            println!("sum {}", *b);
        }
        _ => {
            eprintln!("usage: rust_leak leak|clean [panic]");
            std::process::exit(2);
        }
    }
    if args.len() > 2 {
        panic!("asked to panic");
    }
}
