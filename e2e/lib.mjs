// Helpers for the browser scenarios of this folder. A scenario is a plain
// Node script (no test framework) that the Go tests run with `node`
// (e2e.RunScenario), with these settings in the environment:
//
//   PASSERELLE_URL       base URL of the passerelle under test (required)
//   PASSERELLE_SHOTS     folder for the screenshots (default .local/screenshots)
//   PASSERELLE_CHROMIUM  chromium executable (default /usr/bin/chromium,
//                        Debian's; scripts/browser.sh install provides it)
//
// A scenario looks like:
//
//   import { main, step, shot, expect, url } from './lib.mjs';
//   await main(async ({ page }) => {
//     await step('open home', async () => { await page.goto(url('/')); });
//     await shot(page, 'home');
//   });
//
// Any failure exits 1 with the failed step, its message and a screenshot of
// every open page named after the step.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Folder of the screenshots, created on first use. */
export const shotsDir = path.resolve(process.env.PASSERELLE_SHOTS || path.join(here, '..', '.local', 'screenshots'));

/** Base URL of the passerelle under test, without a trailing slash. */
export const baseURL = (process.env.PASSERELLE_URL || '').replace(/\/+$/, '');

/** url('/healthz') is the base URL joined with a path. */
export function url(p = '/') {
  if (!baseURL) throw new Error('PASSERELLE_URL is not set');
  return baseURL + (p.startsWith('/') ? p : '/' + p);
}

const browsers = new Set();

/**
 * launch starts headless chromium (Debian's, never Playwright's download).
 * --no-sandbox only as root, where chromium refuses to start with its
 * sandbox. --disable-quic: the machine's network is closed; Playwright itself
 * turns off chromium's background networking, component updates and sync.
 */
export async function launch(options = {}) {
  const root = process.getuid && process.getuid() === 0;
  const args = ['--disable-gpu', '--disable-quic'];
  if (root) args.push('--no-sandbox');
  const browser = await chromium.launch({
    executablePath: process.env.PASSERELLE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Playwright would add --no-sandbox for everyone; we add it above, as root only.
    chromiumSandbox: true,
    ...options,
    args: [...args, ...(options.args || [])],
  });
  browsers.add(browser);
  browser.on('disconnected', () => browsers.delete(browser));
  return browser;
}

function fileName(name) {
  const base = String(name).replace(/\.png$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return (base || 'shot') + '.png';
}

/** shot saves a full-page PNG of page as PASSERELLE_SHOTS/<name>.png and returns its path. */
export async function shot(page, name) {
  mkdirSync(shotsDir, { recursive: true });
  const file = path.join(shotsDir, fileName(name));
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${file}`);
  return file;
}

/**
 * step runs fn, logging its name. On failure it saves a screenshot of every
 * open page, named after the step, and rethrows with the step's name.
 */
export async function step(name, fn) {
  console.log(`step: ${name}`);
  const started = Date.now();
  try {
    const result = await fn();
    console.log(`  ok (${Date.now() - started} ms)`);
    return result;
  } catch (err) {
    console.log(`  FAILED: ${err && err.message ? err.message.split('\n')[0] : err}`);
    const pages = [...browsers].flatMap((b) => b.contexts().flatMap((c) => c.pages()));
    for (const [i, page] of pages.entries()) {
      try {
        await shot(page, `failed-${name}${pages.length > 1 ? `-${i + 1}` : ''}`);
      } catch (e) {
        console.log(`  (no screenshot: ${e.message.split('\n')[0]})`);
      }
    }
    if (err instanceof Error && !err.step) {
      err.step = name;
      err.message = `step "${name}": ${err.message}`;
    }
    throw err;
  }
}

/**
 * expect(actual).toBe(x) / toEqual(x) / toContain(s) / toMatch(re) / toBeTruthy()
 * throws an Error that shows both sides. expect(actual, 'what').… names what
 * was checked in the message.
 */
export function expect(actual, what = 'value') {
  const show = (v) => {
    const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
    return s.length > 300 ? s.slice(0, 300) + '…' : s;
  };
  const check = (ok, want) => {
    if (!ok) throw new Error(`expected ${what} ${want}, got ${show(actual)}`);
  };
  return {
    toBe: (want) => check(Object.is(actual, want), `to be ${show(want)}`),
    toEqual: (want) => check(JSON.stringify(actual) === JSON.stringify(want), `to equal ${show(want)}`),
    toContain: (want) => check(actual != null && actual.includes(want), `to contain ${show(want)}`),
    toMatch: (re) => check(re.test(String(actual)), `to match ${re}`),
    toBeTruthy: () => check(Boolean(actual), 'to be truthy'),
  };
}

/**
 * main launches chromium, opens a page, runs fn({ browser, context, page }),
 * closes everything and sets the exit code: 0 on success, 1 with a clear
 * message on any failure.
 */
export async function main(fn, { timeout = 15000 } = {}) {
  let browser;
  try {
    browser = await launch();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(timeout);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.log(`page error: ${err.message}`));
    await fn({ browser, context, page });
    console.log('scenario: ok');
  } catch (err) {
    // The stack was written before step() named the step in the message.
    const msg = err && err.message ? err.message : String(err);
    const frames = err && err.stack ? err.stack.split('\n').filter((l) => /^\s+at /.test(l)) : [];
    console.error(`scenario FAILED: ${msg}${frames.length ? '\n' + frames.join('\n') : ''}`);
    process.exitCode = 1;
  } finally {
    for (const b of browsers) await b.close().catch(() => {});
  }
}

/**
 * accessible(page, name) runs axe-core (WCAG 2 A and AA rules: labels,
 * contrast, landmarks, names of controls...) on the page and throws,
 * listing each violation and where, when there is any. It is evaluated
 * through the DevTools protocol, so the site's strict CSP stays on.
 */
let axeSource;
export async function accessible(page, name) {
  if (!axeSource) {
    const { readFile } = await import('node:fs/promises');
    const { createRequire } = await import('node:module');
    axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  }
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  const bad = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  if (bad.length) throw new Error(`accessibility of ${name}: ${bad.length} violation(s):\n  ${bad.join('\n  ')}`);
  console.log(`axe: ${name}: no violation of WCAG 2.1 A/AA rules`);
}
