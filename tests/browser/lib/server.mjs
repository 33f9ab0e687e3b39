// Starts a real Lectern site for the suite: a fresh data folder, the fixture
// courses imported and an administrator created with the binary's own
// commands (as an operator would), then `lectern serve` on a free port.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function run(bin, args, input) {
  const r = spawnSync(bin, args, { input, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    throw new Error(`${bin} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  }
  return r.stdout;
}

/// Imports every course archive of `fixtures` (libraries are refused by
/// `lectern import` and listed as skipped) and returns the course keys.
function importFixtures(bin, data, fixtures) {
  const courses = [];
  const skipped = [];
  for (const name of readdirSync(fixtures).filter((f) => f.endsWith('.tar.gz')).sort()) {
    const path = join(fixtures, name);
    const r = spawnSync(bin, ['--data', data, 'import', path], { encoding: 'utf8', timeout: 120_000 });
    const key = (r.stdout.match(/course-v1:\S+/) || [])[0];
    if (r.status === 0 && key) {
      courses.push({ key, archive: path, name });
    } else {
      skipped.push({ name, why: (r.stderr.trim().split('\n').pop() || '').slice(0, 200) });
    }
  }
  return { courses, skipped };
}

export async function startSite({ bin, fixtures, adminPassword }) {
  const data = mkdtempSync(join(tmpdir(), 'lectern-browser-'));
  const { courses, skipped } = importFixtures(bin, data, fixtures);
  run(bin, ['--data', data, 'user', 'create', '--admin', '--username', 'admin',
    '--email', 'admin@example.org', '--password-file', '-'], adminPassword + '\n');
  const child = spawn(bin, ['--data', data, 'serve', '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The problem walk registers up to 48 learners (problems drawn per
    // learner), more than one address may register by default.
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', LECTERN_REGISTRATIONS_PER_ADDRESS: '200' },
  });
  let log = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lectern serve did not start:\n${log}`)), 30_000);
    const onData = (chunk) => {
      log += chunk;
      const m = log.match(/running at (http:\/\/[0-9.:]+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => { log += c; });
    child.on('exit', (code) => reject(new Error(`lectern serve exited (${code}):\n${log}`)));
  });
  return {
    base,
    data,
    courses,
    skipped,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => { child.once('exit', r); setTimeout(r, 5000); });
      rmSync(data, { recursive: true, force: true });
    },
  };
}
