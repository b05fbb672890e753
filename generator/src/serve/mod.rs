//! `lotse serve`: renders the site into memory, serves it on 127.0.0.1, and re-renders
//! when content or theme change, telling open pages to reload.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{any, get};
use axum::Router;
use notify::{RecursiveMode, Watcher};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

mod files;
mod indexing;
pub mod listener;
mod reload;

pub use files::content_type;
use files::{livereload_js, static_file};
pub use reload::{Reloader, Timings};

use crate::render::{self, Selection, Sink, Theme};
use crate::resolve::Site;
use crate::{build, functions, search};

pub struct Options {
    pub content: PathBuf,
    pub theme: PathBuf,
    pub port: u16,
    pub data: PathBuf,
    /// Build the search index (in the background after each rebuild).
    pub search: bool,
}

type FileMap = HashMap<Arc<str>, Arc<[u8]>>;

/// The rendered site, path -> bytes. Paths and contents are shared, so that a new
/// generation starts as a cheap copy of the last.
#[derive(Default)]
pub struct MemorySink {
    files: RwLock<FileMap>,
    /// The search index's files (`search::is_index_file`), one map for every
    /// generation: the index is made in the background after a reload
    /// (`indexing.rs`) and appears in whichever generation is served when it is done,
    /// and a new generation does not copy its tens of thousands of files.
    index: Arc<RwLock<FileMap>>,
}

impl Sink for MemorySink {
    fn put(&self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.map_of(path)
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(Arc::from(path), Arc::from(bytes));
        Ok(())
    }
}

impl MemorySink {
    fn map_of(&self, path: &str) -> &RwLock<FileMap> {
        if search::is_index_file(path) {
            &self.index
        } else {
            &self.files
        }
    }

    /// A copy sharing the file contents (and the search index), to render a new
    /// generation into.
    fn snapshot(&self) -> MemorySink {
        let files = self.files.read().unwrap_or_else(|p| p.into_inner()).clone();
        MemorySink {
            files: RwLock::new(files),
            index: self.index.clone(),
        }
    }

    /// Keeps only the given paths: pages of deleted services disappear. (The search
    /// index is not a render's: it stays.)
    fn retain(&self, paths: &[String]) {
        let keep: HashSet<&str> = paths.iter().map(String::as_str).collect();
        self.files
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|path, _| keep.contains(&**path));
    }

    pub fn get(&self, path: &str) -> Option<Arc<[u8]>> {
        self.map_of(path)
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(path)
            .cloned()
    }

    /// Every file's path, sorted.
    pub fn paths(&self) -> Vec<String> {
        let mut paths = Vec::new();
        for map in [&self.files, &*self.index] {
            let map = map.read().unwrap_or_else(|p| p.into_inner());
            paths.extend(map.keys().map(|p| p.to_string()));
        }
        paths.sort();
        paths
    }

    fn has_dir(&self, dir: &str) -> bool {
        self.get(&format!("{dir}/index.html")).is_some()
    }
}

impl search::Previous for MemorySink {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.get(path).map(|bytes| bytes.to_vec())
    }

    fn files_under(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        let mut out = Vec::new();
        for map in [&self.files, &*self.index] {
            let map = map.read().unwrap_or_else(|p| p.into_inner());
            out.extend(
                map.keys()
                    .filter(|path| path.starts_with(&prefix))
                    .map(|path| path.to_string()),
            );
        }
        out.sort();
        out
    }
}

/// One complete rendering of the site, and the resolved content it came from.
pub struct Generation {
    site: Site,
    pub files: Arc<MemorySink>,
}

/// Loads the whole content again and renders it into memory, reusing `previous` for
/// every page whose inputs did not change. Prints diagnostics and returns `None` when
/// the content has errors. (`lotse serve` itself reads only what changed: [`Reloader`].)
pub fn rebuild(content: &Path, theme: &Theme, previous: Option<&Generation>) -> Option<Generation> {
    let started = Instant::now();
    let (site, diagnostics) = build::check(content);
    for d in &diagnostics {
        eprintln!("{d}");
    }
    let site = site?;
    let (selection, files) = match previous {
        Some(previous) => (
            render::changes(&previous.site, &site),
            previous.files.snapshot(),
        ),
        None => (Selection::everything(), MemorySink::default()),
    };
    match build::render_with_progress(&site, theme, &files, &selection, false) {
        Ok(stats) => {
            files.retain(&stats.paths);
            eprintln!(
                "rendered {} of {} pages in {} ms",
                stats.pages,
                stats.paths.iter().filter(|p| p.ends_with(".html")).count(),
                started.elapsed().as_millis()
            );
            Some(Generation {
                site,
                files: Arc::new(files),
            })
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            None
        }
    }
}

