//! Batched refresh, to spare the API budget: the first read of a kind of object
//! in a provider process lists them all (largest pages) and later reads are
//! answered from that listing, so refreshing N objects costs about
//! N / page size requests. A write by the process makes the listing stale;
//! an object missing from it is confirmed by one GET before it counts as
//! gone (it may be newer than the listing, or filtered out of lists).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::cloudflare::ApiError;

type Slot<T> = Arc<tokio::sync::Mutex<Option<(u64, Arc<HashMap<String, T>>)>>>;

pub(crate) struct ListingCache<T> {
    slots: Mutex<HashMap<String, Slot<T>>>,
}

impl<T> Default for ListingCache<T> {
    fn default() -> Self {
        ListingCache {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> ListingCache<T> {
    /// The listing under `key`, fetched at most once per write generation
    /// (concurrent readers wait for the one fetch).
    pub(crate) async fn get<F, Fut>(
        &self,
        key: &str,
        generation: u64,
        fetch: F,
    ) -> Result<Arc<HashMap<String, T>>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<HashMap<String, T>, ApiError>>,
    {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.entry(key.to_string()).or_default().clone()
        };
        let mut guard = slot.lock().await;
        if let Some((g, items)) = guard.as_ref() {
            if *g == generation {
                return Ok(items.clone());
            }
        }
        let items = Arc::new(fetch().await?);
        *guard = Some((generation, items.clone()));
        Ok(items)
    }
}

/// Objects a listing walked page by page has just shown (`terraform
/// query`), for the reads that follow it (each result is imported and
/// read): answered without a request, while the process has written
/// nothing since. Unlike [`ListingCache`] it holds no whole listing, so an
/// object missing here says nothing about whether it exists.
pub(crate) struct Primed<T> {
    items: Mutex<HashMap<String, (u64, T)>>,
}

impl<T> Default for Primed<T> {
    fn default() -> Self {
        Primed {
            items: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> Primed<T> {
    pub(crate) fn put(&self, key: String, generation: u64, item: T) {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        items.insert(key, (generation, item));
    }

    pub(crate) fn get(&self, key: &str, generation: u64) -> Option<T> {
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        items
            .get(key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, item)| item.clone())
    }
}
