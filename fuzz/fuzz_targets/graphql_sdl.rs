#![no_main]
//! See fuzz/checks.rs (`graphql_sdl`) for what is checked; fuzz/README.md for how to run it.

use libfuzzer_sys::fuzz_target;

#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    checks::graphql_sdl(data);
});
