#!/usr/bin/env python3
"""Writes a one-problem course whose problem is graded by a Python script
(a `customresponse` with a `cfn`, and `$var`s from the script in its text),
for measuring scripted checks with bench/checks.py:

    python3 bench/scripted_course.py /tmp/scripted.tar.gz
    python3 bench/checks.py --course-tar /tmp/scripted.tar.gz \\
        --course course-v1:Bench+Py+1 \\
        --problem block-v1:Bench+Py+1+type@problem+block@cfn \\
        --right 42 --wrong 41 --levels 1,16

Every check runs the script in a fresh sandboxed python3 (the warm pool
hides its start, not its CPU).
"""

import io
import sys
import tarfile

PROBLEM = """<problem url_name="cfn" display_name="Scripted check" rerandomize="never">
<script type="loncapa/python">
import math
a = random.randint(1, 9)
def check(expect, ans):
    try:
        return {'ok': int(ans) == int(expect), 'msg': 'checked with a = %d' % a}
    except ValueError:
        return {'ok': False, 'msg': 'a whole number, please'}
</script>
<p>What is six times seven? (The script drew a = $a.)</p>
<customresponse cfn="check" expect="42"><textline/></customresponse>
</problem>"""

FILES = {
    "course/course.xml": '<course url_name="1" org="Bench" course="Py"/>',
    "course/course/1.xml": (
        '<course display_name="Scripted bench"><chapter url_name="c" display_name="C">'
        '<sequential url_name="s" display_name="S"><vertical url_name="v" display_name="V">'
        + PROBLEM
        + "</vertical></sequential></chapter></course>"
    ),
    "course/policies/1/policy.json": '{"course/1": {}}',
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "scripted.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        for name, text in FILES.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    print(out)


if __name__ == "__main__":
    main()
