"""bandit over every installed package: no finding left unanswered, and each answer names its check and why."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tokenize
import tomllib

from conftest import ROOT

PACKAGE_DIRS = sorted(set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
                          ["tool"]["setuptools"]["package-dir"].values()))
# bandit's own syntax (text up to the next `#` is read as check ids), then the reason as a comment.
ANSWERED = re.compile(r"# nosec B\d{3}(, B\d{3})*  # \S")


def test_bandit_finds_nothing_unanswered():
    done = subprocess.run([sys.executable, "-m", "bandit", "-c", "pyproject.toml", "-r", *PACKAGE_DIRS,
                           "-f", "json", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    report = json.loads(done.stdout)
    assert not report["errors"], report["errors"]
    assert report["metrics"]["_totals"]["loc"] > 5000, "bandit scanned too little: a folder went missing"
    findings = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert findings == [], "\n".join(findings)
    assert done.returncode == 0, done.stderr


def test_every_nosec_names_its_check_and_a_reason():
    # A bare `# nosec` silences every check on its line, a later real finding included.
    bare = []
    for folder in PACKAGE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            for token in tokenize.generate_tokens(io.StringIO(source).readline):
                if token.type == tokenize.COMMENT and "nosec" in token.string.lower() \
                        and not ANSWERED.match(token.string):
                    bare.append(f"{path.relative_to(ROOT)}:{token.start[0]} {token.string}")
    assert bare == [], "\n".join(bare)
