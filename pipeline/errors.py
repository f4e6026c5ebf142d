"""Errors that carry the file and the reason, so a user can act on them."""
from __future__ import annotations


class VanbanError(Exception):
    """Base class: `reason` is one short sentence a user can act on."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IngestError(VanbanError):
    """The file cannot be turned into text (missing, empty, corrupt, needs OCR, ...)."""
