//! The search index under `lotse serve`: after an edit the reload comes first and the
//! index follows in the background, made again only for the portals the edit changed;
//! once it has settled, every portal's index is the one `lotse build` makes.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use lotse::build::{self, BuildOutcome};

mod common;
use common::servers::{free_port, repo, wait_until_answers, Running};
use common::{copy_dir, lines};

fn get(port: u16, path: &str) -> Option<String> {
    let mut answer = ureq::get(&format!("http://127.0.0.1:{port}{path}"))
        .call()
        .ok()?;
    answer.body_mut().read_to_string().ok()
}

/// The stamp of each portal's index, by portal, in the build of `content` at `out`.
fn built_stamps(content: &Path, out: &Path, portals: &[&str]) -> Vec<String> {
    let theme = content.with_file_name("themes").join("default");
    match build::build(content, &theme, out, false).unwrap() {
        BuildOutcome::Built(..) => {}
        BuildOutcome::Invalid(d) => panic!("{}", lines(&d).join("\n")),
    }
    portals
        .iter()
        .map(|p| {
            fs::read_to_string(out.join(p).join("pagefind").join(lotse::search::STAMP)).unwrap()
        })
        .collect()
}

/// The "search index: …" lines of the server's log: how many indexes each job made.
fn index_jobs(log: &Path) -> Vec<usize> {
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.strip_prefix("search index: "))
        .filter_map(|rest| {
            let (_, after) = rest.split_once(" records in ")?;
            after.split_once(' ')?.0.parse().ok()
        })
        .collect()
}

#[test]
fn after_edits_only_their_portals_are_indexed_and_every_index_ends_up_as_built() {
    let tmp = tempfile::tempdir().unwrap();
    let content = tmp.path().join("content");
    copy_dir(&repo().join("content"), &content);
    let data = tmp.path().join("data");
    let log_path = tmp.path().join("serve.log");
    let log = fs::File::create(&log_path).unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args(["serve", "--port", &port.to_string(), "--content"])
        .arg(&content)
        .arg("--data")
        .arg(&data)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("lotse serve starts");
    let mut running = Running { child, data: None };
    let stamp_of = |portal: &str| format!("/{portal}/pagefind/{}", lotse::search::STAMP);
    wait_until_answers(
        port,
        &mut running,
        &["/", &stamp_of("bottrop"), &stamp_of("marl")],
        Duration::from_secs(90),
    );
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let started = Instant::now();
        while !done() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{what}: not within 60 s; the log:\n{}",
                fs::read_to_string(&log_path).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("the first index", &|| !index_jobs(&log_path).is_empty());
    let portals = ["bottrop", "marl", "gladbeck"];
    let first = index_jobs(&log_path)[0];
    assert_eq!(first, 14, "13 portals and the umbrella at the start");
    let before: Vec<Option<String>> = portals.iter().map(|p| get(port, &stamp_of(p))).collect();

    // Two edits in two portals, the second while the first may still be indexing.
    let append = |rel: &str, text: &str| {
        let path = content.join(rel);
        let old = fs::read_to_string(&path).unwrap();
        fs::write(&path, format!("{old}\n{text}\n")).unwrap();
    };
    append(
        "portals/bottrop/services/sperrmuell-anmelden.md",
        "Auch Matratzen holen wir ab.",
    );
    std::thread::sleep(Duration::from_millis(150));
    append(
        "portals/marl/services/anwohnerparkausweis.md",
        "Der Ausweis gilt auch für Motorräder.",
    );

    let want = built_stamps(&content, &tmp.path().join("dist"), &portals);
    let served =
        || -> Vec<Option<String>> { portals.iter().map(|p| get(port, &stamp_of(p))).collect() };
    wait_for("the served indexes to be the built ones", &|| {
        served() == want.iter().cloned().map(Some).collect::<Vec<_>>()
    });
    let after = served();
    assert_ne!(after[0], before[0], "Bottrop's index changed");
    assert_ne!(after[1], before[1], "Marl's index changed");
    assert_eq!(after[2], before[2], "Gladbeck's did not");
    // The jobs after the edits made only the edited portals' indexes and the
    // umbrella's catalogue, not all fourteen again.
    let jobs = index_jobs(&log_path);
    assert!(
        jobs.len() > 1 && jobs[1..].iter().all(|&n| n <= 3),
        "indexes per job: {jobs:?}"
    );
}
