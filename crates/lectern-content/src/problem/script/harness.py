"""Lectern's harness for Open edX Python-scripted (CAPA) problems.

One run of this program does one job and exits. It starts (imports what
every run needs), reads ONE JSON document from standard input, runs the
problem's script the way Open edX's `safe_exec` does, and writes ONE JSON
document to standard output. The Rust side (`lectern_content::problem::script`)
builds the input and reads the output; the sandbox (`lectern-sandbox`) runs
this program locked down. Nothing here trusts the script.

Input:  {"files": {name: base64}, "script": str, "seed": int,
         "globals": {...}, "action": "context" | "check" | "code",
         "cfn": str, "expect": ..., "ans": ..., "kwargs": {...},
         "code": str, "inputs": int}
Output: {"ok": true, "globals": {...}, "strings": [[name, str]]}  (context)
        {"ok": true, "result": {correct, messages, overall_message,
                                 grade_decimals}}                  (check, code)
        {"ok": false, "error": "ExceptionName: message"}           (the script failed)

What Open edX's scripts find (its `safe_exec` prolog, reproduced):
- `random` is a `random.Random(seed)` whose `randrange`, `randint`,
  `choice`, `shuffle` and `sample` draw as Python 2.7's did (Open edX
  installs the `random2` package under that name); `import random` gives
  the same seeded object;
- `math`, `numpy`, `scipy` (and `calc`, `eia`, `chemcalc`, `chemtools`,
  `miller`, `draganddrop` when installed) are names that import on first use;
- course files (`python_lib.zip`) are in the working directory and on
  `sys.path`;
- the script's globals come back through a JSON "straw": only values JSON
  can carry, tuples as lists, functions/modules/sets dropped.
"""

import base64
import importlib
import json
import math
import os
import random as _random_std
import sys

os.environ["OPENBLAS_NUM_THREADS"] = "1"

try:  # warm: numpy is what most scripts use, so pay for it before the job arrives
    import numpy  # noqa: F401
except Exception:  # pragma: no cover - numpy is optional
    numpy = None

_BPF = 53
_MAXWIDTH = 1 << _BPF


class Py2Random(_random_std.Random):
    """Python 3's Mersenne Twister (same `seed`, `random`, `uniform`,
    `gauss`, ...) with the integer draws of Python 2.7: each one is
    `int(random() * n)`, and integral floats are accepted as bounds."""

    def randrange(self, start, stop=None, step=1):
        istart = int(start)
        if istart != start:
            raise ValueError("non-integer arg 1 for randrange()")
        if stop is None:
            if istart > 0:
                if istart >= _MAXWIDTH:
                    return self._randbelow(istart)
                return int(self.random() * istart)
            raise ValueError("empty range for randrange()")
        istop = int(stop)
        if istop != stop:
            raise ValueError("non-integer stop for randrange()")
        width = istop - istart
        if step == 1 and width > 0:
            if width >= _MAXWIDTH:
                return int(istart + self._randbelow(width))
            return int(istart + int(self.random() * width))
        if step == 1:
            raise ValueError("empty range for randrange() (%d,%d, %d)" % (istart, istop, width))
        istep = int(step)
        if istep != step:
            raise ValueError("non-integer step for randrange()")
        if istep > 0:
            n = (width + istep - 1) // istep
        elif istep < 0:
            n = (width + istep + 1) // istep
        else:
            raise ValueError("zero step for randrange()")
        if n <= 0:
            raise ValueError("empty range for randrange()")
        if n >= _MAXWIDTH:
            return istart + istep * self._randbelow(n)
        return istart + istep * int(self.random() * n)

    def randint(self, a, b):
        return self.randrange(a, b + 1)

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def shuffle(self, x, random=None):
        draw = self.random if random is None else random
        for i in reversed(range(1, len(x))):
            j = int(draw() * (i + 1))
            x[i], x[j] = x[j], x[i]

    def sample(self, population, k):
        n = len(population)
        if not 0 <= k <= n:
            raise ValueError("sample larger than population")
        result = [None] * k
        setsize = 21
        if k > 5:
            setsize += 4 ** int(math.ceil(math.log(k * 3, 4)))
        if n <= setsize or hasattr(population, "keys"):
            pool = list(population)
            for i in range(k):
                j = int(self.random() * (n - i))
                result[i] = pool[j]
                pool[j] = pool[n - i - 1]
        else:
            try:
                selected = set()
                for i in range(k):
                    j = int(self.random() * n)
                    while j in selected:
                        j = int(self.random() * n)
                    selected.add(j)
                    result[i] = population[j]
            except (TypeError, KeyError):
                if isinstance(population, list):
                    raise
                return self.sample(tuple(population), k)
        return result


