// What the suite knows of each problem without asking Lectern: the problem's
// XML read from the fixture archive itself, and from it a right and a wrong
// answer for every input (correct choices, the string/numerical/formula
// answer, the correct dropdown option). Parsing happens in the browser's own
// XML parser (DOMParser), so the suite needs no XML library.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';

function xmlFiles(dir, root = dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const rel = relative(root, path);
    if (/(^|\/)(static|drafts|html|about|info|tabs|policies|assets)(\/|$)/.test(rel)) continue;
    if (statSync(path).isDirectory()) xmlFiles(path, root, out);
    else if (name.endsWith('.xml')) out.push({ rel, text: readFileSync(path, 'utf8') });
  }
  return out;
}

/// Every problem of an archive: url_name → the problem's XML.
export async function problemXml(page, archive) {
  const dir = mkdtempSync(join(tmpdir(), 'lectern-olx-'));
  try {
    const r = spawnSync('tar', ['-xzf', archive, '-C', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tar ${archive}: ${r.stderr}`);
    const files = xmlFiles(dir).map((f) => ({ ...f, stem: basename(f.rel, '.xml') }));
    return await page.evaluate((files) => {
      const out = {};
      for (const f of files) {
        const doc = new DOMParser().parseFromString(f.text, 'application/xml');
        if (doc.getElementsByTagName('parsererror').length) continue;
        const all = [doc.documentElement, ...doc.documentElement.getElementsByTagName('*')];
        for (const e of all) {
          if (e.tagName !== 'problem') continue;
          const isFileRoot = e === doc.documentElement && /(^|\/)problem\//.test(f.rel);
          const name = e.getAttribute('url_name') || (isFileRoot ? f.stem : null);
          if (!name || e.children.length === 0) continue; // a pointer, or no body
          out[name] = new XMLSerializer().serializeToString(e);
        }
      }
      return out;
    }, files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/// For each input id (`…_{response+2}_{input+1}`), what to enter for a right
/// answer and for a wrong one, as the page's controls take them:
/// `{kind, right, wrong, noRight}` where choices are choice names (lists for
/// checkboxes), dropdowns option texts, text inputs strings; `noRight` says
/// why no right answer can be derived from the XML (then only `wrong` is used).
export async function answersFor(page, xml, inputIds) {
  return page.evaluate(({ xml, inputIds }) => {
    const RESPONSES = ['choiceresponse', 'multiplechoiceresponse', 'truefalseresponse', 'optionresponse',
      'numericalresponse', 'stringresponse', 'customresponse', 'symbolicresponse', 'coderesponse',
      'externalresponse', 'formularesponse', 'schematicresponse', 'imageresponse', 'annotationresponse',
      'choicetextresponse'];
    const INPUTS = ['optioninput', 'choicegroup', 'radiogroup', 'checkboxgroup', 'jsinput', 'textline',
      'filesubmission', 'codeinput', 'textbox', 'matlabinput', 'schematic', 'imageinput', 'crystallography',
      'vsepr_input', 'chemicalequationinput', 'formulaequationinput', 'drag_and_drop_input',
      'designprotein2dinput', 'editageneinput', 'annotationinput', 'radiotextgroup', 'checkboxtextgroup'];
    const doc = new DOMParser().parseFromString(xml, 'application/xml');
    const root = doc.documentElement;
    const all = [root, ...root.getElementsByTagName('*')];
    const responses = all.filter((e) => RESPONSES.includes(e.tagName));
    const isTrue = (v) => (v || '').toLowerCase() === 'true';
    const text = (e) => [...e.childNodes]
      .filter((n) => n.nodeType === 3 || (n.nodeType === 1 && !/hint$/.test(n.tagName)))
      .map((n) => n.textContent).join('').replace(/\s+/g, ' ').trim();
    const out = {};
    for (const id of inputIds) {
      const m = id.match(/_(\d+)_(\d+)$/);
      const resp = m && responses[Number(m[1]) - 2];
      const inputs = resp ? [...resp.getElementsByTagName('*')].filter((e) => INPUTS.includes(e.tagName)) : [];
      const input = m && inputs[Number(m[2]) - 1];
      if (!input) { out[id] = { kind: 'unknown', noRight: 'input not found in the XML' }; continue; }
      const rt = resp.tagName;
      if (rt === 'choiceresponse') {
        const choices = [...resp.getElementsByTagName('choice')];
        const right = choices.map((c, i) => [c, `choice_${i}`]).filter(([c]) => isTrue(c.getAttribute('correct'))).map(([, n]) => n);
        // Wrong: the right set plus one incorrect choice (or less one right one).
        const extra = choices.map((c, i) => `choice_${i}`).find((n) => !right.includes(n));
        const wrong = extra ? [...right, extra] : right.slice(1);
        out[id] = { kind: 'checkbox', right, wrong, choices: choices.length };
      } else if (rt === 'multiplechoiceresponse' || rt === 'truefalseresponse') {
        let counter = 0;
        const named = [];
        for (const g of [...resp.children].filter((e) => e.tagName === 'choicegroup')) {
          for (const c of g.children) {
            const name = c.getAttribute('name') ? `choice_${c.getAttribute('name')}` : `choice_${counter++}`;
            if (c.tagName === 'choice') named.push({ name, correct: (c.getAttribute('correct') || '').toLowerCase() });
          }
        }
        const right = named.find((c) => c.correct === 'true');
        const wrong = named.find((c) => c.correct !== 'true' && c.correct !== 'partial') || named.find((c) => c.correct !== 'true');
        out[id] = { kind: 'radio', right: right && right.name, wrong: wrong && wrong.name,
          noRight: right ? undefined : 'no choice is marked correct="true"', choices: named.length };
      } else if (rt === 'optionresponse') {
        let right = input.getAttribute('correct');
        for (const o of input.getElementsByTagName('option')) {
          if (isTrue(o.getAttribute('correct'))) right = text(o);
        }
        out[id] = { kind: 'dropdown', right, noRight: right ? undefined : 'no correct option' };
      } else if (rt === 'stringresponse') {
        const answer = resp.getAttribute('answer') ?? (resp.getElementsByTagName('answer')[0]?.textContent || null);
        const type = (resp.getAttribute('type') || '').toLowerCase();
        let noRight;
        let noWrong;
        const wrong = 'lectern wrong answer 7';
        if (answer === null) noRight = 'no answer attribute';
        else if (type.includes('regexp')) {
          // A pattern is used as the answer only when it matches itself, and
          // the wrong answer only when it does not match.
          try {
            const re = new RegExp(`^(?:${answer})$`, type.includes('ci') ? 'i' : '');
            if (!re.test(answer)) noRight = `regexp answer ${answer}`;
            if (re.test(wrong)) noWrong = `every answer matches the regexp ${answer}`;
          } catch { noRight = `regexp answer ${answer}`; }
        }
        out[id] = { kind: 'text', right: answer, wrong: noWrong ? undefined : wrong, noRight, noWrong };
      } else if (rt === 'numericalresponse' || rt === 'formularesponse') {
        let answer = resp.getAttribute('answer');
        let noRight;
        if (answer === null || answer.includes('$')) noRight = 'answer computed by a script';
        else {
          const range = answer.trim().match(/^[[(]\s*([^,]+),\s*([^\])]+)[\])]$/);
          if (range) answer = String((Number(range[1]) + Number(range[2])) / 2);
        }
        out[id] = { kind: rt === 'numericalresponse' ? 'numerical' : 'formula', right: answer,
          wrong: '98765.4321', noRight };
      } else {
        out[id] = { kind: rt, noRight: `${rt} is not derived by the suite` };
      }
    }
    return out;
  }, { xml, inputIds });
}
