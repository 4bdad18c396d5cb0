//! Randomness for devices without `std`: [`FillRng`], a generator over any function that fills
//! a buffer from a cryptographically secure source.
//!
//! The core takes its randomness (client nonces, the server's nonce salts) as a
//! [`rand_core::TryCryptoRng`] of the `rand_core` version it re-exports
//! ([`httpdigest::rand_core`](crate::rand_core)). Where `std` is available, pass
//! [`ThreadRng`](crate::ThreadRng). On a device, either implement the two traits over its
//! generator (through the re-export, so no `rand_core` of another version gets in the way),
//! or wrap the call that fills bytes in a [`FillRng`]: that also takes a generator written
//! against another `rand_core` version (an embedded HAL's `rand_core` 0.6 `RngCore`, whose
//! type the core's traits do not accept).

use core::fmt;

use rand_core::{TryCryptoRng, TryRng};

/// A random generator that fills bytes by calling `fill`: a device's TRNG, an RNG of another
/// `rand_core` version, or an operating system call.
///
/// The core uses what it returns as secret randomness (client nonces, server nonce salts),
/// so `fill` must draw from a cryptographically secure source: that is the promise this type
/// makes as a [`TryCryptoRng`]. When `fill` fails, the request or challenge that needed the
/// bytes fails with the core's own error for it; nothing goes out with predictable bytes.
///
/// A device's generator of an embedded HAL, written against `rand_core` 0.6 (the core's
/// traits are of a later version, so the generator itself is not accepted; its fill is):
///
/// ```
/// use httpdigest::client::{Action, Client, Request};
/// use httpdigest::rng::{FillError, FillRng};
/// use httpdigest::{OriginRef, Scheme};
///
/// # struct HalRng(u8);
/// # impl HalRng {
/// #     fn fill_bytes(&mut self, dest: &mut [u8]) { dest.fill(self.0); self.0 = self.0.wrapping_add(1); }
/// # }
/// # let mut hal_rng = HalRng(7); // stands for the device's TRNG
/// let mut rng = FillRng::new(|buf: &mut [u8]| {
///     hal_rng.fill_bytes(buf); // the HAL's RngCore::fill_bytes
///     Ok::<(), FillError>(())
/// });
///
/// let mut client = Client::with_password("alice", "s3cret");
/// let origin = OriginRef { scheme: Scheme::Http, host: "pdu.local", port: 80 };
/// let request = Request::new("GET", "/status", origin);
/// let (_exchange, action) = client.begin(&request, &mut rng);
/// assert!(matches!(action, Action::Send(_)));
/// ```
///
/// Or implement the traits over the generator, through the re-exported `rand_core`:
///
/// ```
/// use httpdigest::rand_core::{TryCryptoRng, TryRng};
/// use httpdigest::rng::FillError;
///
/// struct DeviceRng; // the device's TRNG peripheral
///
/// impl TryRng for DeviceRng {
///     type Error = FillError;
///     fn try_next_u32(&mut self) -> Result<u32, FillError> {
///         let mut bytes = [0; 4];
///         self.try_fill_bytes(&mut bytes)?;
///         Ok(u32::from_le_bytes(bytes))
///     }
///     fn try_next_u64(&mut self) -> Result<u64, FillError> {
///         let mut bytes = [0; 8];
///         self.try_fill_bytes(&mut bytes)?;
///         Ok(u64::from_le_bytes(bytes))
///     }
///     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), FillError> {
///         # dst.fill(0x5a);
///         // read the peripheral's data register into dst; on a hardware fault:
///         // return Err(FillError);
///         Ok(())
///     }
/// }
/// impl TryCryptoRng for DeviceRng {}
/// ```
pub struct FillRng<F> {
    fill: F,
}

impl<F, E> FillRng<F>
where
    F: FnMut(&mut [u8]) -> Result<(), E>,
{
    /// A generator that calls `fill` for every byte it hands out. `fill` must draw from a
    /// cryptographically secure source.
    pub const fn new(fill: F) -> Self {
        Self { fill }
    }
}

impl<F> fmt::Debug for FillRng<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FillRng").finish_non_exhaustive()
    }
}

/// The source behind a [`FillRng`] (or a device generator of the caller's) could not give
/// random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, thiserror::Error)]
#[error("the random source could not give bytes")]
pub struct FillError;

impl<F, E> TryRng for FillRng<F>
where
    F: FnMut(&mut [u8]) -> Result<(), E>,
{
    type Error = FillError;

    fn try_next_u32(&mut self) -> Result<u32, FillError> {
        let mut bytes = [0; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, FillError> {
        let mut bytes = [0; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), FillError> {
        (self.fill)(dst).map_err(|_| FillError)
    }
}

impl<F, E> TryCryptoRng for FillRng<F> where F: FnMut(&mut [u8]) -> Result<(), E> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_the_bytes_of_its_source_in_little_endian_order() {
        let mut next = 0u8;
        let mut rng = FillRng::new(|buf: &mut [u8]| {
            for b in buf {
                next = next.wrapping_add(1);
                *b = next;
            }
            Ok::<(), FillError>(())
        });
        assert_eq!(rng.try_next_u32(), Ok(0x0403_0201));
        assert_eq!(rng.try_next_u64(), Ok(0x0c0b_0a09_0807_0605));
    }

    #[test]
    fn a_failing_source_is_an_error_not_zeros() {
        let mut rng = FillRng::new(|_: &mut [u8]| Err("TRNG fault"));
        let mut buf = [0xaa; 16];
        assert_eq!(rng.try_fill_bytes(&mut buf), Err(FillError));
        assert_eq!(rng.try_next_u64(), Err(FillError));
    }

    #[test]
    fn a_failing_source_fails_the_verifiers_challenge() {
        use crate::server::{Verifier, VerifierConfig};
        let verifier = Verifier::new(
            VerifierConfig::new("realm"),
            b"a secret key of 32 bytes or more!",
        )
        .unwrap();
        let mut rng = FillRng::new(|_: &mut [u8]| Err(()));
        assert!(verifier.challenges(0, false, &mut rng).is_err());
    }
}
