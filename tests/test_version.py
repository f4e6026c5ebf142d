"""The pipeline version changes when the rules change, so `vanban run` redoes documents."""
import shutil

from pipeline import __version__
from pipeline.version import DOCUMENT_MODULES, pipeline_version


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
    for stage in ("ingest", "normalize", "header", "outline", "references", "measures", "assignments"):
        assert stage in DOCUMENT_MODULES
