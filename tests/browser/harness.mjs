// What the browser scripts share: the command line, the WCAG tags axe runs, starting
// Debian's Chromium and its contexts, the step runner (one `ok`/`FAIL`/`XFAIL` line per
// step, timings, a summary), keyboard helpers, axe-core and reflow at 320 px on a page
// or on a kept copy of it, and screenshots at 1280 and 320 px.

import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

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

/** The command line every script takes: the base URL (the first argument not starting
 *  with `--`, default http://127.0.0.1:8080, without a trailing slash), `--screenshots
 *  DIR` (resolved; `null` without), and E2E_ONLY (a RegExp of the steps to run). */
export function options(args = process.argv.slice(2)) {
  const base = (args.find((a) => !a.startsWith('--')) || 'http://127.0.0.1:8080').replace(/\/$/, '');
  const only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY) : null;
  const shotsAt = args.indexOf('--screenshots');
  const shotsDir = shotsAt >= 0 ? resolve(args[shotsAt + 1]) : null;
  return { base, only, shotsDir };
}

/** A German context at 1280 x 900 (`options` on top) without live reload (edits by
 *  others while the test runs must not reload pages under test); with `loopbackOnly`,
 *  nothing but 127.0.0.1 and localhost is reached. */
export async function newContext(browser, options = {}, { loopbackOnly = false } = {}) {
  const ctx = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 900 }, ...options });
  await ctx.route('**/__lotse/**', (route) => route.abort());
  if (loopbackOnly) {
    await ctx.route((url) => !['127.0.0.1', 'localhost'].includes(url.hostname), (route) => route.abort());
  }
  return ctx;
}

// ---------------------------------------------------------------- keyboard

/** The focused element's id, else its text; `null` on the body (page.evaluate runs
 *  through DevTools, also with JavaScript off). */
export const focused = (page) =>
  page.evaluate(() => {
    const a = document.activeElement;
    return a && a !== document.body ? a.id || a.textContent.trim() : null;
  });

/** Tabs forward (at most `limit` times) until the focused element (see `focused`) is
 *  `target`: a string, a RegExp or a predicate. Resolves with it; the error lists the
 *  first `shown` Tab stops. */
export async function tabTo(page, target, { limit = 120, shown = 40 } = {}) {
  const seen = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const now = await focused(page);
    if (typeof target === 'function' ? target(now) : target instanceof RegExp ? target.test(now || '') : now === target) return now;
    seen.push(now);
  }
  throw new Error(`${target} not reached with Tab on ${page.url()}; the Tab stops were: ${JSON.stringify(seen.slice(0, shown))}`);
}

/** WCAG 2.4.7: the focused element shows the theme's focus indicator (an outline or a
 *  box shadow). With `radioLabel`, a focused radio button's label is checked (the theme
 *  draws the ring there); with `withUrl`, the failure names the page. */
export async function focusVisible(page, { radioLabel = false, withUrl = false } = {}) {
  const style = await page.evaluate((radioLabel) => {
    let el = document.activeElement;
    if (radioLabel && el.type === 'radio' && el.nextElementSibling?.tagName === 'LABEL') el = el.nextElementSibling;
    const cs = getComputedStyle(el);
    return { outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth), color: cs.outlineColor, shadow: cs.boxShadow };
  }, radioLabel);
  const outlined = style.outline !== 'none' && style.width > 0 && !/rgba\(0, 0, 0, 0\)/.test(style.color);
  const where = withUrl ? ` (${page.url()})` : '';
  check(outlined || style.shadow !== 'none', `no visible focus indicator on ${await focused(page)}${where}: ${JSON.stringify(style)}`);
}

// ---------------------------------------------------------------- accessibility

const require = createRequire(import.meta.url);
/** axe-core's path in node_modules. */
export const AXE_PATH = require.resolve('axe-core/axe.min.js');
let axeSource = null;

/** Runs axe-core (the WCAG tags) on `page`, or only on the `include` selector; the page
 *  needs JavaScript (axe runs on timers). Resolves with axe's result. */
export async function runAxe(page, include = null) {
  axeSource ??= readFileSync(AXE_PATH, 'utf8');
  await page.evaluate(axeSource);
  return page.evaluate(
    ([tags, include]) => window.axe.run(include ? { include: [include] } : document, { runOnly: { type: 'tag', values: tags } }),
    [WCAG, include],
  );
}

/** Fails unless axe ran at least `minPasses` rules (a guard against a silent no-op) and
 *  found no violation on `label` (and `url`, when given); each violation with up to four
 *  of its nodes, indented by `indent`. */
export function checkAxe(result, label, { url = null, minPasses = 10, indent = '  ' } = {}) {
  check(result.passes.length >= minPasses, `axe passed only ${result.passes.length} rules on ${label}: did it run?`);
  const lines = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n${indent}${v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' :: ' + n.html.slice(0, 160)).join(`\n${indent}`)}`,
  );
  const where = url ? `${label} (${url})` : label;
  check(result.violations.length === 0, `${result.violations.length} violation(s) on ${where}:\n${lines.join('\n')}`);
}

/** Reflow (WCAG 1.4.10) at the page's width `width`: the document's scrollWidth and up
 *  to five elements reaching past it (not those inside `skip`, a selector). */
export function overflow(page, { width = 320, skip = null } = {}) {
  return page.evaluate(
    ([w, skip]) => {
      const out = [];
      for (const el of document.querySelectorAll('body *')) {
        if (skip && el.closest(skip)) continue;
        const r = el.getBoundingClientRect();
        if (r.right > w + 1 && r.width > 0) out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}`);
      }
      return { scroll: document.documentElement.scrollWidth, culprits: out.slice(0, 5) };
    },
    [width, skip],
  );
}

/** Fails when `page` (already `width` px wide) scrolls sideways; `label` names it. */
export async function checkReflow(page, label, width = 320) {
  const { scroll, culprits } = await overflow(page, { width });
  check(scroll <= width, `scrollWidth ${scroll} > ${width} on ${label}; too wide: ${culprits.join(', ')}`);
}

/** Opens `state` ({ url, html }: a page as it stood, with what was typed) at its own
 *  address in `ctx` (a context with JavaScript on, for the checks that need it), at
 *  `viewport` when given; its stylesheets come from the server. Runs `fn` on it, closes
 *  it, and resolves with what `fn` gave. */
export async function onCopy(ctx, state, viewport, fn) {
  const probe = await ctx.newPage();
  try {
    if (viewport) await probe.setViewportSize(viewport);
    await probe.route(state.url, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: state.html }));
    await probe.goto(state.url);
    return await fn(probe);
  } finally {
    await probe.close();
  }
}

/** With a folder `dir`: `page` whole at its size and at 320 px wide, as `<file>.png` and
 *  `<file>-320.png` (CSS pixels); its size is put back. */
export async function screenshots(page, dir, file) {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const before = page.viewportSize();
  await page.screenshot({ path: join(dir, `${file}.png`), fullPage: true, scale: 'css' });
  await page.setViewportSize({ width: 320, height: 800 });
  await page.screenshot({ path: join(dir, `${file}-320.png`), fullPage: true, scale: 'css' });
  await page.setViewportSize(before);
}
