"""The walkthrough notebook runs from top to bottom on the corpus, so it never rots."""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "corpus_walkthrough.ipynb"


def test_walkthrough_notebook_executes():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = {i: "".join(o.get("text", "") for o in cell.get("outputs", []))
               for i, cell in enumerate(nb.cells) if cell.cell_type == "code"}
    text = "\n".join(outputs.values())
    # each question got an answer, and the graph was drawn
    assert "duties in 3 provinces" in text
    assert "via successor: Sở Lao động - Thương binh và Xã hội → Sở Nội vụ" in text
    assert "Đắk Lắk : " in text and "Cao Bằng : " in text
    assert "have no deadline" in text
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for cell in nb.cells for o in cell.get("outputs", []))
