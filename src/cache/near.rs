//! The near tier: this process's copy of the scores it read from Redis, served without a round
//! trip while it is known to be current.
//!
//! **The promise it keeps.** Once an import has answered, no process serves the old score. Each
//! park's copies are *confirmed* by reading the park's generation from Redis; a confirmation
//! sent at instant `t` makes the copies servable until `t + LEASE`. An import bumps the
//! generation, then waits `LEASE` before it answers. Any confirmation that saw the old
//! generation was sent before the bump, so it has lapsed by the time the import answers; after
//! that, a process either confirms the new generation (dropping its copies) or goes to Redis.
//! The argument needs only that clocks run at the same rate (`Instant` is monotonic), not that
//! they agree. A process cut off from Redis cannot confirm, so its copies lapse within `LEASE`
//! and it reads the database, as before.
//!
//! A background task confirms every park this process holds copies of, in one `MGET`, every
//! third of the lease, so that a busy process serves nearly every look-up from memory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a confirmation holds, and how long an import waits before it answers.
pub const LEASE: Duration = Duration::from_millis(150);

/// At most this many scores are held, over every park; past it, the park being filled starts
/// again empty (a simple bound: 100,000 scores of about 600 bytes is about 60 MB).
const MAX_ENTRIES: usize = 100_000;

pub struct Park {
    generation: u64,
    /// When the newest confirmation taken was asked: an answer to an older question (a look-up
    /// sent before an import's bump, answered after a newer confirmation) is ignored.
    asked: Instant,
    /// Until when the copies may be served.
    confirmed_until: Instant,
    entries: HashMap<i64, Arc<str>>,
}

#[derive(Clone, Default)]
pub struct NearTier {
    parks: Arc<RwLock<HashMap<i64, Park>>>,
}

impl NearTier {
    /// A copy of the enterprise's score, if the park's copies are confirmed now.
    pub fn get(&self, park_id: i64, enterprise_id: i64) -> Option<Arc<str>> {
        let parks = self.parks.read().ok()?;
        let park = parks.get(&park_id)?;
        if park.confirmed_until <= Instant::now() {
            return None;
        }
        park.entries.get(&enterprise_id).cloned()
    }

    /// Records that Redis held `generation` for the park when asked at `asked_at`, unless a
    /// confirmation asked later was recorded already. Another generation (newer, or older after
    /// Redis lost its keys) drops the copies.
    pub fn confirm(&self, park_id: i64, generation: u64, asked_at: Instant) {
        let Ok(mut parks) = self.parks.write() else { return };
        let park = parks.entry(park_id).or_insert_with(|| Park {
            generation,
            asked: asked_at,
            confirmed_until: asked_at,
            entries: HashMap::new(),
        });
        if asked_at < park.asked {
            return;
        }
        park.asked = asked_at;
        if park.generation != generation {
            park.generation = generation;
            park.entries.clear();
        }
        park.confirmed_until = asked_at + LEASE;
    }

    /// Keeps a copy written under `generation`, if that is the park's generation here.
    pub fn put(&self, park_id: i64, generation: u64, enterprise_id: i64, json: Arc<str>) {
        let Ok(mut parks) = self.parks.write() else { return };
        let held: usize = parks.values().map(|p| p.entries.len()).sum();
        let Some(park) = parks.get_mut(&park_id) else { return };
        if park.generation != generation {
            return;
        }
        if held >= MAX_ENTRIES {
            park.entries.clear();
        }
        park.entries.insert(enterprise_id, json);
    }

    /// Drops the park's copies at once (this process's own import).
    pub fn forget(&self, park_id: i64) {
        if let Ok(mut parks) = self.parks.write() {
            parks.remove(&park_id);
        }
    }

    /// A handle that does not keep the tier alive (for its background task).
    pub fn downgrade(&self) -> std::sync::Weak<RwLock<HashMap<i64, Park>>> {
        Arc::downgrade(&self.parks)
    }

    /// The tier behind a handle from [`NearTier::downgrade`], while it lives.
    pub fn upgrade(weak: &std::sync::Weak<RwLock<HashMap<i64, Park>>>) -> Option<Self> {
        weak.upgrade().map(|parks| NearTier { parks })
    }

    /// The parks this process holds copies of.
    pub fn parks(&self) -> Vec<i64> {
        self.parks.read().map(|p| p.keys().copied().collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_serve_only_while_confirmed_and_only_of_their_generation() {
        let near = NearTier::default();
        let asked = Instant::now();
        near.confirm(1, 7, asked);
        near.put(1, 7, 10, Arc::from("seven"));
        near.put(1, 6, 11, Arc::from("an older generation's"));
        assert_eq!(near.get(1, 10).as_deref(), Some("seven"));
        assert_eq!(near.get(1, 11), None);
        // A newer generation drops the copies; an answer to an older question changes nothing.
        near.confirm(1, 8, Instant::now());
        assert_eq!(near.get(1, 10), None);
        near.confirm(1, 7, asked);
        near.put(1, 7, 10, Arc::from("seven again"));
        assert_eq!(near.get(1, 10), None, "a look-up sent before the bump may not bring back the old score");
        // A confirmation asked a lease ago has lapsed.
        near.put(1, 8, 10, Arc::from("eight"));
        let lapsed = NearTier::default();
        lapsed.confirm(2, 1, Instant::now() - LEASE);
        lapsed.put(2, 1, 10, Arc::from("one"));
        assert_eq!(lapsed.get(2, 10), None);
        assert_eq!(near.get(1, 10).as_deref(), Some("eight"));
        near.forget(1);
        assert_eq!(near.get(1, 10), None);
    }
}
