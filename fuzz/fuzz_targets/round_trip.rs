//! Parse, write, parse again: any bytes that parse as a challenge, credentials or
//! `Authentication-Info` and can be written again come back with the same values, and
//! writing them again gives the same text.
#![no_main]

use httpdigest_fuzz::oracle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = oracle::round_trip(data) {
        panic!("{why}");
    }
});
