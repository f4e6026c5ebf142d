"""`vanban report`: the self-contained HTML report of a run.

The command-line code lives beside what it runs, in pipeline/corpus/report.py.
"""
from ..corpus.report import add_arguments, main

__all__ = ["add_arguments", "main"]
