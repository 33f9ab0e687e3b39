// Lectern's real-browser suite: starts the real binary on a fresh data folder
// with the fixture courses, drives Debian's Chromium through Playwright, and
// checks what people see — every gradable problem answered in the page,
// the author's, the learner's and the administrator's journeys, and every
// kind of page with axe-core. Prints one line per check and `N passed, N failed`;
// exits 1 when anything failed.
//
//   node tests/browser/run.mjs        (from the repository root; see README.md here)
//
// Environment: LECTERN_BIN (default target/debug/lectern), CHROMIUM
// (default /usr/bin/chromium), LECTERN_OLX_FIXTURES (default tests/fixtures/olx),
// SCREENSHOTS (default docs/screenshots), ONLY=problems|journeys to run a part.

import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { pageKinds } from './lib/a11y.mjs';
import { discussionJourney } from './lib/discussions.mjs';
import { adminJourney, authorJourney, learnerJourney, otherPages, register, signIn } from './lib/journeys.mjs';
import { walkProblems } from './lib/problems.mjs';
import { startSite } from './lib/server.mjs';

const started = Date.now();
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = resolve(root, process.env.LECTERN_BIN || 'target/debug/lectern');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const fixtures = resolve(root, process.env.LECTERN_OLX_FIXTURES || 'tests/fixtures/olx');
const shotsDir = resolve(root, process.env.SCREENSHOTS || 'docs/screenshots');
const only = process.env.ONLY || '';

function reporter() {
  const r = { passed: 0, failed: 0, skipped: 0, failures: [] };
  r.pass = (line) => { r.passed++; console.log(`PASS ${line}`); };
  r.fail = (line, why = []) => {
    r.failed++;
    r.failures.push(line);
    console.log(`FAIL ${line}${why.map((w) => `\n     - ${w}`).join('')}`);
  };
  r.skip = (line) => { r.skipped++; console.log(`SKIP ${line}`); };
  r.note = (line) => console.log(`---- ${line}`);
  return r;
}

async function main() {
  for (const [what, path] of [['lectern binary', bin], ['chromium', executablePath]]) {
    if (!existsSync(path)) throw new Error(`${what} not found at ${path}`);
  }
  const report = reporter();
  const adminPassword = 'admin-browser-suite-1';
  const site = await startSite({ bin, fixtures, adminPassword });
  report.note(`Lectern at ${site.base}; courses: ${site.courses.map((c) => c.key).join(', ')}`);
  for (const s of site.skipped) report.note(`not imported: ${s.name}: ${s.why}`);
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  const origin = new URL(site.base).origin;
  const newContext = async (javaScriptEnabled = true) => {
    const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(20_000);
    // Nothing may come from another host: such requests are refused.
    await context.route((url) => url.origin !== origin, (route) => route.abort());
    return context;
  };
  const kinds = pageKinds({ report, shotsDir });
  const env = { base: site.base, data: site.data, newContext, report, kinds, adminPassword, courses: site.courses };
  try {
    if (!only || only === 'journeys') {
      const admin = await newContext();
      const adminPage = await admin.newPage();
      await signIn(adminPage, site.base, 'admin', adminPassword);
      // Each journey on its own: one that stops is a failure, the next still runs.
      for (const [name, journey] of [['admin console', adminJourney], ['Studio', authorJourney],
        ['learner', learnerJourney], ['other pages', otherPages], ['discussions', discussionJourney]]) {
        try {
          await journey(env, adminPage);
        } catch (e) {
          report.fail(`${name} journey stopped`, [String(e.message || e).split('\n').slice(0, 3).join(' ')]);
        }
      }
      await admin.close();
    }
    if (!only || only === 'problems') {
      const parse = await (await newContext()).newPage();
      // Learners are added on demand: a problem inside library_content or
      // split_test is shown only to the learners it is drawn for.
      const addLearner = async (js, mode, n) => {
        const context = await newContext(js);
        const page = await context.newPage();
        const name = `walker-${js ? 'js' : 'nojs'}-${mode}${n ? `-${n + 1}` : ''}`;
        await register(page, site.base, name);
        for (const c of site.courses) {
          await page.goto(`${site.base}/courses/${c.key}/about`);
          const enrol = page.getByRole('button', { name: 'Enroll now' });
          if (await enrol.count()) await Promise.all([page.waitForNavigation(), enrol.click()]);
        }
        return { context, page, js, mode, name };
      };
      const learners = [];
      for (const [js, mode] of [[true, 'right'], [true, 'wrong'], [false, 'right'], [false, 'wrong']]) {
        learners.push(await addLearner(js, mode, 0));
      }
      await walkProblems({ base: site.base, courses: site.courses, learners, addLearner, parsePage: parse, report });
    }
  } catch (e) {
    report.fail('the suite itself stopped', [String(e.stack || e)]);
  } finally {
    await browser.close();
    await site.stop();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`\n${report.passed} passed, ${report.failed} failed (${report.skipped} skipped) in ${secs} s`);
  if (report.failed) {
    console.log('Failed:');
    for (const f of report.failures) console.log(`  ${f}`);
  }
  process.exit(report.failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
