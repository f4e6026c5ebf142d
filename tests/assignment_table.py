"""One assignment table, rendered as DOCX (test_tables.py) and PDF (test_pdf_tables.py).

Rows in the style of the Đắk Lắk plan's duties, with agencies after the 2025 restructuring;
the lead of row 3 is merged down from row 2. Both formats must give the same assignments.
"""
from __future__ import annotations

HEADER = ["STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian thực hiện"]
ROWS = [
    ["1", "Tuyên truyền, phổ biến pháp luật về ATVSLĐ", "Sở Nội vụ", "Sở Y tế, Công an tỉnh", "Hằng năm"],
    ["2", "Tổ chức huấn luyện ATVSLĐ cho người lao động làm việc không theo hợp đồng lao động",
     "Sở Nội vụ", "Liên đoàn Lao động tỉnh", "Trước ngày 15/12/2025"],
    ["3", "Thanh tra, kiểm tra việc chấp hành pháp luật về ATVSLĐ tại các doanh nghiệp",
     None, "Ban Quản lý các khu công nghiệp tỉnh", "Quý IV/2025"],
]


def expected_assignments(section: str) -> list[tuple]:
    """(section, agency, role, partners, task, deadline text, recurrence) in document order."""
    task1, task2, task3 = (r[1] for r in ROWS)
    return [
        (section, "Sở Nội vụ", "lead", ["Sở Y tế", "Công an tỉnh"], task1, "Hằng năm", "yearly"),
        (section, "Sở Y tế", "support", ["Sở Nội vụ"], task1, "Hằng năm", "yearly"),
        (section, "Công an tỉnh", "support", ["Sở Nội vụ"], task1, "Hằng năm", "yearly"),
        (section, "Sở Nội vụ", "lead", ["Liên đoàn Lao động tỉnh"], task2, "Trước ngày 15/12/2025", "once"),
        (section, "Liên đoàn Lao động tỉnh", "support", ["Sở Nội vụ"], task2, "Trước ngày 15/12/2025", "once"),
        (section, "Sở Nội vụ", "lead", ["Ban Quản lý các khu công nghiệp tỉnh"], task3, "Quý IV/2025", None),
        (section, "Ban Quản lý các khu công nghiệp tỉnh", "support", ["Sở Nội vụ"], task3, "Quý IV/2025", None),
    ]


def check_table_assignments(doc, section: str) -> None:
    """The table's assignments are the expected ones, and every span is its verbatim text."""
    [table] = doc.tables
    got = [(a.section, a.agency, a.role, a.partners, a.task, a.deadline and a.deadline.text,
            a.deadline and a.deadline.recurrence)
           for a in doc.assignments if table.span.start <= a.span.start < table.span.end]
    assert got == expected_assignments(section)
    for a in doc.assignments:
        assert doc.text[a.span.start:a.span.end] == a.task
        if a.deadline:
            assert doc.text[a.deadline.span.start:a.deadline.span.end] == a.deadline.text
            assert a.five_clear["thoi_gian"]
