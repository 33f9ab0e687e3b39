// The discussion journey (issue 20), all through the pages' own links,
// fields and buttons: a learner asks a question in a unit's discussion
// block, a second learner answers, the staff marks the answer and pins the
// thread, the asker sees the thread unread on the Discussion tab until
// opening it; a learner reports a spam post and a learner made Moderator
// in the admin console finds it in the flagged view and deletes it; a
// learner of another course gets the proper refusal pages. The course
// team's Studio page for discussion roles grants the answerer Community TA.

import { register } from './journeys.mjs';

async function clickAndWait(page, locator) {
  await Promise.all([page.waitForNavigation(), locator.click()]);
}

function step(report, name, problems) {
  if (problems.length) report.fail(name, problems);
  else report.pass(name);
}

async function learner(env, name, courseKeys) {
  const context = await env.newContext();
  const page = await context.newPage();
  await register(page, env.base, name);
  for (const key of courseKeys) {
    await page.goto(`${env.base}/courses/${key}/about`);
    await clickAndWait(page, page.getByRole('button', { name: 'Enroll now' }));
  }
  return page;
}

/// From the course outline to the unit called `unit`.
async function openUnit(page, base, key, unit) {
  await page.goto(`${base}/courses/${key}/`);
  await clickAndWait(page, page.getByRole('link', { name: unit }).first());
}

/// From the course outline to the Discussion tab, showing `view` if given.
async function openTab(page, base, key, view) {
  await page.goto(`${base}/courses/${key}/`);
  await clickAndWait(page, page.getByRole('link', { name: 'Discussion', exact: true }));
  if (view) {
    await page.getByLabel('Show').selectOption(view);
    await clickAndWait(page, page.getByRole('button', { name: 'Show', exact: true }));
  }
}

/// The thread's row on a list (unit block or tab), as text.
async function rowText(page, title) {
  const row = page.locator('li', { has: page.getByRole('link', { name: title }) });
  return (await row.count()) ? (await row.first().textContent()).replace(/\s+/g, ' ') : null;
}

