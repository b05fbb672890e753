//! The command line of the `lotse` binary: its commands, options and exit codes.
//! (The binary's own module; the library behind it is `lotse`, src/lib.rs.)

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Exit codes: what went wrong, for scripts and CI.
pub mod exit {
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
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Build every portal into the output folder (replaced only when the build succeeds)
    Build {
        /// The content folder (region.toml, categories.toml, services/, portals/)
        #[arg(long, default_value = "content")]
        content: PathBuf,
        /// Where the site goes; an earlier build there is replaced atomically, and its
        /// pages and search indexes whose inputs did not change are taken over instead of
        /// being made again (lotse-pages.sha256; LOTSE_TIMINGS=1 shows the stages)
        #[arg(long, default_value = "dist")]
        out: PathBuf,
        /// A theme folder (templates/, static/) whose files override the built-in theme
        /// file by file; default: themes/default next to the content, if it exists
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
        /// A theme folder to check along with the content (see `build --theme`)
        #[arg(long)]
        theme: Option<PathBuf>,
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
        /// A theme folder whose files override the built-in theme (see `build --theme`);
        /// watched for changes like the content
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
    /// The office inbox: pull, decrypt and update applications, list and cancel the
    /// office's appointments, from a terminal
    #[command(subcommand)]
    Inbox(InboxCommand),
    /// Start a region's own repository: content/ with one portal, one office with a
    /// fresh key pair, one service with a form, pages, wrangler.toml and a README
    Init {
        /// The new repository's folder (created; must be empty if it exists)
        dir: PathBuf,
        /// The region, as citizens read it
        #[arg(long, default_value = "Musterregion")]
        region: String,
        /// The first portal's city (or district), as citizens read it
        #[arg(long, default_value = "Musterstadt")]
        city: String,
    },
    /// Write the Cloudflare worker built into this `lotse` (index.js, index_bg.wasm and
    /// the D1 migrations), for `wrangler deploy` from a region's repository
    Worker {
        /// Where the worker goes (replaced)
        #[arg(long, default_value = "build/worker")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key pair: the private key goes to FILE (never overwritten, readable by
    /// you only), the public key (base64) to stdout, for `public_key` in portal.toml
    New {
        #[arg(long)]
        out: PathBuf,
    },
}

/// The statuses an office may set (SPEC section 5).
pub const OFFICE_STATUSES: [&str; 5] = [
    "received",
    "in_progress",
    "needs_info",
    "completed",
    "rejected",
];

#[derive(Subcommand)]
pub enum InboxCommand {
    /// Decrypt stored applications and messages: one envelope, a list, what `GET
    /// /api/office/<portal>/<office>/applications` or `GET
    /// /api/office/applications/<id>/messages` answers (from FILE or stdin)
    Decrypt {
        /// The office's private key file
        #[arg(long)]
        key: PathBuf,
        /// JSON file with the envelope(s); standard input when absent
        envelope: Option<PathBuf>,
        /// Write the attachments the input carries into DIR/<id>/attachments/, as
        /// `pull --out` does
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Fetch the office's applications and their messages from a running site and
    /// decrypt them
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
        /// Write each application into DIR/<id>/ (application.json, messages.json,
        /// attachments/) instead of printing it; running it again rewrites nothing
        /// that is unchanged
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The office's bearer token (read from the environment, not typed on the command line)
        #[arg(long, env = "LOTSE_OFFICE_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Write to the citizen about an application: a message, files (PDF, PNG, JPEG),
    /// and a new status if given; prints the new message's id
    Reply {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        /// The application id, e.g. 7K3M-9QPX
        #[arg(long)]
        id: String,
        /// The message; `-` reads it from standard input
        #[arg(long)]
        text: String,
        /// A file to send along (PDF, PNG or JPEG, at most 10 MiB; 20 MiB together);
        /// repeat for more
        #[arg(long, value_name = "FILE")]
        attach: Vec<PathBuf>,
        /// Set this status with the message
        #[arg(long, value_parser = OFFICE_STATUSES)]
        status: Option<String>,
        #[arg(long, env = "LOTSE_OFFICE_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// List the office's appointments of one day, decrypted with the office key: time,
    /// status, service, the citizen's name and e-mail address, id
    #[command(
        after_help = "Fetches GET /api/office/<portal>/<office>/appointments?date=… and opens \
each appointment's envelope with --key. An appointment that does not open (another office's \
key, a damaged envelope, a time that differs from the one booked) is listed as unreadable and \
named on standard error.\n\nExample:\n  export LOTSE_OFFICE_TOKEN=…\n  lotse inbox appointments \
--portal bottrop --office standesamt --date 2027-03-29 \\\n      --key examples/office-keys/bottrop/standesamt.key\n\n\
Exit codes: 0 every appointment was read, 2 wrong command line, 3 an appointment could not be \
read or the server could not be reached or refused (its reason is printed)."
    )]
    Appointments {
        /// Site origin, e.g. http://127.0.0.1:8080
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        /// The portal, e.g. bottrop
        #[arg(long)]
        portal: String,
        /// The office's id in the portal's portal.toml, e.g. standesamt
        #[arg(long)]
        office: String,
        /// The day, YYYY-MM-DD; today (in Germany) when absent
        #[arg(long, value_parser = parse_day)]
        date: Option<String>,
        /// The office's private key file
        #[arg(long)]
        key: PathBuf,
        /// Print JSON ({"portal", "office", "date", "appointments": [{"id", "service",
        /// "service_title", "start", "end", "status", "name", "email", …}]}) instead of the
        /// table
        #[arg(long)]
        json: bool,
        /// The office's bearer token (read from the environment, not typed on the command line)
        #[arg(long, env = "LOTSE_OFFICE_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Cancel an appointment for the office, with a message to the citizen (sealed; the
    /// mail tells them only that it was cancelled, the message is on their appointment)
    CancelAppointment {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        /// The appointment's id, as `inbox appointments` lists it
        #[arg(long)]
        id: String,
        /// Why it is cancelled, for the citizen (at most 2,000 characters); `-` reads it
        /// from standard input
        #[arg(long)]
        message: String,
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

/// `--date`: a calendar date as YYYY-MM-DD.
fn parse_day(text: &str) -> Result<String, String> {
    match lotse_model::calendar::parse_date(text) {
        Some(_) => Ok(text.to_string()),
        None => Err("not a date like 2027-03-29".into()),
    }
}
