"""Python-scripted cases for the CAPA differential test (capa_diff.py).

Two sources, both graded through Open edX's own CAPA code and through
Lectern's `capa_grade` (which runs scripts in python3 without a sandbox):
- generated problems: `$var` substitution into every response type that
  takes it, `customresponse` check functions returning each shape Open edX
  reads (bool, strings, `{ok, msg, grade_decimal}`, `{input_list,
  overall_message}`), `<answer type="loncapa/python">` code, extra keyword
  arguments, empty inputs, errors, and the seeded `random` (Python 2 draws);
- the scripted problems of every fixture course (tests/fixtures/olx and
  /work/shared/fixtures/olx when present).

An answer written "__CORRECT__" is replaced, before either side grades, by
Open edX's own correct answer for that input (`get_question_answers`), so
right answers are tried as often as wrong ones.
"""

import base64
import glob
import os
import tarfile

from lxml import etree

PID = "p"
CORRECT = "__CORRECT__"


def _script(body):
    return f'<script type="loncapa/python">\n{body}\n</script>'


# -- $var problems ---------------------------------------------------------

RANDOM_LINES = [
    "x = random.randint(0, 20)\ny = random.randint(0, 20)\nz = x + y",
    "x = random.randrange(1, 50, 3)\ny = random.choice([2, 3, 5, 7])\nz = x * y",
    "x = round(random.uniform(1, 10), 2)\ny = random.random()\nz = x + y",
    "vals = list(range(10))\nrandom.shuffle(vals)\nx = vals[0]\ny = vals[1]\nz = x - y",
    "s = random.sample(range(100), 3)\nx = s[0]\ny = s[2]\nz = x + y",
    "import random as r2\nx = r2.randint(1, 6)\ny = seed % 7\nz = x * 10 + y",
    "x = 6/3\ny = 0.1 + 0.2\nz = x + y",
    "x = numpy.sqrt(2)\ny = math.pi\nz = x * y",
    "x = random.randint(1, 9) * 1.5\ny = 2\nz = x ** y",
    "r = random.Random(5)\nx = r.randint(0, 100)\ny = random.randint(0, 100)\nz = x + y",
]


def gen_var_numerical(r):
    body = r.choice(RANDOM_LINES)
    tol = r.choice(["", '<responseparam type="tolerance" default="0.01%"/>', '<responseparam type="tolerance" default="$y"/>'])
    xml = (
        f"<problem>{_script(body)}<p>x = $x, y = $y</p>"
        f'<numericalresponse answer="$z">{tol}<textline/></numericalresponse>'
        f"<solution><p>z = $z</p></solution></problem>"
    )
    ans = r.choice([CORRECT, CORRECT, "0", "19", "$z", "x", "1e3", ""])
    return "scripted-var-numerical", xml, {f"{PID}_2_1": ans}


def gen_var_other(r):
    body = r.choice(RANDOM_LINES) + "\nword = random.choice(['red', 'Blue', 'green'])\nflag = random.choice(['true', 'false'])"
    kind = r.choice(["string", "formula", "option", "choice", "range"])
    if kind == "string":
        resp = '<stringresponse answer="$word" type="ci"><textline/></stringresponse>'
        ans = r.choice([CORRECT, "red", "BLUE", "green", "$word", ""])
    elif kind == "formula":
        resp = '<formularesponse answer="$x*a+b" samples="a,b@1,2:3,4#5"><responseparam type="tolerance" default="0.01"/><textline/></formularesponse>'
        ans = r.choice([CORRECT, "a*$x+b", "a+b", "2*a+b", "3*a+b"])
        ans = ans.replace("$x", str(r.randint(0, 20)))
    elif kind == "option":
        resp = '<optionresponse><optioninput options="(\'$word\',\'other\')" correct="$word"/></optionresponse>'
        ans = r.choice([CORRECT, "red", "Blue", "other", "$word"])
    elif kind == "range":
        resp = '<numericalresponse answer="[$x, $z]"><textline/></numericalresponse>'
        ans = r.choice([CORRECT, "5", "10", "20", "-1", "1000"])
    else:
        resp = (
            '<multiplechoiceresponse><choicegroup type="MultipleChoice">'
            '<choice correct="$flag">A $x</choice><choice correct="true">B</choice>'
            "</choicegroup></multiplechoiceresponse>"
        )
        ans = r.choice(["choice_0", "choice_1"])
    xml = f"<problem>{_script(body)}{resp}</problem>"
    return f"scripted-var-{kind}", xml, {f"{PID}_2_1": ans}


# -- customresponse --------------------------------------------------------

