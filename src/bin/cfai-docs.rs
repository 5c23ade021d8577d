//! Regenerates `docs/` from the provider's schemas and `examples/`:
//!
//!     cargo run --bin cfai-docs
//!
//! Run it from the repository root after changing a schema or an example.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match cfai::docs::write(&root.join("docs"), &root.join("examples")) {
        Ok(()) => {
            println!("docs/ regenerated from the provider's schemas and examples/");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("could not write docs/: {e}");
            ExitCode::FAILURE
        }
    }
}
