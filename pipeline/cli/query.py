"""`vanban query`: the store's answers: an agency's duties, a duty's owners, citations, gaps.

The command-line code lives beside what it runs, in pipeline/corpus/query.py.
"""
from ..corpus.query import add_arguments, main

__all__ = ["add_arguments", "main"]
