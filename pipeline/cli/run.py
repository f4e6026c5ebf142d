"""`vanban run`: process a folder (the run engine is pipeline/batch)."""
from ..batch import add_arguments, main

__all__ = ["add_arguments", "main"]
