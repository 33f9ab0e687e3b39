// The people's journeys, through the pages' own links, forms and buttons:
// the administrator makes an author a course creator; the author builds a
// course in Studio (section, subsection, unit with HTML, a problem and a
// video) and publishes it; a learner registers, enrols, takes the units —
// answering the problem with the keyboard only — and reads the progress page.
// Each kind of page met on the way is checked with axe and photographed.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const PASSWORD = 'browser-suite-pw-1';

async function clickAndWait(page, locator) {
  await Promise.all([page.waitForNavigation(), locator.click()]);
}

/// Registers `username` through the registration page (signed in after).
export async function register(page, base, username, kinds) {
  await page.goto(`${base}/register`);
  if (kinds) await kinds.check(page, 'register');
  await page.getByLabel('Full name').fill(`${username} Example`);
  await page.getByLabel('Public username').fill(username);
  await page.getByLabel('E-mail').fill(`${username}@example.org`);
  await page.getByLabel('Password').fill(PASSWORD);
  await clickAndWait(page, page.locator('main form button[type=submit]'));
  const error = page.locator('main [role=alert], main .field-error');
  if (await error.count()) throw new Error(`registering ${username}: ${await error.first().textContent()}`);
}

export async function signIn(page, base, login, password, kinds) {
  await page.goto(`${base}/login`);
  if (kinds) await kinds.check(page, 'login');
  await page.getByLabel('Username or e-mail').fill(login);
  await page.getByLabel('Password').fill(password);
  await clickAndWait(page, page.getByRole('button', { name: 'Sign in' }));
  if (new URL(page.url()).pathname === '/login') throw new Error(`signing in as ${login} failed`);
}

function step(report, name, problems) {
  if (problems.length) report.fail(name, problems);
  else report.pass(name);
}

/// The administrator makes a newly registered author a course creator.
export async function adminJourney(env, adminPage) {
  const { base, report, kinds, newContext } = env;
  const authorContext = await newContext();
  env.author = await authorContext.newPage();
  await register(env.author, base, 'author', kinds);
  await adminPage.goto(`${base}/admin/`);
  await adminPage.getByLabel('Search users').fill('author');
  await clickAndWait(adminPage, adminPage.getByRole('button', { name: 'Search' }));
  await adminPage.getByLabel('Change for author').selectOption('make_creator');
  await clickAndWait(adminPage, adminPage.getByRole('row', { name: /author/ }).getByRole('button', { name: 'Apply' }));
  await kinds.check(adminPage, 'admin');
  const row = await adminPage.getByRole('row', { name: /author@example\.org/ }).textContent();
  step(report, 'admin console: the administrator makes "author" a course creator',
    /course creator/.test(row) ? [] : [`the user row shows: ${row.replace(/\s+/g, ' ')}`]);
}

const PROBLEM_XML = `<problem>
<multiplechoiceresponse>
<label>Which planet is closest to the Sun?</label>
<choicegroup type="MultipleChoice">
<choice correct="false">Venus</choice>
<choice correct="true">Mercury</choice>
<choice correct="false">Mars</choice>
</choicegroup>
</multiplechoiceresponse>
<stringresponse answer="Jupiter" type="ci">
<label>Name the largest planet.</label>
<textline size="20"/>
</stringresponse>
</problem>`;

