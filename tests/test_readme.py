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


def test_readme_first_command_processes_the_sample_corpus_and_writes_the_report(tmp_path):
    """README command 1 in a fresh clone: outputs/ as committed, the vanban part of the
    command run from the clone's root. It processes the five documents (the committed
    outputs do not make it a no-op) and writes outputs/report.html."""
    import shlex
    import shutil

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = next(line for line in readme.splitlines() if line.startswith("python3 -m venv") and "vanban run" in line)
    command = shlex.split(first.split("&&")[-1])
    assert command[:3] == ["vanban", "run", "corpus"], first
    clone = tmp_path / "clone"
    (clone / "outputs").mkdir(parents=True)
    (clone / "corpus").symlink_to(ROOT / "corpus")
    tracked = subprocess.run(["git", "ls-files", "outputs"], capture_output=True, text=True, cwd=ROOT).stdout.split()
    for name in tracked or [p.relative_to(ROOT).as_posix() for p in (ROOT / "outputs").iterdir()]:
        if (ROOT / name).is_file():
            shutil.copyfile(ROOT / name, clone / name)
    (clone / "outputs" / "report.html").unlink(missing_ok=True)
    run = subprocess.run([sys.executable, "-m", "pipeline.cli", *command[1:]], capture_output=True, text=True, cwd=clone,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    assert "vanban run: 5 documents (5 processed, 0 unchanged" in run.stderr, run.stderr
    assert (clone / "outputs" / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
