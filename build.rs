//! Re-embed migrations when they change, and refuse a build with no database backend.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    if std::env::var_os("CARGO_FEATURE_SQLITE").is_none()
        && std::env::var_os("CARGO_FEATURE_POSTGRES").is_none()
    {
        panic!(
            "Scellé needs at least one database backend: enable the `sqlite` or `postgres` feature"
        );
    }
}
