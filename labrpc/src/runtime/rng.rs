//! Seeded randomness for lab code.

use std::convert::Infallible;

use rand::{Rng as _, TryRng};

use super::context::with_world;

/// The simulation's random number generator, seeded from the test seed.
///
/// Lab code draws every random number from here (election timeouts, jitter), so a seed
/// replays exactly. `rand::rng()`, `thread_rng()` and OS randomness differ on every run.
///
/// ```
/// use rand::RngExt;
/// labrpc::tester::Sim::new(7).run(async {
///     let timeout_ms = labrpc::rng().random_range(300..600);
///     assert!((300..600).contains(&timeout_ms));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SimRng {
    _private: (),
}

/// A handle to the simulation's random number generator. Use it with `rand::RngExt`.
/// (Lab code and tester.)
pub fn rng() -> SimRng {
    SimRng { _private: () }
}

impl TryRng for SimRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(with_world(|w| w.rng.borrow_mut().next_u32()))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(with_world(|w| w.rng.borrow_mut().next_u64()))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        with_world(|w| w.rng.borrow_mut().fill_bytes(dst));
        Ok(())
    }
}
