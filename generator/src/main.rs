//! `lotse`: builds, checks and serves the municipal service portals of a region.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Rendering allocates many small strings on several threads; mimalloc handles that
/// pattern markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use lotse::diagnostics::{Diagnostic, Severity};
use lotse::{build, inbox, serve};

/// Exit codes: what went wrong, for scripts and CI.
mod exit {
    /// The content (or theme) has errors; diagnostics were printed.
    pub const INVALID_CONTENT: u8 = 1;
    /// The command line was wrong (clap's own code).
    #[allow(dead_code)]
    pub const USAGE: u8 = 2;
    /// The environment failed: a file could not be written, a port was taken.
    pub const FAILURE: u8 = 3;
}

#[derive(Parser)]
#[command(
    name = "lotse",
    version,
    about = "Builds the municipal service portals of a region as static sites",
    long_about = "Lotse turns a region's content (Markdown service descriptions and TOML \
settings, see docs/content-format.md) into one static site: an umbrella portal plus one \
portal per city or district, with topic pages, an A-Z list, service pages with online \
application forms, a sitemap and the form schemas the functions validate against.",
    after_help = "Exit codes: 0 success, 1 content errors (printed as path:line:column: error: message), \
2 wrong command line, 3 I/O or server failure.\n\nStart here: `lotse serve` in the repository, then open http://127.0.0.1:8080/"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build every portal into the output folder (replaced only when the build succeeds)
    Build {
        /// The content folder (region.toml, categories.toml, services/, portals/)
        #[arg(long, default_value = "content")]
        content: PathBuf,
        /// Where the site goes; an earlier build there is replaced atomically
        #[arg(long, default_value = "dist")]
        out: PathBuf,
        /// The theme folder (templates/, static/); default: themes/default next to the content
        #[arg(long)]
        theme: Option<PathBuf>,
        /// Leave out the search index (pagefind/); the search pages then point to A–Z
        /// and the topics
        #[arg(long)]
        no_search: bool,
    },
    /// Check the content and report every problem, without writing anything
    Check {
        #[arg(long, default_value = "content")]
        content: PathBuf,
        /// Treat warnings as errors (exit 1 when there are any)
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Build, serve on 127.0.0.1, and rebuild when content or theme change
    Serve {
        #[arg(long, default_value = "content")]
        content: PathBuf,
        /// Port on 127.0.0.1
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Folder for the functions' embedded store (applications, status)
        #[arg(long, default_value = ".lotse")]
        data: PathBuf,
        #[arg(long)]
        theme: Option<PathBuf>,
        /// Do not build the search index (it is built in the background after each
        /// rebuild otherwise)
        #[arg(long)]
        no_search: bool,
    },
    /// Office key pairs for encrypted applications
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The office inbox: pull, decrypt and update applications from a terminal
    #[command(subcommand)]
    Inbox(InboxCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key pair: the private key goes to FILE (never overwritten, readable by
    /// you only), the public key (base64) to stdout, for `public_key` in portal.toml
    New {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum InboxCommand {
    /// Decrypt stored applications: one envelope, a list, or what `GET
    /// /api/office/<portal>/<office>/applications` answers (from FILE or stdin)
    Decrypt {
        /// The office's private key file
        #[arg(long)]
        key: PathBuf,
        /// JSON file with the envelope(s); standard input when absent
        envelope: Option<PathBuf>,
    },
    /// Fetch the office's applications from a running site and decrypt them
    Pull {
        /// Site origin, e.g. http://127.0.0.1:8080
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        #[arg(long)]
        portal: String,
        #[arg(long)]
        office: String,
        #[arg(long)]
        key: PathBuf,
        /// The office's bearer token (read from the environment, not typed on the command line)
        #[arg(long, env = "LOTSE_OFFICE_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Set the status of an application, with a note the citizen will see
    Status {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        /// The application id, e.g. 7K3M-9QPX
        #[arg(long)]
        id: String,
        /// received, in_progress, needs_info, completed or rejected
        #[arg(long)]
        status: String,
        #[arg(long)]
        note: Option<String>,
        #[arg(long, env = "LOTSE_OFFICE_TOKEN", hide_env_values = true)]
        token: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before any thread starts: setting the environment is only sound single-threaded.
    lotse::search::tune_pagefind();
    match cli.command {
        Command::Build {
            content,
            out,
            theme,
            no_search,
        } => run_build(&content, &out, theme, !no_search),
        Command::Check {
            content,
            deny_warnings,
        } => run_check(&content, deny_warnings),
        Command::Keys(KeysCommand::New { out }) => print_result(inbox::new_key(&out)),
        Command::Inbox(InboxCommand::Decrypt { key, envelope }) => {
            print_result(inbox::decrypt(&key, envelope.as_deref()))
        }
        Command::Inbox(InboxCommand::Pull {
            server,
            portal,
            office,
            key,
            token,
        }) => print_result(inbox::pull(&server, &portal, &office, &token, &key)),
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

fn print_result(result: anyhow::Result<String>) -> ExitCode {
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn run_check(content: &Path, deny_warnings: bool) -> ExitCode {
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
            eprintln!(
                "built {} pages ({} files) for {} portals and the umbrella in {:.2} s ({:.0} pages/s{index}) -> {}",
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
