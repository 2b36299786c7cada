//! The Redis score cache, shared by every server process.
//!
//! Every call has a short timeout. When Redis is down or slow, look-ups report `Unavailable` and
//! the caller reads the database. An invalidation that cannot reach Redis is kept and retried in
//! the background until it lands; until then this process bypasses the cache for that park.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::{AsyncCommands, Client, aio::ConnectionManager, aio::ConnectionManagerConfig};

use super::near::{self, NearTier};
use super::{FaultLog, Lookup};

/// The shape of a cached score (`domain::score::EnterpriseScore` as JSON). Raise it whenever
/// that shape changes: 2 added the ranks within a stage, 3 the model and breakdown.
const ENTRY_SHAPE: u32 = 3;

#[derive(Clone)]
pub struct RedisCache {
    connection: ConnectionManager,
    prefix: Arc<str>,
    timeout: Duration,
    ttl_seconds: u64,
    faults: Arc<FaultLog>,
    /// Parks whose invalidation has not reached Redis yet.
    pending: Arc<Mutex<HashSet<i64>>>,
    /// This process's copies (`SCORE_CACHE_NEAR`, on by default).
    near: Option<NearTier>,
}

impl RedisCache {
    pub fn new(
        url: &str,
        prefix: &str,
        timeout: Duration,
        ttl: Duration,
        near: bool,
    ) -> redis::RedisResult<Self> {
        let client = Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        let cache = Self {
            connection,
            prefix: Arc::from(prefix),
            timeout,
            ttl_seconds: ttl.as_secs().max(1),
            faults: Arc::new(FaultLog::new(Duration::from_secs(30))),
            pending: Arc::default(),
            near: near.then(NearTier::default),
        };
        cache.spawn_retry_of_pending_invalidations();
        cache.spawn_confirmations();
        Ok(cache)
    }

    fn generation_key(&self, park_id: i64) -> String {
        format!("{}:park:{park_id}:generation", self.prefix)
    }

    /// An entry holds `<generation>\n<json>`: it counts only under the park's current generation.
    /// The key names the entry's shape ([`ENTRY_SHAPE`]), so that processes of another version
    /// sharing the Redis never read each other's entries.
    fn entry_key(&self, park_id: i64, enterprise_id: i64) -> String {
        format!("{}:score:v{ENTRY_SHAPE}:{park_id}:{enterprise_id}", self.prefix)
    }