class LazyModule:
    """A module imported on first use; a missing one fails only when used."""

    def __init__(self, name):
        self.__dict__["_lazy_name"] = name
        self.__dict__["_lazy_module"] = None

    def _load(self):
        if self.__dict__["_lazy_module"] is None:
            self.__dict__["_lazy_module"] = importlib.import_module(self.__dict__["_lazy_name"])
        return self.__dict__["_lazy_module"]

    def __getattr__(self, name):
        return getattr(self._load(), name)


ASSUMED_IMPORTS = [
    ("numpy", "numpy"),
    ("math", "math"),
    ("scipy", "scipy"),
    ("calc", "calc"),
    ("eia", "eia"),
    ("chemcalc", "chem.chemcalc"),
    ("chemtools", "chem.chemtools"),
    ("miller", "chem.miller"),
    ("draganddrop", "verifiers.draganddrop"),
]

_OK_TYPES = (type(None), int, float, bytes, str, list, tuple, dict)


def _decode(obj):
    if isinstance(obj, bytes):
        return obj.decode("utf-8")
    if isinstance(obj, (list, tuple)):
        return [_decode(o) for o in obj]
    if isinstance(obj, dict):
        return {_decode(k): _decode(v) for k, v in obj.items()}
    return obj


def json_straw(d):
    """The part of a globals dict that survives JSON, as Open edX keeps it."""
    kept = {}
    for k, v in d.items():
        if k == "__builtins__" or not isinstance(k, str) or not isinstance(v, _OK_TYPES):
            continue
        try:
            v = _decode(v)
            json.dumps(v)
        except Exception:
            continue
        kept[k] = v
    return json.loads(json.dumps(kept))


def prepare(job):
    """Course files into the working directory and onto sys.path; a fresh
    seeded `random`; the globals a script starts with."""
    for name, data in (job.get("files") or {}).items():
        base = os.path.basename(name)
        if not base or base in (".", ".."):
            continue
        with open(base, "wb") as f:
            f.write(base64.b64decode(data))
        if base.endswith(".zip"):
            sys.path.insert(0, os.path.abspath(base))
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    os.makedirs("tmp", exist_ok=True)
    os.environ["TMPDIR"] = os.path.abspath("tmp")
    os.environ["MPLCONFIGDIR"] = os.environ["TMPDIR"]

    seeded = Py2Random(job.get("seed"))
    seeded.Random = Py2Random
    seeded.SystemRandom = _random_std.SystemRandom
    sys.modules["random"] = seeded

    g = dict(job.get("globals") or {})
    g["__builtins__"] = __builtins__
    g["random"] = seeded
    g["xrange"] = range
    for name, module in ASSUMED_IMPORTS:
        g[name] = LazyModule(module)
    g["math"] = math
    if numpy is not None:
        g["numpy"] = numpy
    return g


def verdict(value):
    """Open edX's reading of one `ok` (or a bare return value)."""
    text = str(value).lower().strip()
    if not value or text == "false":
        return "incorrect"
    if "partial" in text:
        return "partially-correct"
    return "correct"


