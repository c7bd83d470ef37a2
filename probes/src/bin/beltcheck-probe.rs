fn main() {
    todo!("probe binary")
}
