//! Prints the adapter × location table. Placeholder.
fn main() {}