/// The author builds and publishes a course in Studio.
export async function authorJourney(env) {
  const { base, report, kinds } = env;
  const page = env.author;
  const problems = [];
  await page.goto(`${base}/studio/`);
  await kinds.check(page, 'studio-home');
  await page.getByLabel('Course name').fill('Planets in the Browser');
  await page.getByLabel('Organization').fill('BrowserX');
  await page.getByLabel('Course number').fill('SKY101');
  await page.getByLabel('Course run').fill('2026');
  await clickAndWait(page, page.getByRole('button', { name: 'Create' }));
  const key = 'course-v1:BrowserX+SKY101+2026';
  env.authored = { key, name: 'Planets in the Browser' };
  for (const [label, name] of [['Section', 'The inner planets'], ['Subsection', 'Rocky worlds'], ['Unit', 'Meet the planets']]) {
    await page.getByLabel(`New ${label} name`).last().fill(name);
    await clickAndWait(page, page.getByRole('button', { name: `+ ${label}` }).last());
  }
  // Adding a unit opens it in Studio.
  if (!/\/unit\//.test(page.url())) problems.push(`after adding a unit the page is ${page.url()}`);
  const unitUrl = page.url();
  const components = [
    ['html', 'Welcome', { body: '<p>Welcome to the <strong>inner planets</strong>.</p>' }],
    ['problem', 'Quiz', { body: PROBLEM_XML }],
    ['video', 'Orbits', { 'Video file URLs (JSON list)': '["/static/orbits.mp4"]' }],
  ];
  for (const [type, name, fields] of components) {
    await page.goto(unitUrl);
    await page.getByLabel('Add a component').selectOption(type);
    await page.getByLabel('Component name').fill(name);
    await clickAndWait(page, page.getByRole('button', { name: 'Add', exact: true }));
    for (const [field, value] of Object.entries(fields)) {
      if (field === 'body') await page.locator('textarea#body').fill(value);
      else await page.getByLabel(field).fill(value);
    }
    if (type === 'problem') {
      await clickAndWait(page, page.getByRole('button', { name: 'Preview without saving' }));
      await kinds.check(page, 'studio-edit');
    }
    await clickAndWait(page, page.getByRole('button', { name: 'Save', exact: true }));
    if (!(await page.getByText('Saved to the draft').count())) problems.push(`saving the ${type} did not say "Saved"`);
  }
  await page.goto(unitUrl);
  await kinds.check(page, 'studio-unit');
  const unitText = await page.locator('main').textContent();
  for (const want of ['inner planets', 'Which planet is closest to the Sun?', 'Mercury']) {
    if (!unitText.includes(want)) problems.push(`the Studio unit does not show "${want}"`);
  }
  await page.goto(`${base}/studio/course/${key}`);
  await clickAndWait(page, page.getByRole('button', { name: 'Publish' }));
  await page.goto(`${base}/studio/course/${key}`);
  await kinds.check(page, 'studio-outline');
  if (!(await page.getByText('Published version 1').count())) problems.push('the outline does not say "Published version 1"');
  step(report, 'Studio: an author creates a course, adds a unit with HTML, a problem and a video, and publishes it', problems);
}

/// Presses Tab until `locator` has the focus (keyboard-only navigation).
async function tabTo(page, locator, what) {
  const handle = await locator.elementHandle();
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    if (await handle.evaluate((e) => e === document.activeElement)) return;
  }
  throw new Error(`Tab never reaches ${what}`);
}

/// A learner registers, enrols, takes the units and reads the progress page.
export async function learnerJourney(env) {
  const { base, report, kinds, newContext } = env;
  const { key, name } = env.authored;
  const context = await newContext();
  const page = await context.newPage();
  const problems = [];
  await page.goto(`${base}/`);
  await kinds.check(page, 'catalogue');
  await clickAndWait(page, page.getByRole('link', { name: 'Register' }));
  await register(page, base, 'learner');
  await page.goto(`${base}/courses`);
  await clickAndWait(page, page.getByRole('link', { name }));
  await kinds.check(page, 'about');
  await clickAndWait(page, page.getByRole('button', { name: 'Enroll now' }));
  await kinds.check(page, 'outline');
  await clickAndWait(page, page.getByRole('link', { name: 'Start the course' }));
  const main = page.locator('main');
  for (const want of ['Meet the planets', 'inner planets', 'Which planet is closest to the Sun?']) {
    if (!(await main.textContent()).includes(want)) problems.push(`the unit does not show "${want}"`);
  }
  const video = page.locator('main video, main iframe');
  if (!(await video.count())) problems.push('the unit shows no video player');
  await videoEvents(env, page, problems);

  // Keyboard only: Tab to each control, Space/arrows/typing, Enter to submit.
  const section = page.locator('section[id^="problem-"]').first();
  const radio = section.getByRole('radio', { name: 'Mercury' });
  await tabTo(page, section.getByRole('radio').first(), 'the first choice');
  for (let i = 0; i < 5 && !(await radio.isChecked()); i++) await page.keyboard.press('ArrowDown');
  if (!(await radio.isChecked())) problems.push('arrow keys never select "Mercury"');
  await tabTo(page, section.getByRole('textbox'), 'the text box');
  await page.keyboard.type('jupiter');
  await tabTo(page, section.getByRole('button', { name: 'Submit' }), 'Submit');
  await section.evaluate((s) => s.setAttribute('data-stale', ''));
  await page.keyboard.press('Enter');
  const fresh = page.locator('section[id^="problem-"]:not([data-stale])').first();
  await fresh.waitFor().catch(async (e) => {
    await page.screenshot({ path: '/tmp/kbd-fail.png' });
    console.log(page.url(), await page.evaluate(() => document.activeElement && document.activeElement.outerHTML));
    throw e;
  });
  const marks = await fresh.locator('.status').evaluateAll((es) => es.map((e) => e.className));
  if (marks.length !== 2 || !marks.every((m) => m === 'status correct')) problems.push(`after the keyboard submission the marks are ${JSON.stringify(marks)}`);
  if (!(await fresh.textContent()).includes('2/2 points (graded)')) problems.push('the problem does not show 2/2 points');
  await kinds.check(page, 'unit');

  await page.goto(`${base}/dashboard`);
  await kinds.check(page, 'dashboard');
  await clickAndWait(page, page.getByRole('link', { name: 'View course' }).first());
  await clickAndWait(page, page.getByRole('link', { name: 'Progress' }));
  await kinds.check(page, 'progress');
  const progress = (await main.textContent()).replace(/\s+/g, ' ');
  if (!progress.includes('Quiz: 2/2')) problems.push(`the progress page does not show "Quiz: 2/2": ${progress.slice(0, 300)}`);
  step(report, 'learner: registers, enrols, takes the unit (problem answered with the keyboard only), reads the progress page', problems);
  await context.close();
}

