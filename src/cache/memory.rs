//! The in-process score cache, used when no Redis is configured.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use moka::future::Cache;

use super::Lookup;

#[derive(Clone)]
pub struct MemoryCache {
    /// (park, generation, enterprise) → score JSON.
    entries: Cache<(i64, u64, i64), String>,
    generations: Arc<RwLock<HashMap<i64, u64>>>,
}

impl MemoryCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: Cache::builder().max_capacity(200_000).time_to_live(ttl).build(),
            generations: Arc::default(),
        }
    }

    fn generation(&self, park_id: i64) -> u64 {
        self.generations.read().map(|g| g.get(&park_id).copied().unwrap_or(0)).unwrap_or(0)
    }

    pub async fn get(&self, park_id: i64, enterprise_id: i64) -> Lookup {
        let generation = self.generation(park_id);
        match self.entries.get(&(park_id, generation, enterprise_id)).await {
            Some(json) => Lookup::Hit(json),
            None => Lookup::Miss { generation },
        }
    }

    pub async fn put(&self, park_id: i64, generation: u64, enterprise_id: i64, json: String) {
        self.entries.insert((park_id, generation, enterprise_id), json).await;
    }

    pub fn invalidate_park(&self, park_id: i64) {
        if let Ok(mut generations) = self.generations.write() {
            *generations.entry(park_id).or_insert(0) += 1;
        }
    }
}
