//! Per-host spacing of requests.
//!
//! A host's slot is a tokio mutex held for the whole request, so one host is never asked twice at
//! once, and the next request to it waits until `delay` has passed since the previous one finished
//! (measured from the end, which also keeps starts `delay` apart). Hosts are independent: a slow
//! portal does not hold up another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};
use tokio::time::Instant;

/// The slots of every host seen so far.
#[derive(Debug, Default)]
pub struct HostGate {
    delay: Duration,
    slots: Mutex<HashMap<String, Arc<AsyncMutex<Option<Instant>>>>>,
}

/// Held while a request to one host is in flight; marks the host's last request when dropped.
pub struct HostTurn {
    guard: OwnedMutexGuard<Option<Instant>>,
}

impl Drop for HostTurn {
    fn drop(&mut self) {
        *self.guard = Some(Instant::now());
    }
}

impl HostGate {
    pub fn new(delay: Duration) -> HostGate {
        HostGate {
            delay,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for `host`'s turn.
    pub async fn turn(&self, host: &str) -> HostTurn {
        let slot = {
            let mut slots = match self.slots.lock() {
                Ok(s) => s,
                Err(poisoned) => poisoned.into_inner(),
            };
            slots.entry(host.to_string()).or_default().clone()
        };
        let guard = slot.lock_owned().await;
        if let Some(last) = *guard {
            tokio::time::sleep_until(last + self.delay).await;
        }
        HostTurn { guard }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn second_request_to_one_host_waits_for_the_delay() {
        let gate = HostGate::new(Duration::from_millis(500));
        let start = Instant::now();
        drop(gate.turn("a").await);
        drop(gate.turn("b").await);
        assert!(
            start.elapsed() < Duration::from_millis(10),
            "other hosts do not wait"
        );
        drop(gate.turn("a").await);
        assert!(start.elapsed() >= Duration::from_millis(500));
    }
}
