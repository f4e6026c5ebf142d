"""Corpus-level steps: what is known across the documents of a run.

    link           references resolved to documents of the run, chains (links.json)
    step           the corpus step at the end of `vanban run`: relink what changed, commit
    store, query   the SQLite store and the questions `vanban query` asks it
    graph          the knowledge graph (GraphML, GEXF, node-link JSON)
    diff, check    plans against plans; a report's results against its plan's targets
    report         the self-contained HTML report (report_assets, templates/)
    export         a spaCy DocBin, assignments as CSV, the graph

They work on parsed documents: a run's JSON or its store (`vanban diff` and `vanban check`
also take files, which they parse first through pipeline/parse.py).
"""
