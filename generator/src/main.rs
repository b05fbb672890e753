//! `lotse`: builds, checks and serves the municipal service portals of a region.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

mod allocator;
mod cli;

use cli::{exit, Cli, Command, InboxCommand, KeysCommand};

use lotse::diagnostics::{Diagnostic, Severity};
use lotse::{build, inbox, serve};

fn main() -> ExitCode {
    allocator::no_huge_pages();
    let cli = Cli::parse();
    match cli.command {
        Command::Build {
            content,
            out,
            theme,
            no_search,
        } => run_build(&content, &out, theme, !no_search),
        Command::Check {
            content,
            theme,
            deny_warnings,
        } => run_check(&content, theme, deny_warnings),
        Command::Init { dir, region, city } => run_init(&dir, region, city),
        Command::Worker { out } => run_worker(&out),
        Command::Keys(KeysCommand::New { out }) => print_result(inbox::new_key(&out)),
        Command::Inbox(InboxCommand::Decrypt { key, envelope, out }) => {
            print_inbox(inbox::decrypt(&key, envelope.as_deref(), out.as_deref()))
        }
        Command::Inbox(InboxCommand::Pull {
            server,
            portal,
            office,
            key,
            out,
            token,
        }) => print_inbox(inbox::pull(
            &server,
            &portal,
            &office,
            &token,
            &key,
            out.as_deref(),
        )),
        Command::Inbox(InboxCommand::Reply {
            server,
            id,
            text,
            attach,
            status,
            token,
        }) => run_reply(&server, &id, &token, text, status, attach),
        Command::Inbox(InboxCommand::Appointments {
            server,
            portal,
            office,
            date,
            key,
            json,
            token,
        }) => print_day(
            inbox::appointments::fetch_day(
                &server,
                &portal,
                &office,
                date.as_deref(),
                &token,
                &key,
            ),
            json,
        ),
        Command::Inbox(InboxCommand::CancelAppointment {
            server,
            id,
            message,
            token,
        }) => run_cancel_appointment(&server, &id, message, &token),
        Command::Inbox(InboxCommand::Status {
            server,
            id,
            status,
            note,
            token,
        }) => print_result(inbox::set_status(
            &server,
            &id,
            &status,
            note.as_deref(),
            &token,
        )),
        Command::Serve {
            content,
            port,
            data,
            theme,
            no_search,
        } => {
            let theme = theme.unwrap_or_else(|| build::default_theme_dir(&content));
            allocator::keep_freed_memory();
            match serve::run(serve::Options {
                content,
                theme,
                port,
                data,
                search: !no_search,
            }) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
    }
}

/// The applications and messages on standard output (with `--out`, the folders
/// written); everything that could not be read is also named on standard error, and
/// makes the exit code 3: an inbox is never quietly shorter than what the server holds.
fn print_inbox(result: anyhow::Result<inbox::Inbox>) -> ExitCode {
    match result {
        Ok(inbox) => {
            // A closed pipe (`| head`) ends the output, not the command with a panic.
            let mut stdout = std::io::stdout().lock();
            let _ = match &inbox.written {
                Some(lines) => lines.iter().try_for_each(|line| writeln!(stdout, "{line}")),
                None => writeln!(stdout, "{}", inbox.to_json()),
            };
            for note in &inbox.notes {
                eprintln!("note: {note}");
            }
            for problem in &inbox.unreadable {
                eprintln!(
                    "error: {} could not be read: {}",
                    problem.what, problem.reason
                );
            }
            if inbox.unreadable.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(exit::FAILURE)
            }
        }
        Err(e) => fail(&e),
    }
}

/// `lotse inbox appointments`: the day as a table (or JSON); what could not be read is
/// named on standard error and makes the exit code 3, as for `pull`.
fn print_day(result: anyhow::Result<inbox::appointments::Day>, json: bool) -> ExitCode {
    match result {
        Ok(day) => {
            let mut stdout = std::io::stdout().lock();
            let _ = if json {
                writeln!(stdout, "{}", day.to_json())
            } else {
                write!(stdout, "{}", day.to_text())
            };
            for problem in &day.unreadable {
                eprintln!(
                    "error: {} could not be read: {}",
                    problem.what, problem.reason
                );
            }
            if day.unreadable.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(exit::FAILURE)
            }
        }
        Err(e) => fail(&e),
    }
}

