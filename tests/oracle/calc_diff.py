#!/usr/bin/env python3
"""Differential test: Lectern's expression evaluator against Open edX's.

Runs the same expressions through `openedx-calc` (the oracle, pinned in
requirements.txt) and through Lectern's `calc_eval` example binary, and
fails on any difference in value (1e-9 relative; NaN and infinities must
match exactly) or in the kind of error. Cases: hand-picked corners, every
function at special complex values (infinities, NaN, signed zeros, branch
cuts), and random expressions from a fixed seed. An ill-conditioned random
case (say `tan` of 6e33, where a last-bit difference between numpy's
vectorised `tanh` and the C library's changes everything) passes when
Lectern gives one of the answers Open edX gives with its function results
nudged by an ulp or two, and is counted apart when it gives none of them.

Usage (from the repository root, in a venv with requirements.txt):
    python tests/oracle/calc_diff.py [--count N] [--seed S] [--bin PATH] [-v]

Without --bin it builds the example with cargo (honouring CARGO_TARGET_DIR).
"""

import argparse
import json
import math
import os
import random
import signal
import subprocess
import sys
import warnings

warnings.simplefilter("ignore")

try:
    import calc  # openedx-calc
    import calc.calc
    import numpy
except ImportError:  # pragma: no cover
    sys.exit("openedx-calc is not installed: pip install -r tests/oracle/requirements.txt")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Variables every case may use (Python values, as a formula response
# passes them).
VARIABLES = {
    "x": 2.0,
    "y": 3.5,
    "z": complex(1.0, 2.0),
    "R_1": 0.75,
    "t'": -1.25,
    "T_{ab}^{2}": 1.5,
}

# Hand-picked cases: the documented behaviour and its corners.
EDGE_CASES = [
    "-2^2", "2^3^2", "2 ^ 3 ^ 2", "1||1", "1||2||3", "0||1", "2||0.0", "1||-1", "x||y||z",
    "5%", "5 %", "1e3%", "3%%", "50%*2", "5k", "5M", "2x", "2 x", "(2)(3)", "x(2)", "x (2)",
    "2*x", "sin(0)", "sin (0)", "Sin(0)", "SIN(pi/2)", "1/sin(0)", "1.0/sin(0)", "1/0", "1/0.0",
    "0/-5", "0^-1", "0.0^-1", "0^0", "0.0^0", "2^-1", "2^-2", "2^+2", "2*-2", "2*+2", "2--2",
    "--2", "+-2", "-+2", "---2", "--x", "2*-x", "2^-x", "2*-2^2", "2^-2^2", "- 2", "2*- 2",
    "2*- .5", "(-8)^(1/3)", "(-8.0)^(1/3)", "sqrt(-1)", "sqrt(-4)", "1e999", "-1e999",
    "1e999-1e999", "1e999*0", "10^400", "10.0^400", "10^400/10^399", "10^400*1.0", "1/10^400",
    "fact(-1)", "fact(1.5)", "fact(3.0)", "fact(3)", "fact(0)", "factorial(5)", "fact(20)",
    "fact(25)", "fact(171)/fact(170)", "fact(abs(-3))", "abs(-3)", "abs(2^70)", "abs(-3)^-1",
    "abs(2^62)*4", "abs(2)/0", "abs(-1)^0.5", "(abs(-2)*-1)^0.5", "abs(-3)*2.5", "abs(z)",
    "abs(2^62)+2^70", "i^2", "j^2", "i*j", "e^(i*pi)", "e^(i*pi)+1", "exp(i*pi)",
    "arcsec(0.5)", "arcsec(2)", "arcsec(0)", "arccsc(2)", "arccot(0)", "arccot(-1)",
    "arccot(z)", "arccosh(0.5)", "arccosh(2)", "arctanh(2)", "arctanh(1)", "arctanh(0.5)",
    "arcsin(2)", "arccos(2)", "arcsin(-2)", "arccos(-3)", "arcsech(0.5)", "arcsech(2)",
    "arccsch(2)", "arccoth(2)", "arccoth(0.5)", "log10(-1)", "log2(-8)", "ln(-1)", "ln(0)",
    "1/ln(1)", "log10(1000)", "log2(1024)", "exp(1000)", "sinh(1000)", "cosh(-1000)",
    "tanh(1000)", "tanh(1000+i)", "sec(0)", "csc(0)", "cot(0)", "sech(0)", "csch(0)",
    "coth(0)", "sec(pi/3)", "csc(pi/6)", "cot(pi/4)", "sinh(1)", "cosh(1)", "tanh(1)",
    "sech(1)", "csch(1)", "coth(1)", "arcsinh(1)", "arccsch(1)", "sin(z)", "cos(z)", "tan(z)",
    "sinh(z)", "cosh(z)", "tanh(z)", "sqrt(z)", "ln(z)", "log10(z)", "log2(z)", "exp(z)",
    "arcsin(z)", "arccos(z)", "arctan(z)", "arcsinh(z)", "arccosh(z)", "arctanh(z)",
    "arcsec(z)", "arccsc(z)", "arcsech(z)", "arccsch(z)", "arccoth(z)", "sec(z)", "csc(z)",
    "cot(z)", "sech(z)", "csch(z)", "coth(z)", "z^2", "z^0.5", "z^z", "z^-3", "z/0",
    "z/sin(0)", "(0*i)^-1", "(0*i)^0", "(0*i)^i", "i/0", "1/(0*i)", "(1e999*i)", "i*1e999",
    "1e999+0*i", "1e308*10", "(1e308*10)^2", "(1e200)^2", "(-1e200)^3", "10.0^-400",
    "0.1^320", "X", "PI", "E", "pi", "e", "R_1", "r_1", "t'", "T'", "q", "q+w", "a_{1}",
    "a_{1}^{2}", "x^{2}", "a_b", "f'", "sin'(x)", "foo(1)", "foo(q)", "1.2.3", "1.", ".5",
    "5.", "5.e3", "1.5E+3", "1e", "2 e3", "2 e - 3", "2 e", "1 .5", "1. 5", "x '", "()",
    "(2)", "  3  ", "1 2", "", "   ", "\t", "sin(x", "sin x)", ")(", "((1))", "1+", "*2",
    "2**3", "2^^3", "2||", "||2", "1|2", "sqrt()", "sin(1,2)", "007", "1_000", "½", "2×3",
    "2\u00a0+\u00a03", "x\ty", "1\n+2", "9^9^0", "2^2^2^2", "(-2)^0.5", "(-2.0)^2",
    "(-1)^(1/2)", "(-1)^1e300", "(-8)^(-1/3)", "1/(1||1)", "sqrt(2)^2", "abs(-2)^abs(-2)",
    "abs(-2)^0.5^2", "2^abs(-2)", "fact(abs(-5))", "fact(2^3)", "fact(4/2)", "fact(-0)",
    "fact(sin(0))", "fact(i)", "sin(2^70)", "abs(2^63)", "abs(-2^63)", "sqrt(2^70)",
    "x^y^2", "-x^2", "-(x)^2", "x*-1", "(x)(y)", "x/y/2", "x/(y/2)", "1/3*3", "0.1+0.2-0.3",
    # Python numbers meeting numpy numbers: whose rule applies.
    "i*abs(-2)", "i/abs(0)", "i^abs(2)", "2^abs(-2)", "2^abs(-2)^-1", "0.5^abs(-2)",
    "abs(-2)^i", "(1+i)^abs(-2)", "1e308*abs(-10)", "10.0^abs(-400)", "abs(0)^-1",
    "abs(0)^-1.0", "0^abs(-1)", "2^63*abs(-1)", "abs(-1)*2^62", "abs(-1)/0", "0/abs(0)",
    "abs(-3)||abs(-6)", "abs(0)||2", "1||sin(0)", "(1+i)||(1-i)", "sqrt(-4)/0", "i/sin(0)",
    "sin(0)/i", "i^sin(0)", "sin(0)^i", "sin(0)^-1", "fact(abs(2^63))", "abs(2^63)+1",
    "abs(2^64-1)/2", "sin(2^63)", "sin(-2^63)", "sin(-2^63-1)", "sqrt(2^64)", "abs(-2^63)*1",
    "arcsin(2^70)", "arctanh(-2^70)", "ln(-2^70)", "ln(2^70)", "arcsec(2^70)", "fact(2^70)",
    "1e400^z", "1e400^i^0.5", "(1e-200+0*i)^-2", "arcsinh(1e308)", "arccosh(1e308)",
    "arctan(-1e-18+i)", "arccot(j-tan(1e-9^2)||z)", "sqrt(-1e308+1)^-0.5^2",
]


# Special complex values for the function sweep (variable w).
SPECIAL = [complex(a, b) for a in (0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -3.0, 1e200, -1e200,
                                   math.inf, -math.inf, math.nan)
           for b in (0.0, -0.0, 0.5, -2.0, 1e200, math.inf, -math.inf, math.nan)]


# Arguments next to branch points and cuts, and tiny ones, where careless
# formulas lose all precision.
DELICATE = [complex(a, b) for a, b in (
    (1, 1e-18), (1, -1e-18), (-1, 1e-18), (-1, -1e-18), (1e-18, 1), (-1e-18, 1),
    (1e-18, -1), (1 + 1e-10, 1e-300), (1 - 1e-10, 1e-300), (-1 - 1e-10, 1e-300),
    (1e-20, 1e-20), (-1e-20, 1e-20), (1e-300, 1e-300), (0.5, 1e-300), (-0.5, -1e-300),
    (3, 1e-300), (-3, 1e-300), (3, -1e-300), (0.6, 0.8), (0.8, -0.6), (1e-8, 1 + 1e-8),
    (700, 1), (-700, 1), (1, 700), (710, 0.5), (-710, -0.5), (1e10, 1e-10), (2, 1e15),
)]


def special_cases():
    """Every function at special complex arguments (infinities, NaN, signed
    zeros, branch cuts)."""
    out = []
    for name in FUNCS[:30]:
        for w in SPECIAL + DELICATE:
            out.append(("%s(w)" % name, False, {"w": w}))
    for w in SPECIAL[::3]:
        for expr in ("w^2", "w^0.5", "w^i", "2^w", "w/w", "1/w", "w*i", "w||1", "w-w"):
            out.append((expr, False, {"w": w}))
    return out


def random_number(r):
    kind = r.random()
    if kind < 0.35:
        s = str(r.randint(0, 12))
    elif kind < 0.45:
        s = str(r.randint(0, 10 ** r.randint(1, 25)))
    elif kind < 0.65:
        s = "%d.%d" % (r.randint(0, 99), r.randint(0, 999))
    elif kind < 0.72:
        s = r.choice([".5", "5.", ".25", "0.", "3.14159", "2.718"])
    elif kind < 0.85:
        s = "%s%s%s%d" % (r.choice(["1", "2.5", "7", ".3", "6.02"]), r.choice("eE"),
                          r.choice(["", "+", "-"]), r.randint(0, 30))
    elif kind < 0.88:
        s = r.choice(["1e308", "1e400", "1e-320", "1e999"])
    else:
        s = "%d%%" % r.randint(0, 200)
    if r.random() < 0.15:
        s = r.choice("+-") + s
    return s


NAMES = ["x", "y", "z", "X", "Y", "Z", "pi", "PI", "e", "E", "i", "j", "J", "R_1", "t'", "q",
         "T_{ab}^{2}", "t_{AB}^{2}", "T_{ab}"]
FUNCS = ["sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "arcsec",
         "arccsc", "arccot", "sinh", "cosh", "tanh", "sech", "csch", "coth", "arcsinh",
         "arccosh", "arctanh", "arcsech", "arccsch", "arccoth", "sqrt", "log10", "log2", "ln",
         "exp", "abs", "fact", "factorial", "Sin", "SQRT", "Abs", "foo"]


def random_atom(r, depth):
    k = r.random()
    if depth >= 4 or k < 0.4:
        return random_number(r)
    if k < 0.6:
        return r.choice(NAMES)
    if k < 0.85:
        name = r.choice(FUNCS)
        if name in ("fact", "factorial") and r.random() < 0.7:
            return "%s(%s)" % (name, r.choice(["0", "1", "3", "5", "abs(-4)", "2^3", "x",
                                               "-2", "2.0", "2+1", "20"]))
        return "%s(%s)" % (name, random_sum(r, depth + 1))
    return "(%s)" % random_sum(r, depth + 1)


def random_power(r, depth):
    parts = [random_atom(r, depth)]
    if r.random() < 0.2:
        # Keep exponents small so exact integer powers stay cheap.
        parts.append(r.choice(["2", "3", "-1", "0.5", "-2", "x", "y", "z", "(1/3)", "i",
                               "0", "10", "-0.5", "e", "pi"]))
        if r.random() < 0.15:
            parts.append(r.choice(["2", "0.5", "-1", "1"]))
    return "^".join(parts)


def random_parallel(r, depth):
    parts = [random_power(r, depth)]
    while r.random() < 0.1 and len(parts) < 3:
        parts.append(random_power(r, depth))
    return "||".join(parts)


def random_product(r, depth):
    out = random_parallel(r, depth)
    while r.random() < 0.35:
        out += r.choice("*/") + random_parallel(r, depth)
    return out


def random_sum(r, depth):
    out = r.choice(["", "", "", "-", "+"]) + random_product(r, depth)
    while r.random() < 0.35:
        out += r.choice("+-") + random_product(r, depth)
    return out


def spaced(r, s):
    if r.random() < 0.7:
        return s
    out = []
    for ch in s:
        if ch in "+-*/^()|" and r.random() < 0.5:
            out.append(" " + ch + " ")
        else:
            out.append(ch)
    return "".join(out)


def mutate(r, s):
    junk = "()+-*/^|%.eE x2k_{}'"
    pos = r.randrange(len(s) + 1)
    if r.random() < 0.5 and s:
        return s[:pos] + s[pos + 1:]
    return s[:pos] + r.choice(junk) + s[pos:]


def random_cases(seed, count):
    r = random.Random(seed)
    cases = []
    for _ in range(count):
        s = spaced(r, random_sum(r, 0))
        if r.random() < 0.08:
            s = mutate(r, s)
        cases.append((s, r.random() < 0.15, {}))
    return cases


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout()


def nudged_functions(k):
    """Open edX's functions with every floating-point result moved by k
    units in the last place: a stand-in for the last-bit differences between
    numpy's vectorised functions and the C library's, which Lectern uses."""
    def nudge(f):
        def g(x):
            r = f(x)
            if isinstance(r, (int, numpy.integer)):
                return r
            return r * (1 + k * 2.0 ** -52)
        return g
    return {name: nudge(f) for name, f in calc.calc.DEFAULT_FUNCTIONS.items()}


def oracle(expr, case_sensitive, extra, functions=None):
    """Open edX's answer as ("ok", complex) or ("error", kind)."""
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(2)
    try:
        # Lectern's API takes complex variables and treats a zero imaginary
        # part as a real (float) variable; give Open edX the same.
        variables = {k: (v.real if isinstance(v, complex) and v.imag == 0 else v)
                     for k, v in dict(VARIABLES, **extra).items()}
        value = calc.evaluator(variables, functions or {}, expr, case_sensitive=case_sensitive)
        return ("ok", complex(value))
    except Timeout:
        return ("skip", "oracle took too long")
    except calc.UndefinedVariable as e:
        return ("error", "undefined_function" if "as a function" in str(e)
                else "undefined_variable")
    except ZeroDivisionError:
        return ("error", "division_by_zero")
    except OverflowError:
        return ("error", "overflow")
    except (ValueError, TypeError):
        return ("error", "domain")
    except RecursionError:
        return ("error", "syntax")
    except Exception as e:  # pyparsing's ParseException, UnmatchedParenthesis
        name = type(e).__name__
        if name in ("ParseException", "UnmatchedParenthesis"):
            return ("error", "syntax")
        return ("error", "unexpected " + name)
    finally:
        signal.alarm(0)


def lectern(binary, cases):
    lines = []
    for expr, cs, extra in cases:
        vars_ = {k: [repr(complex(v).real), repr(complex(v).imag)]
                 for k, v in dict(VARIABLES, **extra).items()}
        lines.append(json.dumps({"expr": expr, "vars": vars_, "cs": cs}))
    proc = subprocess.run([binary], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, check=True)
    out = []
    for line in proc.stdout.splitlines():
        answer = json.loads(line)
        if "ok" in answer:
            re_, im = answer["ok"]
            out.append(("ok", complex(float(re_), float(im))))
        else:
            out.append(("error", answer["error"]))
    if len(out) != len(cases):
        sys.exit("calc_eval answered %d of %d lines" % (len(out), len(cases)))
    return out


def same_value(a, b):
    parts = [abs(v) for v in (a.real, a.imag, b.real, b.imag) if math.isfinite(v)]
    scale = max(parts, default=0.0)
    for p, q in ((a.real, b.real), (a.imag, b.imag)):
        if math.isnan(p) or math.isnan(q):
            if not (math.isnan(p) and math.isnan(q)):
                return False
        elif math.isinf(p) or math.isinf(q):
            if p != q:
                return False
        elif abs(p - q) > 1e-9 * scale:
            return False
    return True


def agree(theirs, mine):
    if theirs[0] == mine[0] == "ok":
        return same_value(theirs[1], mine[1])
    return theirs == mine


def build():
    subprocess.run(["cargo", "build", "-q", "-p", "lectern-content", "--example", "calc_eval"],
                   cwd=REPO, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    return os.path.join(target, "debug", "examples", "calc_eval")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--bin")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    binary = args.bin or build()

    cases = [(e, False, {}) for e in EDGE_CASES] + [(e, True, {}) for e in EDGE_CASES[:40]]
    cases += special_cases()
    cases += random_cases(args.seed, args.count)
    ours = lectern(binary, cases)
    passed = failed = skipped = unstable = 0
    for (expr, cs, extra), mine in zip(cases, ours):
        theirs = oracle(expr, cs, extra)
        if theirs[0] == "skip":
            skipped += 1
            if args.verbose:
                print("skip %r: %s; Lectern %s" % (expr, theirs[1], mine))
            continue
        good = agree(theirs, mine)
        if not good and theirs[0] == "ok":
            # Ill-conditioned? Then a last-bit difference in one function
            # (numpy's tanh against the C library's) legitimately changes
            # the answer, as it would between two Open edX servers with
            # different CPUs. Accept any answer Open edX itself gives
            # under such nudges; if none matches, count the case apart.
            nudged = [oracle(expr, cs, extra, nudged_functions(k)) for k in (1, -1, 2, -2)]
            if any(not agree(theirs, n) for n in nudged):
                if any(agree(n, mine) for n in nudged):
                    good = True
                else:
                    unstable += 1
                    if args.verbose:
                        print("ill-conditioned %r: Open edX %s (nudged: %s), Lectern %s"
                              % (expr, theirs, nudged, mine))
                    continue
        if good:
            passed += 1
            if args.verbose:
                print("ok   %r cs=%s: %s" % (expr, cs, theirs[1]))
        else:
            failed += 1
            print("FAIL %r (case_sensitive=%s%s): Open edX %s, Lectern %s"
                  % (expr, cs, "".join(", %s=%r" % kv for kv in extra.items()), theirs, mine))
    print("calc_diff: %d ill-conditioned (answer moves under last-bit changes), "
          "%d skipped (oracle too slow)" % (unstable, skipped))
    print("calc_diff: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