#[derive(Clone)]
struct AppState {
    files: Arc<RwLock<Arc<MemorySink>>>,
    reload: broadcast::Sender<()>,
}

/// The static files' Content-Security-Policy under `lotse serve`: the site's, with the
/// payment providers of the first build and `LOTSE_PAYMENT_BASE_URL` as form targets
/// (a changed provider needs a restart).
static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub(crate) fn content_security_policy() -> String {
    POLICY
        .get()
        .cloned()
        .unwrap_or_else(|| crate::render::extras::content_security_policy(&[]))
}

/// Takes in the changed `paths` and renders what they changed, printing the
/// diagnostics and what was rendered; `false` when nothing new is to be served (the
/// content has errors, or rendering failed).
fn reload(reloader: &mut Reloader, paths: &[PathBuf], theme: &Theme, theme_changed: bool) -> bool {
    let started = Instant::now();
    reloader.update(paths);
    render(reloader, theme, theme_changed, started)
}

fn render(reloader: &mut Reloader, theme: &Theme, everything: bool, started: Instant) -> bool {
    for d in reloader.diagnostics() {
        eprintln!("{d}");
    }
    if reloader.has_errors() || reloader.site().is_none() {
        return false;
    }
    match reloader.render(theme, everything) {
        Ok(stats) => {
            let t = reloader.timings();
            eprintln!(
                "rendered {} of {} pages in {} ms (load {}, resolve {}, check {}, render {} ms)",
                stats.pages,
                stats.paths.iter().filter(|p| p.ends_with(".html")).count(),
                started.elapsed().as_millis(),
                t.load.as_millis(),
                t.resolve.as_millis(),
                t.check.as_millis(),
                t.render.as_millis(),
            );
            true
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            false
        }
    }
}

pub fn run(options: Options) -> Result<()> {
    std::fs::create_dir_all(&options.data)
        .with_context(|| format!("cannot create the data folder {}", options.data.display()))?;
    let theme = Theme::load(Some(&options.theme))?;
    let started = Instant::now();
    let mut first = Reloader::new(&options.content);
    if !render(&mut first, &theme, true, started) {
        anyhow::bail!("the first build failed; fix the errors above and start again");
    }
    let site = first.site().expect("rendered, so resolved");
    let (reload, _) = broadcast::channel(16);
    let state = AppState {
        files: Arc::new(RwLock::new(first.files().clone())),
        reload,
    };
    let site_url = format!("http://127.0.0.1:{}", options.port);
    let mut form_targets = crate::render::extras::payment_origins(site);
    if let Some(origin) = std::env::var("LOTSE_PAYMENT_BASE_URL")
        .ok()
        .and_then(|url| crate::render::extras::origin_of(url.trim()))
    {
        form_targets.push(origin);
    }
    let _ = POLICY.set(crate::render::extras::content_security_policy(
        &form_targets,
    ));
    let functions =
        functions::local_app(&options.data, state.files.clone(), &site.region, &site_url)?;
    let functions = Arc::new(functions);
    crate::mail::start_payments(functions.clone())?;
    match crate::mail::SmtpMailer::from_env(&site.region.name)? {
        Some(mailer) => crate::mail::start(functions.clone(), mailer)?,
        None => eprintln!(
            "note: LOTSE_SMTP_URL is not set; notifications of new messages wait in the outbox"
        ),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(options, state, functions, theme, first))
}

async fn serve(
    options: Options,
    state: AppState,
    functions: Arc<functions::LocalApp>,
    theme: Theme,
    first: Reloader,
) -> Result<()> {
    let api = Router::new()
        .route("/api", any(functions::api))
        .route("/api/{*path}", any(functions::api))
        .with_state(functions);
    let app = Router::new()
        .route("/__lotse/livereload", get(livereload))
        .route("/__lotse/livereload.js", get(livereload_js))
        .fallback(static_file)
        .with_state(state.clone())
        .merge(api);
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], options.port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    eprintln!("serving http://{address}/ (Ctrl-C stops)");
    spawn_watcher(&options, state, theme, first)?;
    listener::serve(listener, app, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("server failed")
}

