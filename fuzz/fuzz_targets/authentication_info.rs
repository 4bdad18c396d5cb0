//! `Authentication-Info` / `Proxy-Authentication-Info`: the parser over any bytes, with the
//! default limits and with small ones.
#![no_main]

use httpdigest::Limits;
use httpdigest_fuzz::oracle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for limits in [Limits::DEFAULT, oracle::SMALL_LIMITS] {
        if let Err(why) = oracle::check_authentication_info(data, limits) {
            panic!("{why}");
        }
    }
});