CFN_RETURNS = [
    "ans == expect",
    "ans.strip() == expect",
    "'Partial' if ans == 'half' else ans == expect",
    "'false' if ans != expect else 'yes'",
    "'FALSE'",
    "0",
    "None",
    "[]",
    "[1]",
    "'partially right'",
    "{'ok': ans == expect, 'msg': 'You said ' + ans}",
    "{'ok': 'Partial', 'msg': 'so-so'}",
    "{'ok': True, 'grade_decimal': 0.3}",
    "{'ok': False, 'grade_decimal': 0.75, 'msg': '<b>close</b>'}",
    "{'ok': 'partial'}",
    "{'ok': 1}",
    "{'ok': ans == expect, 'msg': ''}",
    "{'msg': 'no ok'}",
    "1/0",
    "float(ans) > 2",
    "{'ok': True, 'grade_decimal': 'x'}",
    "(ans == expect, 'tuple')",
    "numpy.bool_(True)",
    "numpy.float64(0.0)",
    "len(ans) == x",
]

LIST_RETURNS = [
    "ans == [expect] * len(ans)",
    "ans[0] == expect",
    "{'ok': ans[0] == expect, 'msg': 'overall ' + ans[-1]}",
    "{'input_list': [{'ok': a == expect, 'msg': 'm' + str(i)} for i, a in enumerate(ans)], 'overall_message': 'all'}",
    "{'input_list': [{'ok': 'partial' if a == 'half' else a == expect, 'grade_decimal': 0.5 if a else 0.0} for a in ans]}",
    "{'input_list': [{'ok': a == expect} for a in ans]}",
    "{'input_list': [{'ok': 1}, {'ok': 'true'}, {'ok': 'Partially'}][:len(ans)] + [{'ok': False}] * (len(ans) - 3)}",
    "{'input_list': [{'ok': True, 'grade_decimal': 0.25 * (i + 1)} for i in range(len(ans))], 'overall_message': '<p>done</p>'}",
    "{'input_list': [{'ok': True}]}",
    "{'ok': 'partial', 'grade_decimal': 0.6}",
]

ANSWER_POOL = ["42", "41", " 42", "half", "", "x", "2.5", "abc"]


def gen_cfn(r):
    n = r.choice([1, 1, 1, 2, 3])
    ret = r.choice(CFN_RETURNS if n == 1 else LIST_RETURNS + CFN_RETURNS[:3])
    extra_args = r.choice(["", "", ' cfn_extra_args="attempt options"', ' cfn_extra_args="x"'])
    if "attempt" in extra_args:
        signature = "expect, ans, attempt=None, options=None"
        ret = f"({ret}) if attempt == 1 and options == 'opt' else False"
    elif "x" in extra_args:
        signature = "expect, ans, x=None"
    else:
        signature = "expect, ans"
    body = f"x = random.randint(1, 3)\ndef check({signature}):\n    return {ret}"
    expect = r.choice(['expect="42"', 'answer="42"', 'expect="$e"'])
    body += "\ne = '42'"
    points = r.choice(["", "", ' points="2"'])
    inputs = "".join(f"<textline{points}/>" for _ in range(n))
    xml = (
        f"<problem>{_script(body)}<customresponse cfn=\"check\" {expect} options=\"opt\"{extra_args}>"
        f"{inputs}</customresponse></problem>"
    )
    answers = {f"{PID}_2_{i + 1}": r.choice(ANSWER_POOL) for i in range(n)}
    if r.random() < 0.05:
        answers.pop(f"{PID}_2_1")
    return "scripted-cfn", xml, answers


ANSWER_CODES = [
    "if submission[0] == str(target):\n    correct[0] = 'correct'\nelse:\n    correct[0] = 'incorrect'\n    messages[0] = 'no'",
    "correct = ['correct' if s == expect else 'incorrect' for s in submission]\noverall_message = 'seen'",
    "correct = ['partially-correct'] * len(submission)",
    "grade_decimals = [0.4] * len(submission)\ncorrect = ['correct'] * len(submission)",
    "pass",
    "correct[0] = 'correct' if answers[idset[0]] == str(target) else 'incorrect'",
    "raise ValueError('bad input ' + submission[0])",
]


def gen_answer_code(r):
    n = r.choice([1, 1, 2])
    code = r.choice(ANSWER_CODES)
    inputs = "<textline/>" * n
    xml = (
        f"<problem>{_script('target = random.randint(1, 5)')}"
        f'<customresponse expect="3">{inputs}<answer type="loncapa/python">\n{code}\n</answer></customresponse></problem>'
    )
    answers = {f"{PID}_2_{i + 1}": r.choice(["1", "2", "3", "4", "5", ""]) for i in range(n)}
    return "scripted-answer", xml, answers