    async fn with_timeout<T>(
        &self,
        what: &str,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(err)) => {
                self.faults.report(what, &err);
                None
            }
            Err(_) => {
                self.faults.report(what, &format!("no answer within {:?}", self.timeout));
                None
            }
        }
    }

    fn is_pending(&self, park_id: i64) -> bool {
        self.pending.lock().map(|p| p.contains(&park_id)).unwrap_or(true)
    }

    /// Reads the park's generation and the enterprise's entry in one round trip (`MGET`).
    pub async fn get(&self, park_id: i64, enterprise_id: i64) -> Lookup {
        if self.is_pending(park_id) {
            return Lookup::Unavailable;
        }
        if let Some(json) = self.near.as_ref().and_then(|near| near.get(park_id, enterprise_id)) {
            return Lookup::Hit(json.to_string());
        }
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("MGET");
        command.arg(self.generation_key(park_id)).arg(self.entry_key(park_id, enterprise_id));
        let asked_at = std::time::Instant::now();
        let call = command.query_async::<(Option<u64>, Option<String>)>(&mut connection);
        match self.with_timeout("Redis look-up failed", call).await {
            Some((generation, entry)) => {
                let generation = generation.unwrap_or(0);
                if let Some(near) = &self.near {
                    near.confirm(park_id, generation, asked_at);
                }
                let current = entry
                    .as_deref()
                    .and_then(|e| e.split_once('\n'))
                    .filter(|(g, _)| g.parse() == Ok(generation));
                match current {
                    Some((_, json)) => {
                        if let Some(near) = &self.near {
                            near.put(park_id, generation, enterprise_id, Arc::from(json));
                        }
                        Lookup::Hit(json.to_owned())
                    }
                    None => Lookup::Miss { generation },
                }
            }
            None => Lookup::Unavailable,
        }
    }

    /// Stores an entry under the generation its reader saw. A slow reader may overwrite a newer
    /// entry with an older generation's; the next reader then misses and reads the database.
    pub async fn put(&self, park_id: i64, generation: u64, enterprise_id: i64, json: String) {
        if let Some(near) = &self.near {
            near.put(park_id, generation, enterprise_id, Arc::from(json.as_str()));
        }
        let mut connection = self.connection.clone();
        let entry = format!("{generation}\n{json}");
        let call =
            connection.set_ex::<_, _, ()>(self.entry_key(park_id, enterprise_id), entry, self.ttl_seconds);
        self.with_timeout("Redis write failed", call).await;
    }

    async fn bump_generation(&self, park_id: i64) -> bool {
        let mut connection = self.connection.clone();
        let call = connection.incr::<_, _, u64>(self.generation_key(park_id), 1);
        self.with_timeout("Redis invalidation failed", call).await.is_some()
    }

    /// Bumps the park's generation; with the near tier, then waits out the lease, so that no
    /// process still serves a copy confirmed before the bump when the import answers.
    pub async fn invalidate_park(&self, park_id: i64) {
        if let Some(near) = &self.near {
            near.forget(park_id);
        }
        if self.bump_generation(park_id).await {
            if self.near.is_some() {
                tokio::time::sleep(near::LEASE).await;
            }
        } else if let Ok(mut pending) = self.pending.lock() {
            pending.insert(park_id);
        }
    }

    /// Confirms, every third of the lease and in one `MGET`, the generation of every park this
    /// process holds copies of; ends when the cache is dropped.
    fn spawn_confirmations(&self) {
        let Some(near) = &self.near else { return };
        let weak = near.downgrade();
        let cache = RedisCache { near: None, pending: Arc::new(Mutex::new(HashSet::new())), ..self.clone() };
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(near::LEASE / 3);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(near) = NearTier::upgrade(&weak) else { break };
                let parks = near.parks();
                if parks.is_empty() {
                    continue;
                }
                let mut command = redis::cmd("MGET");
                for park_id in &parks {
                    command.arg(cache.generation_key(*park_id));
                }
                let mut connection = cache.connection.clone();
                let asked_at = std::time::Instant::now();
                let call = command.query_async::<Vec<Option<u64>>>(&mut connection);
                if let Some(generations) = cache.with_timeout("Redis confirmation failed", call).await {
                    for (park_id, generation) in parks.into_iter().zip(generations) {
                        near.confirm(park_id, generation.unwrap_or(0), asked_at);
                    }
                }
            }
        });
    }

    fn spawn_retry_of_pending_invalidations(&self) {
        let weak = Arc::downgrade(&self.pending);
        let cache = self.clone();
        // The task's copy of the cache gets a pending set of its own that it never uses, so that
        // it holds the real set only weakly: the task ends once the last cache handle is dropped.
        let cache = RedisCache { pending: Arc::new(Mutex::new(HashSet::new())), ..cache };
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                let Some(pending) = weak.upgrade() else { break };
                let parks: Vec<i64> = pending.lock().map(|p| p.iter().copied().collect()).unwrap_or_default();
                for park_id in parks {
                    if cache.bump_generation(park_id).await {
                        if let Ok(mut set) = pending.lock() {
                            set.remove(&park_id);
                        }
                        tracing::info!(park_id, "delayed score-cache invalidation reached Redis");
                    }
                }
            }
        });
    }

    pub async fn ping(&self) -> bool {
        let mut connection = self.connection.clone();
        let ping = redis::cmd("PING");
        let call = ping.query_async::<String>(&mut connection);
        self.with_timeout("Redis ping failed", call).await.is_some()
    }
}