/// Watches content and theme; after a burst of changes settles, re-renders what
/// changed and tells browsers to reload.
fn spawn_watcher(options: &Options, state: AppState, theme: Theme, first: Reloader) -> Result<()> {
    let (content, theme_dir, search) = (
        options.content.clone(),
        options.theme.clone(),
        options.search,
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<PathBuf>>();
    let everything = content.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        match event {
            Ok(event) if event.need_rescan() => {
                // Events were lost: the content folder itself reads everything again.
                let _ = tx.send(vec![everything.clone()]);
            }
            Ok(event) if !event.kind.is_access() => {
                let _ = tx.send(event.paths);
            }
            Ok(_) => {}
            Err(_) => {
                let _ = tx.send(vec![everything.clone()]);
            }
        }
    })
    .context("cannot watch files")?;
    watcher.watch(&content, RecursiveMode::Recursive)?;
    if theme_dir.exists() {
        watcher.watch(&theme_dir, RecursiveMode::Recursive)?;
    }
    let theme_root = theme_dir
        .canonicalize()
        .unwrap_or_else(|_| theme_dir.clone());
    tokio::spawn(async move {
        let _keep_alive = watcher;
        let mut theme = Arc::new(theme);
        let indexing = Arc::new(indexing::Indexing::default());
        let mut current = if search {
            index(&indexing, first).await
        } else {
            Some(first)
        };
        // Changes not taken in yet (a broken theme stopped the last round).
        let mut waiting: Vec<PathBuf> = Vec::new();
        while let Some(mut paths) = rx.recv().await {
            // Editors write a file in several steps; let the burst settle briefly.
            tokio::time::sleep(Duration::from_millis(5)).await;
            while let Ok(more) = rx.try_recv() {
                paths.extend(more);
            }
            paths.append(&mut waiting);
            paths.sort();
            paths.dedup();
            let theme_changed = paths
                .iter()
                .any(|p| p.starts_with(&theme_root) || p.starts_with(&theme_dir));
            if theme_changed {
                match Theme::load(Some(&theme_dir)) {
                    Ok(reloaded) => theme = Arc::new(reloaded),
                    Err(e) => {
                        eprintln!("error: {e:#}");
                        waiting = paths;
                        continue;
                    }
                }
            }
            let theme_now = theme.clone();
            let content = content.clone();
            let previous = current.take();
            let done = tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                let Some(mut reloader) = previous else {
                    // The last reload panicked: start over.
                    let mut reloader = Reloader::new(&content);
                    let fresh = render(&mut reloader, &theme_now, true, started);
                    return (reloader, fresh);
                };
                let fresh = reload(&mut reloader, &paths, &theme_now, theme_changed);
                (reloader, fresh)
            })
            .await;
            let Ok((reloader, fresh)) = done else {
                eprintln!("error: the reload failed; the next change reads everything again");
                continue;
            };
            if !fresh {
                current = Some(reloader);
                continue;
            }
            *state.files.write().unwrap_or_else(|p| p.into_inner()) = reloader.files().clone();
            // The browser reloads at once; the index follows ([`index`]).
            let _ = state.reload.send(());
            current = if search {
                index(&indexing, reloader).await
            } else {
                Some(reloader)
            };
        }
    });
    Ok(())
}

/// Starts the search index of what `reloader` last rendered (the portals it touched).
/// Its records are made on a blocking thread, never on an async task: there they held
/// back the server's start, and after an edit the reload event, which waits for the
/// task's worker thread (tokio runs a task woken there next on the same thread), by
/// 25-40 ms on the benchmark corpus. `None` if that panicked: the next change then
/// reads everything again.
async fn index(indexing: &Arc<indexing::Indexing>, reloader: Reloader) -> Option<Reloader> {
    let indexing = indexing.clone();
    let indexed = tokio::task::spawn_blocking(move || {
        if let Some(site) = reloader.site() {
            indexing.spawn(site, reloader.files().clone(), reloader.touched_portals());
        }
        reloader
    })
    .await;
    if indexed.is_err() {
        eprintln!("error: the search index failed; the next change reads everything again");
    }
    indexed.ok()
}

async fn livereload(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(state.reload.subscribe()).filter_map(|message| {
        message
            .ok()
            .map(|_| Ok(Event::default().event("reload").data("reload")))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
