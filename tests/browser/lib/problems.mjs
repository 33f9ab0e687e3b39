// Every gradable problem of every fixture course, answered through the unit
// page's own controls by enrolled learners — right and wrong, with
// JavaScript on (the page updates in place) and off (the form posts and the
// page reloads) — and what the page then shows (correctness marks, messages,
// points, attempts) compared with the problem API read with the same session.

import { problemControls } from './a11y.mjs';
import { answersFor, problemXml } from './olx.mjs';

const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
const stripTags = (html) => norm(String(html || '').replace(/<[^>]*>/g, ' ')
  .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&#39;/g, "'").replace(/&amp;/g, '&'));
const close = (a, b) => Math.abs(Number(a) - Number(b)) < 0.006;

async function apiJson(context, url) {
  const r = await context.request.get(url);
  let body = null;
  try { body = await r.json(); } catch { /* not JSON */ }
  return { status: r.status(), body };
}

/// The problems of a course as the learner's blocks API lists them.
async function courseProblems(base, context, courseKey) {
  const q = new URLSearchParams({ course_id: courseKey, depth: 'all', all_blocks: 'true' });
  const { status, body } = await apiJson(context, `${base}/api/courses/v2/blocks/?${q}`);
  if (status !== 200) throw new Error(`blocks API for ${courseKey}: ${status}`);
  const parents = {};
  for (const b of Object.values(body.blocks)) for (const c of b.children || []) parents[c] = body.blocks[b.id] || b;
  const keys = Object.values(body.blocks).filter((b) => b.type === 'problem').map((b) => b.id).sort();
  return { keys, parents };
}

/// When the problem is not on its unit page: `{container}` when it sits in a
/// block the page shows as a named placeholder (library_content, split_test…),
/// else `{why}` (the page lost it).
async function notShown(base, page, p, parents) {
  await page.goto(`${base}/courses/${p.course}/jump_to/${p.key}`);
  if (await page.locator(`section#problem-${p.block}`).count()) return null;
  let container = null;
  // Up to the unit (the vertical in a sequential), naming the outermost container.
  const isUnit = (b) => b.type === 'vertical' && parents[b.id] && parents[b.id].type === 'sequential';
  for (let b = parents[p.key]; b && !isUnit(b); b = parents[b.id]) if (b.type !== 'vertical') container = b.type;
  if (container && await page.locator(`.placeholder[data-block-type="${container}"]`).count()) return { container };
  return { why: `its unit page ${page.url()} does not show it${container ? ` nor a placeholder for its ${container}` : ''}` };
}

/// Sets the page's controls for one input; returns a reason when it cannot.
async function enter(section, id, spec, value) {
  const sel = (s) => section.locator(s);
  if (spec.kind === 'radio') {
    const control = sel(`input[type=radio][name="${id}"][value="${value}"]`);
    const shown = await sel(`input[type=radio][name="${id}"]`).count();
    if (shown !== spec.choices) return `input ${id}: the page shows ${shown} choices, the XML has ${spec.choices}`;
    if ((await control.count()) !== 1) return `input ${id}: no choice ${value} on the page`;
    await control.check();
  } else if (spec.kind === 'checkbox') {
    const shown = await sel(`input[type=checkbox][name="${id}"]`).count();
    if (shown !== spec.choices) return `input ${id}: the page shows ${shown} checkboxes, the XML has ${spec.choices}`;
    for (let i = 0; i < spec.choices; i++) {
      const box = sel(`input[type=checkbox][name="${id}"][value="choice_${i}"]`);
      if ((await box.count()) !== 1) return `input ${id}: no checkbox choice_${i} on the page`;
      await box.setChecked(value.includes(`choice_${i}`));
    }
  } else if (spec.kind === 'dropdown') {
    const select = sel(`select[name="${id}"]`);
    if ((await select.count()) !== 1) return `input ${id}: no dropdown on the page`;
    const options = await select.locator('option').evaluateAll((os) => os.map((o) => o.value));
    let v = value;
    if (v === undefined) v = options.find((o) => o !== '' && o !== spec.right);
    if (!options.includes(v)) return `input ${id}: option "${v}" is not in the dropdown`;
    await select.selectOption(v);
  } else if (['text', 'numerical', 'formula'].includes(spec.kind)) {
    const box = sel(`input[type=text][name="${id}"]`);
    if ((await box.count()) !== 1) return `input ${id}: no text box on the page`;
    await box.fill(value);
  } else {
    return `input ${id}: the suite cannot enter a ${spec.kind}`;
  }
  return null;
}

/// What the problem's section shows after a submission.
async function readSection(section) {
  return section.evaluate((s) => {
    const marks = {};
    for (const box of s.querySelectorAll('.capa-input')) {
      const id = box.id.replace(/^inputtype_/, '');
      const status = box.querySelector(':scope > .status');
      const msg = box.querySelector(':scope > .message');
      marks[id] = {
        status: status ? [...status.classList].filter((c) => c !== 'status')[0] : null,
        msg: msg ? msg.textContent : '',
      };
    }
    const text = s.textContent.replace(/\s+/g, ' ');
    const pts = text.match(/([\d.]+)\/([\d.]+) points? \(graded\)/);
    const possible = text.match(/([\d.]+) points? possible/);
    const used = text.match(/You have used (\d+) of (\d+) attempts/) || text.match(/Attempts: (\d+)\./);
    const alert = s.querySelector('[role=alert]');
    return {
      marks,
      earned: pts ? Number(pts[1]) : null,
      possible: pts ? Number(pts[2]) : possible ? Number(possible[1]) : null,
      attempts: used ? Number(used[1]) : 0,
      alert: alert ? alert.textContent.trim() : null,
    };
  });
}

const axedUnits = new Set();

/// One learner answers one problem once; returns the list of mismatches.
async function answerOnce(base, learner, p, specs) {
  const { page, context } = learner;
  const problems = [];
  await page.goto(`${base}/courses/${p.course}/jump_to/${p.key}`);
  const sectionSel = `section#problem-${p.block}`;
  const section = page.locator(sectionSel);
  if ((await section.count()) !== 1) return [`the unit page ${page.url()} has no ${sectionSel}`];
  for (const [id, spec] of Object.entries(specs)) {
    const why = await enter(section, id, spec, learner.mode === 'right' ? spec.right : spec.wrong);
    if (why) problems.push(why);
  }
  if (problems.length) return problems;
  const submit = section.locator('button[name=action][value=check]');
  if ((await submit.count()) !== 1) return ['no Submit button'];
  if (learner.js) {
    await section.evaluate((s) => s.setAttribute('data-stale', ''));
    await submit.click();
    await page.locator(`${sectionSel}:not([data-stale])`).waitFor({ timeout: 15_000 });
  } else {
    await Promise.all([page.waitForNavigation(), submit.click()]);
  }
  const shown = await readSection(page.locator(sectionSel));
  const { status, body: api } = await apiJson(context, `${base}/api/problems/v1/${p.key}`);
  if (status !== 200) return [`problem API answered ${status}`];
  if (shown.alert) problems.push(`the page says: ${shown.alert}`);
  for (const id of Object.keys(specs)) {
    const want = api.correct_map[id];
    const got = shown.marks[id];
    if (!got) { problems.push(`input ${id} is not on the page after submitting`); continue; }
    if (!want) { problems.push(`the API has no result for ${id}`); continue; }
    const apiMark = want.correctness === 'submitted' ? null : want.correctness;
    if (got.status !== apiMark) problems.push(`input ${id}: page marks ${got.status}, API says ${want.correctness}`);
    if (got.msg.replace(/\s+/g, '') !== stripTags(want.msg).replace(/\s+/g, '')) problems.push(`input ${id}: page message "${norm(got.msg)}", API "${stripTags(want.msg)}"`);
    if (learner.mode === 'right' && want.correctness !== 'correct') problems.push(`input ${id}: the right answer was graded ${want.correctness}`);
  }
  if (!close(shown.earned, api.score.earned) || !close(shown.possible, api.score.possible)) {
    problems.push(`points: page ${shown.earned}/${shown.possible}, API ${api.score.earned}/${api.score.possible}`);
  }
  if (shown.attempts !== api.attempts) problems.push(`attempts: page ${shown.attempts}, API ${api.attempts}`);
  if (learner.mode === 'right' && !close(api.score.earned, api.score.possible)) problems.push(`right answers earned ${api.score.earned} of ${api.score.possible}`);
  if (learner.mode === 'wrong' && !(api.score.earned < api.score.possible)) problems.push(`wrong answers earned ${api.score.earned} of ${api.score.possible}`);
  // Once per unit, with its problems graded: axe on the problems' controls.
  const unit = new URL(page.url()).pathname;
  if (learner.js && learner.mode === 'right' && !axedUnits.has(unit)) {
    axedUnits.add(unit);
    for (const v of await problemControls(page)) problems.push(`axe on the unit's problems: ${v}`);
  }
  learner.last = `${shown.earned}/${shown.possible} points, attempts ${shown.attempts}, ` +
    Object.values(shown.marks).map((m) => m.status || 'unmarked').join(' ');
  return problems;
}

/// The most learners of one kind (JavaScript on/off, right/wrong) the walk
/// registers to find one a drawn problem is shown to.
const MAX_LEARNERS_PER_KIND = 12;

/// Walks every problem of every course with the given learners (each one
/// enrolled everywhere, with its own `js` and `mode`), printing a line per
/// answer. A problem inside library_content or split_test is shown only to
/// the learners it is drawn for: for each kind of learner the walk takes the
/// first to whom the problem API shows it, registering more (`addLearner`)
/// up to MAX_LEARNERS_PER_KIND; a problem still drawn for nobody is a named skip.
export async function walkProblems({ base, courses, learners, addLearner, parsePage, report }) {
  const pools = learners.map((l) => [l]);
  const drawnFor = async (pool, key) => {
    for (let i = 0; i < MAX_LEARNERS_PER_KIND; i++) {
      if (i === pool.length) pool.push(await addLearner(pool[0].js, pool[0].mode, i));
      const r = await apiJson(pool[i].context, `${base}/api/problems/v1/${key}`);
      if (r.status !== 404) return { learner: pool[i], ...r };
    }
    return null;
  };
  for (const course of courses) {
    const xml = await problemXml(parsePage, course.archive);
    const { keys, parents } = await courseProblems(base, learners[0].context, course.key);
    report.note(`${course.key}: ${keys.length} problems, ${Object.keys(xml).length} problem XMLs in ${course.name}`);
    for (const key of keys) {
      const block = key.split('@').pop();
      const name = `${course.key} ${key}`;
      const found = [];
      for (const pool of pools) found.push(await drawnFor(pool, key));
      if (found.some((f) => !f)) {
        report.skip(`${name}: not drawn (library_content/split_test) for any of ${MAX_LEARNERS_PER_KIND} learners of a kind`);
        continue;
      }
      const { status, body: api, learner: first } = found[0];
      if (status !== 200) { report.skip(`${name}: the problem API answered ${status} (${api && api.error})`); continue; }
      const odd = found.filter((f) => f.status !== 200);
      if (odd.length) { report.fail(name, odd.map((f) => `the problem API answered ${f.status} to ${f.learner.name}`)); continue; }
      const types = [...new Set(api.inputs.map((i) => i.response_type))].join('+') || 'no inputs';
      if (!api.gradable) { report.skip(`${name} ${types}: not gradable by Lectern (${api.unsupported.join('; ')})`); continue; }
      if (api.closed) { report.skip(`${name} ${types}: closed to learners`); continue; }
      if (!xml[block]) { report.fail(`${name} ${types}: its XML is not in ${course.name}`); continue; }
      const p = { course: course.key, key, block };
      const hidden = await notShown(base, first.page, p, parents);
      if (hidden) {
        if (hidden.container) report.skip(`${name} ${types}: not shown to learners: inside ${hidden.container}, which the unit page shows as a placeholder`);
        else report.fail(`${name} ${types}`, [hidden.why]);
        continue;
      }
      const specs = await answersFor(parsePage, xml[block], api.inputs.map((i) => i.id));
      const noRight = Object.entries(specs).filter(([, s]) => s.noRight)
        .map(([id, s]) => `${id}: ${s.noRight}`);
      const lost = Object.entries(specs).filter(([, s]) => s.kind === 'unknown').map(([id]) => id);
      if (lost.length) { report.fail(`${name} ${types}`, [`the API's inputs ${lost.join(', ')} are not in the problem's XML`]); continue; }
      const runs = found.map(async ({ learner: l }) => {
        const label = `${name} ${types} ${l.mode} JS-${l.js ? 'on' : 'off'}${l === pools.find((q) => q.includes(l))[0] ? '' : ` (${l.name})`}`;
        if (l.mode === 'right' && noRight.length) return () => report.skip(`${label}: no right answer from the XML (${noRight.join('; ')})`);
        const noWrong = Object.entries(specs).filter(([, s]) => s.wrong === undefined && s.kind !== 'dropdown')
          .map(([id, s]) => `${id}: ${s.noWrong || s.noRight}`);
        if (l.mode === 'wrong' && noWrong.length) return () => report.skip(`${label}: no wrong answer (${noWrong.join('; ')})`);
        try {
          const problems = await answerOnce(base, l, p, specs);
          return problems.length ? () => report.fail(label, problems) : () => report.pass(`${label}: ${l.last}`);
        } catch (e) {
          return () => report.fail(label, [String(e.message || e).split('\n')[0]]);
        }
      });
      for (const print of await Promise.all(runs)) print();
    }
  }
}
