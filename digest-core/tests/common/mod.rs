//! What the integration tests share.

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};

// Each test binary uses a part of the pair, or none of it.
#[allow(dead_code)]
pub(crate) mod pair;

/// xorshift64*: a deterministic, seeded generator, good enough for distinct cnonces and
/// nonce salts in tests (and allocation-free). Never for production: use `httpdigest::ThreadRng`.
pub(crate) struct TestRng(u64);

impl TestRng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
}

impl TryRng for TestRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        Ok(self.0.wrapping_mul(0x2545_f491_4f6c_dd1d))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            for (d, s) in chunk.iter_mut().zip(v) {
                *d = s;
            }
        }
        Ok(())
    }
}

impl TryCryptoRng for TestRng {}