def gen_multi(r):
    """A scripted response next to an ordinary one."""
    _, a_xml, a_ans = gen_cfn(r)
    body = a_xml[len("<problem>") : -len("</problem>")]
    xml = f'<problem>{body}<numericalresponse answer="$x"><textline/></numericalresponse></problem>'
    answers = dict(a_ans)
    answers[f"{PID}_3_1"] = r.choice([CORRECT, "1", "2", "3"])
    return "scripted-multi", xml, answers


def gen_broken(r):
    body = r.choice(["x = 1/0", "import nosuchmodule", "def f(:\n  pass", "x = undefined_name"])
    xml = f'<problem>{_script(body)}<numericalresponse answer="1"><textline/></numericalresponse></problem>'
    return "scripted-broken", xml, {f"{PID}_2_1": "1"}


GENERATORS = [
    (gen_var_numerical, 4),
    (gen_var_other, 4),
    (gen_cfn, 8),
    (gen_answer_code, 3),
    (gen_multi, 2),
    (gen_broken, 1),
]


def generate(r, n):
    weighted = [g for g, w in GENERATORS for _ in range(w)]
    cases = []
    for _ in range(n):
        kind, xml, answers = r.choice(weighted)(r)
        cases.append({"kind": kind, "xml": xml, "problem_id": PID, "answers": answers, "seed": r.choice([1, 1, r.randint(0, 999)])})
    return cases


# -- fixture courses -------------------------------------------------------

FIXTURE_DIRS = ["tests/fixtures/olx", "/work/shared/fixtures/olx"]

# The MITx grading library course's export links static/python_lib.zip to a
# file outside the archive; this is that file, from mitodl/mitx-grading-library
# (BSD-3-Clause, commit 7cdcfc4): mitxgraders and voluptuous.
COURSE_LIBS = {"mitx-grading-library": "tests/oracle/mitx-python_lib.zip"}
INPUT_TAGS = ["textline", "textbox", "formulaequationinput", "optioninput", "choicegroup", "checkboxgroup"]


def scripted_fixture_problems(repo):
    """(name, xml) of every fixture problem with a Python script or a customresponse."""
    seen = set()
    out = []
    for d in FIXTURE_DIRS:
        path = d if os.path.isabs(d) else os.path.join(repo, d)
        for archive in sorted(glob.glob(os.path.join(path, "*.tar.gz"))):
            base = os.path.basename(archive)
            if base in seen:
                continue
            seen.add(base)
            with tarfile.open(archive) as tar:
                for member in tar.getmembers():
                    if not member.isfile() or not member.name.endswith(".xml"):
                        continue
                    data = tar.extractfile(member).read()
                    if b"<problem" not in data:
                        continue
                    try:
                        root = etree.fromstring(data)
                    except etree.XMLSyntaxError:
                        continue
                    for problem in root.iter("problem"):
                        xml = etree.tostring(problem, encoding="unicode")
                        if "<script" in xml or "customresponse" in xml:
                            out.append((base, f"{base}:{problem.get('url_name') or member.name}", xml))
    return out


def fixture_cases(r, repo, per_problem=3):
    cases = []
    libs = {}
    for prefix, path in COURSE_LIBS.items():
        with open(os.path.join(repo, path), "rb") as f:
            libs[prefix] = base64.b64encode(f.read()).decode()
    for archive, name, xml in scripted_fixture_problems(repo):
        files = {"python_lib.zip": lib for prefix, lib in libs.items() if archive.startswith(prefix)}
        root = etree.fromstring(xml)
        # Inputs in document order, numbered as Open edX numbers them.
        ids = []
        responses = [e for e in root.iter() if isinstance(e.tag, str) and e.tag.endswith("response")]
        for i, resp in enumerate(responses):
            k = 0
            for e in resp.iter():
                if isinstance(e.tag, str) and e.tag in INPUT_TAGS:
                    k += 1
                    ids.append((f"{PID}_{i + 2}_{k}", e.tag))
        for _ in range(per_problem):
            answers = {}
            for iid, tag in ids:
                if tag in ("choicegroup",):
                    answers[iid] = r.choice(["choice_0", "choice_1", "choice_2"])
                elif tag == "checkboxgroup":
                    answers[iid] = [c for c in ["choice_0", "choice_1", "choice_2"] if r.random() < 0.5]
                else:
                    answers[iid] = r.choice([CORRECT, CORRECT, "1", "x", "", "2*x", "[1, 2]"])
            case = {"kind": "scripted-fixture", "name": name, "xml": xml, "problem_id": PID, "answers": answers, "seed": r.choice([1, r.randint(0, 999)])}
            if files:
                case["files"] = files
            cases.append(case)
    return cases
