"""`vanban check`: a report's results against its plan's targets.

The command-line code lives beside what it runs, in pipeline/corpus/check.py.
"""
from ..corpus.check import add_arguments, main

__all__ = ["add_arguments", "main"]
