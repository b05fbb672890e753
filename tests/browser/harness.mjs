// What the browser scripts share: the WCAG tags axe runs, starting Debian's Chromium,
// and the step runner (one `ok`/`FAIL`/`XFAIL` line per step, timings, a summary).

import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

export const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Throws `message` unless `cond` holds. */
export function check(cond, message) {
  if (!cond) throw new Error(message);
}

/** A known bug, reported and not yet fixed: its step is reported as XFAIL, not FAIL. */
export class KnownBug extends Error {}

/** Chromium from CHROMIUM (default /usr/bin/chromium), headless, German; exits 2 when it
 *  is missing or does not start. */
export async function launchChromium() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    console.error(`error: Chromium not found at ${executablePath}: apt-get install -y chromium, or set CHROMIUM`);
    process.exit(2);
  }
  try {
    return await chromium.launch({
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        '--lang=de-DE',
      ],
    });
  } catch (e) {
    console.error(`error: Chromium at ${executablePath} did not start: ${e.message}`);
    process.exit(2);
  }
}

/** Runs named steps; `only` (a RegExp) skips the others. */
export class Steps {
  constructor(only = null) {
    this.only = only;
    this.started = Date.now();
    this.passed = []; // [name, ms]
    this.failures = [];
    this.xfails = [];
  }

  async step(name, fn) {
    if (this.only && !this.only.test(name)) return;
    const started = Date.now();
    const indent = (text) => String(text).split('\n').join('\n     ');
    try {
      await fn();
      this.passed.push([name, Date.now() - started]);
      console.log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      if (e instanceof KnownBug) {
        this.xfails.push(name);
        console.log(`XFAIL ${name} (${Date.now() - started} ms)\n     known bug: ${indent(e.message)}`);
        return;
      }
      this.failures.push(name);
      console.log(`FAIL ${name} (${Date.now() - started} ms)\n     ${indent(e.message || e)}`);
    }
  }

  /** Fails a step at once, naming the earlier steps it builds on that did not pass. */
  needs(...earlier) {
    const missing = earlier.filter((name) => this.failures.includes(name) || this.xfails.includes(name));
    check(missing.length === 0, `skipped: an earlier step failed: ${missing.join('; ')}`);
  }

  /** Prints the summary; the process exit code (1 when a step failed). */
  summary() {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    console.log(`\n${this.passed.length} passed, ${this.failures.length} failed, ${this.xfails.length} known bug(s), ${seconds} s in all`);
    if (this.xfails.length) console.log(`known bugs (XFAIL):\n  ${this.xfails.join('\n  ')}`);
    if (this.failures.length) console.log(`failed:\n  ${this.failures.join('\n  ')}`);
    return this.failures.length ? 1 : 0;
  }
}