/// `lotse inbox cancel-appointment`: the id on standard output.
fn run_cancel_appointment(server: &str, id: &str, message: String, token: &str) -> ExitCode {
    let cancelled = inbox::reply::text_argument(message)
        .and_then(|message| inbox::appointments::cancel(server, id, &message, token));
    match cancelled {
        Ok(answer) => {
            println!(
                "{}",
                answer.get("id").and_then(|v| v.as_str()).unwrap_or(id)
            );
            eprintln!(
                "cancelled; the citizen is told by mail and reads the message with their appointment"
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// `lotse inbox reply`: the new message's id on standard output.
fn run_reply(
    server: &str,
    id: &str,
    token: &str,
    text: String,
    status: Option<String>,
    attach: Vec<PathBuf>,
) -> ExitCode {
    let sent = inbox::reply::text_argument(text).and_then(|text| {
        inbox::reply::send(
            server,
            id,
            token,
            &inbox::reply::Reply {
                text,
                status,
                attach,
            },
        )
    });
    match sent {
        Ok(sent) => {
            println!("{}", sent.id);
            if let Some(status) = sent.status {
                eprintln!("sent; application {id} is now {status}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn print_result(result: anyhow::Result<String>) -> ExitCode {
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn run_check(content: &Path, theme: Option<PathBuf>, deny_warnings: bool) -> ExitCode {
    let theme = theme.unwrap_or_else(|| build::default_theme_dir(content));
    if let Err(e) = lotse::theme::Theme::load(Some(&theme)) {
        return fail(&e);
    }
    let (site, diagnostics) = build::check(content);
    print_diagnostics(&diagnostics);
    let warnings = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    match site {
        Some(site) if !(deny_warnings && warnings > 0) => {
            let services: usize = site.portals.iter().map(|p| p.services.len()).sum();
            eprintln!(
                "ok: {} portals, {} services across portals, {} warnings",
                site.portals.len(),
                services,
                warnings
            );
            ExitCode::SUCCESS
        }
        _ => {
            summarize_failure(&diagnostics);
            ExitCode::from(exit::INVALID_CONTENT)
        }
    }
}

fn run_build(content: &Path, out: &Path, theme: Option<PathBuf>, search: bool) -> ExitCode {
    allocator::keep_freed_memory();
    let theme = theme.unwrap_or_else(|| build::default_theme_dir(content));
    let options = build::BuildOptions {
        progress: std::io::stderr().is_terminal(),
        search,
    };
    match build::build_with(content, &theme, out, options) {
        Ok(build::BuildOutcome::Built(report, diagnostics)) => {
            print_diagnostics(&diagnostics);
            let secs = report.elapsed.as_secs_f64();
            let index = if search {
                format!(
                    "; search index: {} records, {:.1} MB in {:.2} s, {} of {} indexes unchanged",
                    report.search.records,
                    report.search.bytes as f64 / 1e6,
                    report.search.elapsed.as_secs_f64(),
                    report.search.reused,
                    report.search.indexes
                )
            } else {
                "; no search index".to_string()
            };
            let reused = if report.reused > 0 {
                format!(", {} of them unchanged", report.reused)
            } else {
                String::new()
            };
            eprintln!(
                "built {} pages{reused} ({} files) for {} portals and the umbrella in {:.2} s ({:.0} pages/s{index}) -> {}",
                report.pages,
                report.files,
                report.portals,
                secs,
                report.pages as f64 / secs.max(1e-9),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Ok(build::BuildOutcome::Invalid(diagnostics)) => {
            print_diagnostics(&diagnostics);
            summarize_failure(&diagnostics);
            eprintln!("nothing written; {} is unchanged", out.display());
            ExitCode::from(exit::INVALID_CONTENT)
        }
        Err(e) => fail(&e),
    }
}

fn run_init(dir: &Path, region: String, city: String) -> ExitCode {
    let options = lotse::init::InitOptions { region, city };
    match lotse::init::init(dir, &options) {
        Ok(created) => {
            let d = created.dir.display();
            eprintln!(
                "created {d}: {} files, the portal `{}`, and the office key {} (keep it secret; \
                 .gitignore leaves it out of git)",
                created.files,
                created.city_slug,
                created.key_file.display()
            );
            eprintln!(
                "next: cd {d} && lotse serve --content content   (README.md explains the rest)"
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn run_worker(out: &Path) -> ExitCode {
    match lotse::worker_bundle::write(out) {
        Ok(written) => {
            eprintln!(
                "wrote the worker ({} KiB wasm) and its migrations: {} files in {}",
                written.wasm_bytes / 1024,
                written.files.len(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        eprintln!("{d}");
    }
}

fn summarize_failure(diagnostics: &[Diagnostic]) {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    eprintln!("error: {errors} problem(s) in the content");
}

fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    let theme_error = error.chain().any(|e| e.to_string().starts_with("themes: "));
    ExitCode::from(if theme_error {
        exit::INVALID_CONTENT
    } else {
        exit::FAILURE
    })
}
