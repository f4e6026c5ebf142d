"""`vanban export`: a run as a spaCy DocBin, assignments as CSV, the graph as GraphML, GEXF or JSON.

The command-line code lives beside what it runs, in pipeline/corpus/export.py.
"""
from ..corpus.export import add_arguments, main

__all__ = ["add_arguments", "main"]