def normalise(ret, inputs):
    """A cfn's return value in the one shape the Rust side reads."""
    if isinstance(ret, dict):
        if "ok" in ret:
            mark = verdict(ret["ok"])
            msg = ret.get("msg")
            if "grade_decimal" in ret:
                decimal = float(ret["grade_decimal"])
            else:
                decimal = {"correct": 1.0, "partially-correct": 0.5}.get(mark, 0.0)
            messages = [""] * inputs
            overall = ""
            if inputs > 1:
                overall = msg
            elif inputs == 1:
                messages[0] = msg
            return {
                "correct": [mark] * inputs,
                "messages": messages,
                "overall_message": overall,
                "grade_decimals": [decimal] * inputs,
            }
        if "input_list" in ret:
            correct, messages, decimals = [], [], []
            for item in ret["input_list"]:
                ok = item["ok"]
                correct.append(verdict(ok))
                messages.append(item.get("msg"))
                if "grade_decimal" in item:
                    decimals.append(float(item["grade_decimal"]))
                else:
                    text = str(ok).lower().strip()
                    decimals.append(1.0 if text == "true" else 0.5 if "partial" in text else 0.0)
            return {
                "correct": correct,
                "messages": messages,
                "overall_message": ret.get("overall_message", ""),
                "grade_decimals": decimals,
            }
        raise ValueError("CustomResponse: check function returned an invalid dictionary!")
    return {
        "correct": [verdict(ret)] * inputs,
        "messages": [""] * inputs,
        "overall_message": "",
        "grade_decimals": None,
    }


def text_of(value):
    if value is None:
        return ""
    return str(value)


def run(job):
    action = job.get("action")
    script = job.get("script") or ""
    g = prepare(job)
    if action == "context":
        exec(compile(script, "<script>", "exec"), g)
        safe = json_straw(g)
        return {"ok": True, "globals": safe, "strings": [[k, str(v)] for k, v in safe.items()]}
    if action == "check":
        g["expect"] = job.get("expect")
        g["ans"] = job.get("ans")
        kwargs = job.get("kwargs") or {}
        g.update(kwargs)
        cfn = job.get("cfn") or ""
        extra = "".join(", %s=%s" % (k, k) for k in kwargs)
        code = "%s\ncfn_return = %s(expect, ans%s)\n" % (script, cfn, extra)
        exec(compile(code, "<script>", "exec"), g)
        safe = json_straw({"cfn_return": g.get("cfn_return")})
        if "cfn_return" not in safe:
            raise KeyError("cfn_return")
        result = normalise(safe["cfn_return"], int(job.get("inputs") or 1))
        result["messages"] = [text_of(m) for m in result["messages"]]
        result["overall_message"] = text_of(result["overall_message"])
        return {"ok": True, "result": result}
    if action == "code":
        exec(compile(job.get("code") or "", "<answer>", "exec"), g)
        safe = json_straw(g)
        decimals = safe.get("grade_decimals")
        return {
            "ok": True,
            "result": {
                "correct": [text_of(c) for c in (safe.get("correct") or [])],
                "messages": [text_of(m) for m in (safe.get("messages") or [])],
                "overall_message": text_of(safe.get("overall_message")),
                "grade_decimals": [float(d) for d in decimals] if decimals else None,
            },
        }
    raise ValueError("unknown action %r" % (action,))


def _wrap_floats(obj):
    """JSON has no NaN or infinity; carry them as {"__float__": repr}."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"__float__": repr(obj)}
    if isinstance(obj, list):
        return [_wrap_floats(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _wrap_floats(v) for k, v in obj.items()}
    return obj


def _unwrap_float(d):
    if len(d) == 1 and "__float__" in d:
        return float(d["__float__"])
    return d


def main():
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"), object_hook=_unwrap_float)
    out = sys.stdout
    # Whatever the script prints must not corrupt the one answer document.
    sys.stdout = sys.stderr
    try:
        answer = run(job)
    except BaseException as err:  # the script failed: say how, never where
        if isinstance(err, (KeyboardInterrupt,)):
            raise
        text = str(err)
        name = type(err).__name__
        answer = {"ok": False, "error": ("%s: %s" % (name, text)) if text else name}
    try:
        data = json.dumps(_wrap_floats(answer), allow_nan=False)
    except Exception as err:
        data = json.dumps({"ok": False, "error": "the script's result cannot be read: %s" % err})
    out.write(data)
    out.flush()


if __name__ == "__main__":
    main()
