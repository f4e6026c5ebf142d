"""`vanban diff`: plans against plans, across provinces.

The command-line code lives beside what it runs, in pipeline/corpus/diff.py.
"""
from ..corpus.diff import add_arguments, main

__all__ = ["add_arguments", "main"]
