//! The search index under `lotse serve`: made on a thread of its own after each
//! reload, so that a reload never waits for it, and only for the portals an edit
//! changed. Each reload renders into a new generation of files, copied from the one
//! before (`MemorySink::snapshot`); a portal's index made for one generation after the
//! next was copied is missing from that next one, so a portal stays on the list of
//! those to index until a job for the latest generation has indexed it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::MemorySink;
use crate::resolve::Site;
use crate::search;

/// Which portals' indexes the latest generation of files may lack.
#[derive(Default)]
pub struct Indexing {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// Counts the generations begun.
    generation: u64,
    /// Portals (by slug) to index; `None`: all of them.
    stale: Option<BTreeSet<String>>,
}

impl Indexing {
    /// A new generation of files is about to be copied from the latest (a reload
    /// begins): jobs of older generations no longer take portals off the list.
    pub fn begin(&self) -> u64 {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.generation += 1;
        state.generation
    }

    /// Indexes, into `files` (generation `generation`, rendered from `site`), the
    /// portals `touched` changed (`None`: all) and those still on the list, and the
    /// umbrella's catalogue. The records are made here, the index on a thread.
    pub fn spawn(
        &self,
        site: &Site,
        files: Arc<MemorySink>,
        touched: Option<&BTreeSet<String>>,
        generation: u64,
    ) {
        let wanted = self.want(touched);
        let jobs = search::jobs_of(site, wanted.as_ref());
        let state = self.state.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            // The generation's files still hold the previous indexes: unchanged ones
            // stay, and a changed one is compared by its stamp.
            match search::index_jobs(jobs, &*files, Some(&*files)) {
                Ok(stats) => {
                    done(&state, generation, wanted.as_ref());
                    eprintln!(
                        "search index: {} records in {} indexes ({} unchanged) in {} ms",
                        stats.records,
                        stats.indexes,
                        stats.reused,
                        started.elapsed().as_millis()
                    )
                }
                Err(e) => eprintln!("warning: the search index was not rebuilt: {e:#}"),
            }
        });
    }

    /// Puts the portals `touched` changed on the list; returns the list.
    fn want(&self, touched: Option<&BTreeSet<String>>) -> Option<BTreeSet<String>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.stale = match (state.stale.take(), touched) {
            (Some(mut stale), Some(touched)) => {
                stale.extend(touched.iter().cloned());
                Some(stale)
            }
            _ => None,
        };
        state.stale.clone()
    }

    /// Whether every portal's index is in the latest generation.
    #[cfg(test)]
    fn settled(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.stale.as_ref().is_some_and(BTreeSet::is_empty)
    }
}

/// A job for `generation` indexed `indexed` (`None`: all portals): off the list, if no
/// newer generation has begun (which may have been copied before the job wrote).
fn done(state: &Mutex<State>, generation: u64, indexed: Option<&BTreeSet<String>>) {
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    if state.generation != generation {
        return;
    }
    state.stale = match (state.stale.take(), indexed) {
        (Some(stale), Some(indexed)) => Some(stale.difference(indexed).cloned().collect()),
        // Everything was stale and this job did only some: everything still is.
        (None, Some(_)) => None,
        (_, None) => Some(BTreeSet::new()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(slugs: &[&str]) -> BTreeSet<String> {
        slugs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_job_of_an_older_generation_leaves_its_portals_on_the_list() {
        let indexing = Indexing::default();
        let state = &indexing.state;
        // The first generation: everything indexed.
        let first = indexing.begin();
        done(state, first, None);
        assert!(indexing.settled());

        // An edit in Bottrop; before its job ends, an edit in Gladbeck begins a reload.
        let second = indexing.begin();
        let bottrop = indexing.want(Some(&set(&["bottrop"])));
        assert_eq!(bottrop, Some(set(&["bottrop"])));
        let third = indexing.begin();
        done(state, second, bottrop.as_ref());
        assert_eq!(state.lock().unwrap().stale, Some(set(&["bottrop"])));

        // The third generation's job indexes both; then nothing is stale.
        let both = indexing.want(Some(&set(&["gladbeck"])));
        assert_eq!(both, Some(set(&["bottrop", "gladbeck"])));
        done(state, third, both.as_ref());
        assert!(indexing.settled());

        // A theme change renders everything: every index is wanted until one job for
        // the latest generation has made them all.
        let fourth = indexing.begin();
        assert_eq!(indexing.want(None), None);
        let fifth = indexing.begin();
        done(state, fourth, None);
        assert!(!indexing.settled());
        assert_eq!(indexing.want(Some(&set(&["marl"]))), None);
        done(state, fifth, None);
        assert!(indexing.settled());
    }
}