export async function discussionJourney(env, adminPage) {
  const { base, report, kinds, courses } = env;
  const demo = courses.find((c) => c.key.includes('DemoX'));
  const other = courses.find((c) => !c.key.includes('DemoX'));
  if (!demo || !other) throw new Error('the discussion journey needs the demo course and another course');
  const key = demo.key;
  const unit = 'Introducing Discussions';
  const title = 'Which tools help you learn a language?';

  // 1. The asker posts a question in the unit's discussion block.
  let problems = [];
  const asker = await learner(env, 'asker', [key]);
  await openUnit(asker, base, key, unit);
  await asker.getByText('Start a new post').click();
  await kinds.check(asker, 'unit-discussion');
  await asker.getByLabel('Kind').selectOption('question');
  await asker.getByLabel('Title').fill(title);
  await asker.getByLabel(/^Post/).fill('I use **flash cards**. What works for you?');
  await clickAndWait(asker, asker.getByRole('button', { name: 'Post', exact: true }));
  const threadUrl = asker.url();
  if (!/\/discussion\/threads\/\d+$/.test(new URL(threadUrl).pathname)) problems.push(`after posting the page is ${threadUrl}`);
  if (!(await asker.locator('main h1').textContent()).includes(title)) problems.push('the thread page does not show the title');
  if (!(await asker.locator('main strong', { hasText: 'flash cards' }).count())) problems.push('the Markdown body is not rendered');
  step(report, 'discussions: a learner posts a question in a unit\'s discussion block', problems);

  // 2. The course team's Studio page: the admin grants the answerer Community TA by e-mail.
  problems = [];
  const answerer = await learner(env, 'answerer', [key]);
  await adminPage.goto(`${base}/studio/course/${key}`);
  await clickAndWait(adminPage, adminPage.getByRole('link', { name: 'Discussion roles' }));
  await adminPage.getByLabel('Username or e-mail').fill('answerer@example.org');
  await adminPage.getByLabel('Role', { exact: true }).selectOption('Community TA');
  await clickAndWait(adminPage, adminPage.getByRole('button', { name: 'Grant' }));
  await kinds.check(adminPage, 'studio-discussion-roles');
  const holders = (await adminPage.locator('main table').innerText()).replace(/\s+/g, ' ');
  if (!/answerer answerer@example\.org Community TA/.test(holders)) problems.push(`the roles table shows: ${holders}`);
  step(report, 'discussions: an instructor grants a discussion role on Studio\'s "Discussion roles" page', problems);

  // 3. The answerer finds the question in the unit and responds.
  problems = [];
  await openUnit(answerer, base, key, unit);
  await clickAndWait(answerer, answerer.getByRole('link', { name: title }));
  await answerer.getByLabel('Your response').fill('Spaced repetition, and talking with $n \\ge 2$ people.');
  await clickAndWait(answerer, answerer.getByRole('button', { name: 'Respond' }));
  const response = answerer.locator('article.response').first();
  const responseText = (await response.textContent()).replace(/\s+/g, ' ');
  if (!responseText.includes('Spaced repetition')) problems.push('the response is not on the thread page');
  if (!responseText.includes('(Community TA)')) problems.push(`the response is not labelled Community TA: ${responseText.slice(0, 200)}`);
  // The answerer also starts a spam thread that someone will report.
  await openUnit(answerer, base, key, unit);
  await answerer.getByText('Start a new post').click();
  await answerer.getByLabel('Title').fill('Cheap essays here');
  await answerer.getByLabel(/^Post/).fill('Visit my shop');
  await clickAndWait(answerer, answerer.getByRole('button', { name: 'Post', exact: true }));
  const spamUrl = answerer.url();
  step(report, 'discussions: a second learner answers the question from the unit', problems);

  // 4. Staff marks the answer and pins the thread.
  problems = [];
  await openTab(adminPage, base, key);
  await clickAndWait(adminPage, adminPage.getByRole('link', { name: title }));
  const staffResponse = adminPage.locator('article.response').first();
  await clickAndWait(adminPage, staffResponse.getByRole('button', { name: 'Mark as answer' }));
  await clickAndWait(adminPage, adminPage.getByRole('button', { name: 'Pin', exact: true }));
  await kinds.check(adminPage, 'discussion-thread');
  const staffView = (await adminPage.locator('main').textContent()).replace(/\s+/g, ' ');
  if (!staffView.includes('marked as answer by admin')) problems.push('the response is not marked as answer by admin');
  if (!(await adminPage.locator('#thread .badge', { hasText: 'pinned' }).count())) problems.push('the thread is not shown pinned');
  step(report, 'discussions: staff marks the answer and pins the thread', problems);

  // 5. The asker sees the thread unread on the tab until opening it.
  problems = [];
  await openTab(asker, base, key);
  await kinds.check(asker, 'discussion');
  const before = await rowText(asker, title);
  if (!before || !before.includes('unread') || !before.includes('1 new')) problems.push(`before opening, the row is: ${before}`);
  if (!before || !before.includes('pinned') || !before.includes('answered')) problems.push(`the row does not show pinned and answered: ${before}`);
  await clickAndWait(asker, asker.getByRole('link', { name: title }));
  if (!(await asker.getByText('marked as answer by admin').count())) problems.push('the asker does not see the marked answer');
  await openTab(asker, base, key);
  const after = await rowText(asker, title);
  if (!after || after.includes('unread') || after.includes('new')) problems.push(`after opening, the row is: ${after}`);
  step(report, 'discussions: the asker sees the thread unread on the Discussion tab until opening it', problems);

  // 6. The asker reports the spam; a learner made Moderator in the admin console deletes it.
  problems = [];
  await asker.goto(spamUrl);
  await clickAndWait(asker, asker.getByRole('button', { name: 'Report abuse' }));
  if (!(await asker.getByRole('button', { name: 'Remove report' }).count())) problems.push('the report did not register');
  const moderator = await learner(env, 'modder', [key]);
  await adminPage.goto(`${base}/admin/`);
  const roleForm = adminPage.locator('form[action="/admin/discussion-roles"]');
  await roleForm.getByLabel('Username').fill('modder');
  await roleForm.getByLabel('Course key').fill(key);
  await roleForm.getByLabel('Discussion role').selectOption('Moderator');
  await roleForm.getByLabel('Grant or remove').selectOption('allow');
  await clickAndWait(adminPage, roleForm.getByRole('button', { name: 'Apply' }));
  await openTab(moderator, base, key, 'flagged');
  await kinds.check(moderator, 'discussion-flagged');
  const flagged = await rowText(moderator, 'Cheap essays here');
  if (!flagged || !flagged.includes('1 flags')) problems.push(`the flagged view shows: ${flagged}`);
  if (await rowText(moderator, title)) problems.push('the flagged view lists an unflagged thread');
  await clickAndWait(moderator, moderator.getByRole('link', { name: 'Cheap essays here' }));
  await moderator.getByText('Delete this post').click();
  await clickAndWait(moderator, moderator.getByRole('button', { name: 'Delete the thread' }));
  if (!(await moderator.getByText('The post was deleted.').count())) problems.push('no "deleted" message after deleting');
  await openTab(moderator, base, key, 'flagged');
  if (await rowText(moderator, 'Cheap essays here')) problems.push('the deleted thread is still listed');
  const gone = await asker.goto(spamUrl);
  if (gone.status() !== 404) problems.push(`the deleted thread answers ${gone.status()}`);
  step(report, 'discussions: a learner reports a post; a learner made Moderator in the admin console deletes it from the flagged view', problems);

  // 7. A learner of another course can neither read nor post.
  problems = [];
  const outsider = await learner(env, 'outsider', [other.key]);
  const tab = await outsider.goto(`${base}/courses/${key}/discussion/`);
  if (tab.status() !== 403) problems.push(`the Discussion tab answers ${tab.status()}`);
  if (!(await outsider.locator('main h1').count())) problems.push('the refusal is not a proper page');
  const thread = await outsider.goto(threadUrl);
  if (thread.status() !== 404) problems.push(`the thread answers ${thread.status()}`);
  await kinds.check(outsider, 'discussion-refused');
  // Posting the reply form anyway (the outsider's own CSRF token): refused, nothing posted.
  const csrf = (await outsider.context().cookies()).find((c) => c.name === 'lectern_csrf');
  const post = await outsider.request.post(`${threadUrl}/reply`, {
    form: { csrf_token: csrf ? csrf.value : '', body: 'let me in' }, maxRedirects: 0,
  });
  if (post.status() !== 404) problems.push(`posting a reply answers ${post.status()}`);
  await asker.goto(threadUrl);
  if (await asker.getByText('let me in').count()) problems.push('the outsider\'s reply was posted');
  step(report, 'discussions: a learner of another course cannot read or post', problems);
  for (const p of [asker, answerer, moderator, outsider]) await p.context().close();
}
