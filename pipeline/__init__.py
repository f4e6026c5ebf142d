"""vanban: Vietnamese administrative documents to structured, source-grounded knowledge.

    from pipeline import parse_file
    doc = parse_file("corpus/cao-bang_cong-van_2025-08.txt")
    doc.metadata.symbol, [s.kind for s in doc.sections if s.level == 1]
"""
__version__ = "0.1.0"

from .parse import parse_file, parse_source  # noqa: E402

__all__ = ["parse_file", "parse_source", "__version__"]
