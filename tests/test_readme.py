"""The README's Python example runs as written, on a fresh run of the corpus."""
import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_python_example_runs(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "the README shows a Python example"
    run = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(ROOT / "corpus"), "--out", str(tmp_path / "outputs"), "-q"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for code in blocks:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(code, "README.md", "exec"), {})
            printed = out.getvalue()
            # The comments in the example say what it prints: hold the README to them.
            first_line = printed.splitlines()[0]
            assert all(p in first_line for p in ("'Cao Bằng'", "'Thái Nguyên'", "'Đắk Lắk'")), first_line
            assert "Sở Y tế lead" in printed
    finally:
        os.chdir(cwd)


def test_readme_quick_start_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(line for line in readme.splitlines() if "pytest" in line and line.startswith("python3"))
    assert test_command.strip() in ci
