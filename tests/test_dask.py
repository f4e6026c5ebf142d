"""`vanban run --engine dask`: the same outputs as the local engine, on a LocalCluster."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="dask.distributed is the optional extra vanban[dask]")

from pipeline.batch import RunOptions, run  # noqa: E402
from pipeline.stages.emit import schema_errors  # noqa: E402

CORPUS_TXT = sorted((Path(__file__).resolve().parent.parent / "corpus").glob("*.txt"))


def _documents(out: Path) -> dict[str, dict]:
    docs = {}
    for p in sorted(out.glob("*.json")):
        if p.name != "run-report.json" and not p.name.startswith("."):
            doc = json.loads(p.read_text(encoding="utf-8"))
            doc.pop("timings")  # wall times differ from run to run
            docs[doc["id"]] = doc
    return docs


def test_dask_local_cluster_gives_the_same_outputs_as_the_local_engine(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    for p in CORPUS_TXT:
        shutil.copyfile(p, corpus / p.name)
    local = run(corpus, RunOptions(out=tmp_path / "local", jobs=2, link=False, quiet=True))
    # no scheduler address: a LocalCluster of 2 worker processes, 1 thread each
    dask = run(corpus, RunOptions(out=tmp_path / "dask", jobs=2, engine="dask", link=False, quiet=True))
    assert schema_errors(dask, "run-report") == []
    assert dask["engine"] == "dask" and dask["summary"]["processed"] == len(CORPUS_TXT)
    assert [d["status"] for d in dask["documents"]] == [d["status"] for d in local["documents"]]
    local_docs, dask_docs = _documents(tmp_path / "local"), _documents(tmp_path / "dask")
    assert sorted(dask_docs) == sorted(p.stem for p in CORPUS_TXT)
    # workers parse a shipped copy of the bytes; the output still names the original file
    assert dask_docs == local_docs
    # and the second dask run skips everything, like the local engine
    again = run(corpus, RunOptions(out=tmp_path / "dask", jobs=2, engine="dask", link=False, quiet=True))
    assert again["summary"]["skipped"] == len(CORPUS_TXT) and again["summary"]["processed"] == 0


def _hang_on_slow(path: Path):
    import time

    from pipeline.parse import parse_file

    if "slow" in path.name:
        time.sleep(60)
    return parse_file(path)


def _patch_worker() -> None:
    import pipeline.batch.worker

    pipeline.batch.worker.parse_document = _hang_on_slow


def test_dask_task_past_the_time_limit_is_reported_and_the_run_goes_on(tmp_path):
    from dask.distributed import Client, LocalCluster

    corpus = tmp_path / "in"
    corpus.mkdir()
    for p in CORPUS_TXT[:2]:
        shutil.copyfile(p, corpus / p.name)
    shutil.copyfile(CORPUS_TXT[0], corpus / "slow.txt")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.run(_patch_worker)  # every worker parses "slow.txt" for a minute (the limit leaves time for cold workers)
        report = run(corpus, RunOptions(out=tmp_path / "out", engine="dask", scheduler=cluster.scheduler_address,
                                        timeout=6, link=False, quiet=True))
    entry = next(d for d in report["documents"] if d["id"] == "slow")
    assert (entry["status"], entry["stage"]) == ("failed", "timeout")
    assert sorted(d["id"] for d in report["documents"] if d["status"] == "ok") == sorted(p.stem for p in CORPUS_TXT[:2])
