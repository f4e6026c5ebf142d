"""The HTML report in headless Chromium: loads with no console errors, its script runs, the
matrix and the graph are there, a document's `<script>` stays text, and a screenshot is taken.

Needs Debian's `chromium` (installed by .ci/run); skipped, saying so, only when it is absent.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0"]
# Chromium logs each console message of the page as: ...:INFO:CONSOLE(12)] "message", source: file:///... (12)
CONSOLE = re.compile(r":CONSOLE[:(]\d+\)?\]\s*\"(?P<message>.*)\", source: (?P<source>\S+)")


def chromium(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{len(list(tmp.iterdir()))}"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=180)


def console_messages(stderr: str, page: Path) -> list[str]:
    return [m["message"] for m in CONSOLE.finditer(stderr) if m["source"].startswith(page.as_uri())]


@pytest.fixture(scope="module")
def corpus_report(tmp_path_factory) -> Path:
    """The report of a real run of the corpus, plus one document whose text holds markup."""
    run = tmp_path_factory.mktemp("run")
    subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(REPO / "corpus"), "--out", str(run)],
                   capture_output=True, text=True, cwd=REPO)
    letter = json.loads((run / "cao-bang_cong-van_2025-08.json").read_text(encoding="utf-8"))
    injected = "<script>document.body.setAttribute('data-pwned','1')</script><img src=x onerror=\"alert(1)\">"
    letter["id"] = "hostile"
    letter["text"] = injected + "\n" + letter["text"]
    (run / "hostile.json").write_text(json.dumps(letter, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "report", "--run", str(run)], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    return run / "report.html"


def test_console_errors_are_detected(tmp_path):
    """The check below can fail: a page with an error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>undefinedFunction();</script></body></html>", encoding="utf-8")
    out = chromium(bad, tmp_path, "--dump-dom")
    assert any("Uncaught" in m for m in console_messages(out.stderr, bad)), out.stderr[-2000:]


def test_report_loads_without_console_errors_and_its_script_runs(corpus_report, tmp_path):
    out = chromium(corpus_report, tmp_path, "--dump-dom", "--window-size=1400,1000")
    assert out.returncode == 0, out.stderr[-2000:]
    assert console_messages(out.stderr, corpus_report) == []
    dom = out.stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert 'data-ready="1"' in body and "data-pwned" not in body  # our script ran; the document's did not
    stats = json.loads(re.search(r'data-stats="([^"]*)"', body).group(1).replace("&quot;", '"'))
    assert stats["matrixCells"] > 20 and stats["graphNodes"] >= 6 and stats["marks"] > 100
    assert "&lt;script&gt;document.body.setAttribute" in dom
    assert '<table class="grid matrix">' in dom and '<svg class="graph"' in dom
    assert "Sở Lao động - Thương binh và Xã hội → Sở Nội vụ" in dom  # the plan diff is in the page
    # read at normal size: the graph's labels are drawn at 12 px (never shrunk to fit), the graph
    # fits its box in a 1,400 px window, and the whole page is one font family
    assert stats["graphLabelPx"] >= 11 and stats["graphFits"] is True, stats
    assert len(set(stats["fonts"].values())) == 1, stats["fonts"]
    # the plan whose "Số:" is blank shows the number the corpus resolved, marked as resolved
    row = re.search(r'<tr><td><a href="#doc-d\d+">cao-bang_ke-hoach-664_2025-03-10</a>.*?</tr>', dom).group(0)
    assert "664/KH-UBND" in row and "resolved</span>" in row


def test_report_screenshot(corpus_report, tmp_path):
    shot = tmp_path / "report.png"
    out = chromium(corpus_report, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    assert out.returncode == 0, out.stderr[-2000:]
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert console_messages(out.stderr, corpus_report) == []
