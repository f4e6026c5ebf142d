"""The pipeline version changes when the rules change, so `vanban run` redoes documents."""
import shutil
from pathlib import Path

from pipeline import __version__
from pipeline.version import document_files, pipeline_version


def test_version_is_release_plus_fingerprint():
    v = pipeline_version()
    assert v.startswith(__version__ + "+") and len(v.split("+")[1]) == 12


def test_editing_a_rules_file_changes_the_version(tmp_path, monkeypatch):
    import pipeline.version as version
    from pipeline.rules import RULES_DIR

    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    monkeypatch.setattr(version, "RULES_DIR", rules)
    version.pipeline_version.cache_clear()
    try:
        before = version.pipeline_version()
        with (rules / "agencies.yaml").open("a", encoding="utf-8") as fh:
            fh.write("\n# a new province's agency would go here\n")
        version.pipeline_version.cache_clear()
        assert version.pipeline_version() != before
    finally:
        version.pipeline_version.cache_clear()


def test_fingerprint_covers_the_stage_modules():
    """Every module under pipeline/stages/ (helpers such as timex too), the model and the runner."""
    import pipeline

    package = Path(pipeline.__file__).parent
    covered = {path.relative_to(package).as_posix() for path in document_files()}
    stages = {path.relative_to(package).as_posix() for path in (package / "stages").rglob("*.py")}
    assert stages <= covered and {"model.py", "parse.py", "textkeys.py", "rules.py"} <= covered
    for stage in ("normalize", "header", "outline", "references", "measures", "assignments", "timex"):
        assert f"stages/{stage}.py" in covered
    assert any(name.startswith("stages/ingest/") for name in covered)
