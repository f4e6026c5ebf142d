"""The run engine of `vanban run DIR`: every document of a folder tree to JSON, in parallel,
incrementally. The command line is pipeline/cli/run.py.

A run, step by step:

1. **discover** the files under DIR: `.txt .pdf .docx .doc`, hidden files and folders
   (`.name`), Office lock files (`~$name`) and our own output folders (OUT, or any folder
   holding a `.vanban-state.json`) are skipped.
2. **plan**: a document whose content hash (sha256 of the bytes) and pipeline version are
   unchanged since its output JSON was written is *skipped*; `--force` redoes everything.
   The truth is the output JSON itself (`source.sha256`, `pipeline_version`); the small
   manifest `OUT/.vanban-state.json` only saves rereading it (and rehashing inputs whose
   size and mtime are unchanged, as git and make do).
3. **parse** the others in worker processes (`--jobs`, default all cores): each worker runs
   `pipeline.parse.parse_file`, writes the document's JSON to a temporary file in OUT
   (`.<id>.<pid>.<n>.tmp`) and, when the run has a store, makes the document's store rows
   (`pipeline.corpus.store.document_rows`: folded text, JSON columns, link-index keys):
   serialising, writing and preparing rows happen in the workers, in parallel. Each
   worker has the next documents waiting in its pipe (half a second of them while they are
   light, `local.PREFETCH_SECONDS`), and room in it for its results (`local.SEND_BUFFER`),
   so it never idles while the driver works. A worker that exceeds `--timeout` seconds on
   one document (counted from when it starts that document) is killed and replaced: the
   document is reported `failed` at stage `timeout`. A worker that dies (segfault, out of
   memory) is reported at stage `crash`. The documents waiting in a killed worker's pipe,
   and those it parsed but had not yet written, are sent again. Workers are recycled every
   MAX_TASKS_PER_WORKER documents so their memory stays flat. `--engine dask` sends the
   same task to a Dask cluster instead.
4. **write** (writer.py), in batches: the SQLite store first (one transaction for up to 64
   documents or 1 s of results, a savepoint per document), then, once it is committed, the
   batch's temporary files are renamed to `OUT/<id>.json` (atomic). So an output JSON
   exists only for a document that is complete everywhere, and a run killed at any moment
   and started again redoes exactly the documents without output; the temporary files a
   killed run leaves are removed when the next run starts. Who writes
   (`--store-writes`): the driver, from the rows the workers send, while it has a core
   of its own (fewer workers than cores); when the workers take every core, each local
   worker writes its own batches (SQLite takes one writer at a time; a worker that finds
   the store busy parses on and tries again), tells the driver what it wrote, and the
   driver only records it. (With `--engine dask` the workers may not share OUT's file
   system: they send the JSON text and rows, and the driver writes them.) A document
   that fails gets no JSON (an older JSON of it is removed): the output folder never
   claims more than the current files give.
5. **finish**: `pipeline.corpus.step.finish_run` links references across all current documents
   (processed and skipped, read back from their JSON), writes links.json and the graph.
6. **report**: `OUT/run-report.json` (schemas/run-report.schema.json) and a summary on
   stderr. Exit code 1 when a document failed or a stage raised on it (status `partial`),
   or when the corpus step failed; 0 otherwise; 2 for usage errors.

Document ids. The id is the file stem. Several files with the same stem *in one folder* are
the same document in several formats (a TXT and its DOCX/PDF renderings): one is processed,
by priority .txt > .docx > .pdf > .doc, and the others are listed in the run report as
"alternate format of <id>". Files with the same stem in *different* folders are different
documents (two provinces' `ke-hoach.pdf`): their ids are qualified by their folder relative
to DIR, `<folder>__<sub>__<stem>`; only the colliding ones are qualified.

Where each part lives:

    driver.py    run(): plan, dispatch, write, finish, report (RunOptions, RunError)
    jobs.py      discover the files and group them into documents with ids
    state.py     OUT/.vanban-state.json and which documents are unchanged
    writer.py    a run's writes: store batches, then the JSONs published (driver or worker)
    worker.py    the task of one document, wherever it runs; a worker's memory cap
    local.py     the local engine: a pool of worker processes with time limits
    cluster.py   the Dask engine
    progress.py  the progress bar on stderr
"""
from .driver import RunError, RunOptions, run

__all__ = ["RunError", "RunOptions", "run"]