/// The player's tracking events reach the site's tracking log: the media
/// events a learner's play and pause fire (dispatched here, as the
/// fixture's video file is not playable) become `play_video` and
/// `pause_video` lines with the learner's name and the course.
async function videoEvents(env, page, problems) {
  const player = page.locator('main video[id^="video-"]').first();
  if (!(await player.count())) {
    problems.push('the unit has no HTML5 player to send tracking events');
    return;
  }
  await player.evaluate((v) => { v.dispatchEvent(new Event('play')); v.dispatchEvent(new Event('pause')); });
  const folder = join(env.data, 'tracking');
  let events = [];
  for (let i = 0; i < 50; i++) {
    events = existsSync(folder)
      ? readdirSync(folder).flatMap((f) => readFileSync(join(folder, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)))
      : [];
    if (events.filter((e) => e.event_source === 'browser' && e.username === 'learner').length >= 2) break;
    await page.waitForTimeout(100);
  }
  // The player sends each event in its own request, and two requests in
  // flight at once may reach the log in either order (a CI run saw
  // pause before play): each must be there once, in whichever order.
  const kinds = events.filter((e) => e.event_source === 'browser' && e.username === 'learner').map((e) => e.event_type);
  if ([...kinds].sort().join(',') !== 'pause_video,play_video') problems.push(`the tracking log has browser events ${JSON.stringify(kinds)}, not one play_video and one pause_video`);
  const play = events.find((e) => e.event_type === 'play_video');
  if (play && !String(play.context.course_id).startsWith('course-v1:')) problems.push(`play_video has no course: ${JSON.stringify(play.context)}`);
  if (play && JSON.parse(play.event).code !== 'html5') problems.push(`play_video's event is ${play.event}`);
}

/// Pages the journeys do not pass through: sign-in, errors, Studio's other
/// pages, and a fixture course's unit with several problem kinds.
export async function otherPages(env, adminPage) {
  const { base, kinds, newContext, courses } = env;
  const anon = await (await newContext()).newPage();
  await signIn(anon, base, 'admin', env.adminPassword, kinds);
  await anon.goto(`${base}/courses/course-v1:No+Such+Course/about`);
  await kinds.check(anon, 'error');
  await anon.context().close();
  const { key } = env.authored;
  for (const [kind, path] of [['studio-grading', 'grading'], ['studio-files', 'files']]) {
    await adminPage.goto(`${base}/studio/course/${key}/${path}`);
    await kinds.check(adminPage, kind);
  }
  const demo = courses.find((c) => c.key.includes('DemoX')) || courses[0];
  if (demo) {
    await adminPage.goto(`${base}/courses/${demo.key}/`);
    await clickAndWait(adminPage, adminPage.getByRole('link', { name: 'Start the course' }));
    await kinds.check(adminPage, 'unit-fixture');
  }
}
