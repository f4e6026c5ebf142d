"""The command line: help, stdout JSON, output folders, exit codes."""
import json
import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
LETTER = CORPUS / "cao-bang_cong-van_2025-08.txt"


def vanban(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_help_lists_commands():
    out = vanban("--help")
    assert out.returncode == 0
    for command in ("parse", "run", "query"):
        assert f"  {command}" in out.stdout


def test_unknown_command_is_a_usage_error():
    out = vanban("frobnicate")
    assert out.returncode == 2 and "unknown command" in out.stderr


def test_parse_one_file_to_stdout_is_json():
    out = vanban("parse", str(LETTER))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["id"] == "cao-bang_cong-van_2025-08"
    assert [s["number"] for s in data["sections"] if s["level"] == 1] == ["1", "2", "3"]


def test_parse_several_files_gives_json_lines(tmp_path):
    out = vanban("parse", str(LETTER), str(CORPUS / "dak-lak_ke-hoach_2024-12.txt"))
    assert out.returncode == 0
    assert [json.loads(line)["id"] for line in out.stdout.splitlines()] == ["cao-bang_cong-van_2025-08", "dak-lak_ke-hoach_2024-12"]


def test_parse_to_folder_and_bad_files_exit_1(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    out = vanban("parse", str(LETTER), str(tmp_path / "missing.txt"), str(empty), "-o", str(tmp_path / "out"))
    assert out.returncode == 1
    assert (tmp_path / "out" / "cao-bang_cong-van_2025-08.json").is_file()
    assert "missing.txt: no such file" in out.stderr
    assert "empty.txt:" in out.stderr


def test_no_arguments_is_a_usage_error_with_the_usage_on_stderr():
    out = vanban()
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.startswith("usage: vanban COMMAND")
