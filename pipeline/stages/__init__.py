"""The per-document stages: one file in, one `Document` (pipeline/model.py) out.

pipeline/parse.py runs them in this order over one file:

    ingest       file → SourceText: text, page starts, table cells, extra layers, warnings
    normalize    SourceText → doc.text, doc.source_map (and, through them, doc.pages, doc.tables)
    header       → doc.metadata
    outline      → doc.sections
    references   → doc.references
    measures     → doc.targets, doc.results, doc.deadlines
    assignments  → doc.agencies, doc.assignments, doc.coverage
    emit         the finished document as JSON (written by `vanban parse` and `vanban run`)

Each stage after normalize is a function `stage(doc)` that adds its fields to the Document it
is given and returns nothing (Document → Document, in place), like a spaCy component; the top
of each module says what it requires and what it adds. A stage never rereads the file and
never changes what an earlier stage wrote. Two helpers have no stage of their own:
`agencies` (names of agencies, for assignments and outline) and `timex` (time expressions,
for measures and assignments).
"""
