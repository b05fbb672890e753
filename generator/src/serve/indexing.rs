//! The search index under `lotse serve`: made after each reload on a thread of its
//! own, so that a reload never waits for it, and only for the portals the edit
//! changed. Its files live in one map that every generation of served files shares
//! (`MemorySink`), so an index made for one generation is the next one's too. One
//! worker takes the jobs in the order of the reloads: the last job to write a portal's
//! index is the one made from the newest content.

use std::collections::BTreeSet;
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::MemorySink;
use crate::resolve::Site;
use crate::search::{self, IndexJob};

/// The indexing worker and the portals whose index a failed job left behind.
#[derive(Default)]
pub struct Indexing {
    worker: Mutex<Option<Sender<Request>>>,
    /// Portals (by slug) to index with the next job besides the touched ones; `None`:
    /// all of them.
    left: Arc<Mutex<Option<BTreeSet<String>>>>,
}

struct Request {
    jobs: Vec<IndexJob>,
    files: Arc<MemorySink>,
    portals: Option<BTreeSet<String>>,
}

impl Indexing {
    /// Indexes, into `files` (rendered from `site`), the portals `touched` changed
    /// (`None`: all) and those a failed job left, and the umbrella's catalogue. The
    /// records are made here, from `site`; the index files by the worker.
    pub fn spawn(&self, site: &Site, files: Arc<MemorySink>, touched: Option<&BTreeSet<String>>) {
        let portals = self.take(touched);
        let jobs = match search::jobs_of(site, portals.as_ref()) {
            Ok(jobs) => jobs,
            Err(e) => {
                // A body's file changed again since this reload read it: the reload
                // the change brings indexes these portals then.
                eprintln!("warning: the search index was not rebuilt: {e:#}");
                give_back(&self.left, portals);
                return;
            }
        };
        let request = Request {
            jobs,
            files,
            portals,
        };
        let mut worker = self.worker.lock().unwrap_or_else(|p| p.into_inner());
        let request = match worker.as_ref() {
            Some(running) => match running.send(request) {
                Ok(()) => return,
                Err(unsent) => unsent.0,
            },
            None => request,
        };
        // No worker yet (or it ended): start one.
        let (send, receive) = channel::<Request>();
        let left = self.left.clone();
        std::thread::spawn(move || {
            for request in receive {
                run(request, &left);
            }
        });
        let _ = send.send(request);
        *worker = Some(send);
    }

    /// The portals to index for a reload that changed `touched`; the list of those
    /// left by failed jobs is emptied.
    fn take(&self, touched: Option<&BTreeSet<String>>) -> Option<BTreeSet<String>> {
        let mut left = self.left.lock().unwrap_or_else(|p| p.into_inner());
        let portals = match (left.take(), touched) {
            (Some(mut left), Some(touched)) => {
                left.extend(touched.iter().cloned());
                Some(left)
            }
            _ => None,
        };
        *left = Some(BTreeSet::new());
        portals
    }
}

fn run(request: Request, left: &Mutex<Option<BTreeSet<String>>>) {
    let started = Instant::now();
    // Unchanged indexes are compared by their stamps and stay as they are.
    let files = &*request.files;
    match search::index_jobs(request.jobs, files, Some(files)) {
        Ok(stats) => eprintln!(
            "search index: {} records in {} indexes ({} unchanged) in {} ms",
            stats.records,
            stats.indexes,
            stats.reused,
            started.elapsed().as_millis()
        ),
        Err(e) => {
            eprintln!("warning: the search index was not rebuilt: {e:#}");
            give_back(left, request.portals);
        }
    }
}

/// Puts the portals of a failed job back on the list for the next one.
fn give_back(left: &Mutex<Option<BTreeSet<String>>>, portals: Option<BTreeSet<String>>) {
    let mut left = left.lock().unwrap_or_else(|p| p.into_inner());
    *left = match (left.take(), portals) {
        (Some(mut left), Some(portals)) => {
            left.extend(portals);
            Some(left)
        }
        _ => None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(slugs: &[&str]) -> BTreeSet<String> {
        slugs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn portals_of_a_failed_job_go_with_the_next() {
        let indexing = Indexing::default();
        // At the start everything is indexed; then only what each edit touched.
        assert_eq!(indexing.take(Some(&set(&["bottrop"]))), None);
        assert_eq!(
            indexing.take(Some(&set(&["bottrop"]))),
            Some(set(&["bottrop"]))
        );
        // A job for Marl fails: Marl goes with the next job, once.
        give_back(&indexing.left, Some(set(&["marl"])));
        assert_eq!(
            indexing.take(Some(&set(&["gladbeck"]))),
            Some(set(&["gladbeck", "marl"]))
        );
        assert_eq!(indexing.take(Some(&BTreeSet::new())), Some(BTreeSet::new()));
        // A failed job of everything: everything again.
        give_back(&indexing.left, None);
        assert_eq!(indexing.take(Some(&set(&["marl"]))), None);
    }
}
