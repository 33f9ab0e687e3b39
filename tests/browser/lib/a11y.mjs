// Each kind of page, once: axe-core's accessibility rules run in the page
// (no serious or critical violation allowed) and a 1280x800 screenshot saved
// for the README.

import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/// Rules about the controls Lectern itself draws around course content
/// (names, labels, ARIA, ids); the authors' own HTML is not judged here.
const CONTROL_RULES = ['label', 'select-name', 'button-name', 'aria-prohibited-attr', 'aria-allowed-attr',
  'aria-allowed-role', 'aria-required-attr', 'duplicate-id-aria', 'nested-interactive', 'form-field-multiple-labels'];

/// axe on the problems of the unit page as it is now; returns the violations.
export async function problemControls(page) {
  await page.evaluate(`${axeSource};0`);
  const result = await page.evaluate((rules) => window.axe.run(
    { include: [['section[id^="problem-"]']] },
    { resultTypes: ['violations'], runOnly: { type: 'rule', values: rules } },
  ), CONTROL_RULES);
  return result.violations.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 2).map((n) => n.html.slice(0, 120)).join(' | ')}`);
}

export function pageKinds({ report, shotsDir }) {
  mkdirSync(shotsDir, { recursive: true });
  const seen = new Set();
  return {
    seen,
    /// Checks the page as it is now under the name `kind`.
    async check(page, kind) {
      if (seen.has(kind)) return;
      seen.add(kind);
      // Evaluated through the DevTools protocol, so the site's CSP is not in the way.
      await page.evaluate(`${axeSource};0`);
      const result = await page.evaluate(() => window.axe.run(document, {
        resultTypes: ['violations'],
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      }));
      const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      const minor = result.violations.length - bad.length;
      await page.screenshot({ path: join(shotsDir, `${kind}.png`) });
      const label = `axe ${kind} (${new URL(page.url()).pathname})`;
      if (bad.length) {
        report.fail(label, bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`));
      } else {
        report.pass(`${label}: no serious or critical violations${minor ? ` (${minor} minor/moderate: ${result.violations.map((v) => v.id).join(', ')})` : ''}`);
      }
    },
  };
}
