"""`vanban bench`: throughput of `vanban run` on a synthetic corpus.

The command-line code lives beside what it runs, in pipeline/bench/throughput.py.
"""
from ..bench.throughput import add_arguments, main

__all__ = ["add_arguments", "main"]
