// An index out of bounds: Rust prints "thread 'main' panicked at ...:" and
// the message, then (RUST_BACKTRACE=1) a backtrace that ends far below.
fn main() {
    let v: Vec<i32> = vec![1, 2, 3];
    let idx = std::env::args().count() + 5;
    println!("{}", v[idx]);
}
