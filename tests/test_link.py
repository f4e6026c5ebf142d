"""Corpus linking: resolve references to documents of the run, edges and chains, links.json."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pipeline import parse_file
from pipeline.corpus.link import link_documents, title_similarity, write_links
from pipeline.rules import SCHEMAS_DIR

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SCHEMA = json.loads((SCHEMAS_DIR / "links.schema.json").read_text(encoding="utf-8"))


def doc(id_, doc_type, number=None, symbol=None, date=None, issuer=None, province=None, title=None, refs=()):
    return {"id": id_, "metadata": {"doc_type": doc_type, "number": number, "symbol": symbol, "date": date,
                                    "issuer": issuer, "province": province, "title": title},
            "references": [dict(r) for r in refs]}


def ref(canonical, doc_type, date=None, issuer=None, title=None, relation="cites", symbol=None):
    return {"canonical_id": canonical, "doc_type": doc_type, "date": date, "issuer": issuer, "title": title,
            "relation": relation, "symbol": symbol, "text": canonical, "resolved_to": None}


# The Cao Bằng plan has no number of its own; the letter cites it as 664/KH-UBND.
PLAN_TITLE = ("THỰC HIỆN NGHỊ QUYẾT SỐ 209/NQ-CP NGÀY 28/10/2024 CỦA CHÍNH PHỦ VÀ KẾ HOẠCH SỐ 417-KH/TU NGÀY "
              "20/01/2025 CỦA TỈNH UỶ CAO BẰNG VỀ THỰC HIỆN CHỈ THỊ SỐ 31-CT/TW")
CITED_AS = ("về việc thực hiện Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ và Kế hoạch số 417-KH/TU "
            "ngày 20/01/2025 của Tỉnh uỷ Cao Bằng về thực hiện Chỉ thị số 31-CT/TW")


def test_numberless_plan_is_recognised_by_type_date_issuer_and_title():
    plan = doc("plan", "ke_hoach", date="2025-03-10", issuer="UBND tỉnh Cao Bằng", province="Cao Bằng",
               title=PLAN_TITLE, refs=[ref("209/NQ-CP", "nghi_quyet", relation="implements")])
    other = doc("other-plan", "ke_hoach", date="2025-03-07", issuer="UBND tỉnh Cao Bằng", province="Cao Bằng",
                title="Triển khai Tháng hành động về ATVSLĐ năm 2025")
    letter = doc("letter", "cong_van", symbol="UBND-VX", date="2025-08", issuer="UBND tỉnh Cao Bằng",
                 province="Cao Bằng",
                 refs=[ref("664/KH-UBND", "ke_hoach", "2025-03-10", "UBND tỉnh", CITED_AS, symbol="KH-UBND")])
    links = link_documents([plan, other, letter])
    assert letter["references"][0]["resolved_to"] == "plan"
    entry = next(d for d in links["documents"] if d["id"] == "plan")
    assert entry["recognised_as"] == "664/KH-UBND"
    assert entry["evidence"][0]["matched"]["date"] is True
    jsonschema.validate(links, SCHEMA)


def test_province_of_an_unnamed_ubnd_tinh_must_match():
    plan = doc("plan", "ke_hoach", date="2025-03-10", issuer="UBND tỉnh Thái Nguyên", province="Thái Nguyên",
               title=PLAN_TITLE)
    letter = doc("letter", "cong_van", date="2025-08", issuer="UBND tỉnh Cao Bằng", province="Cao Bằng",
                 refs=[ref("664/KH-UBND", "ke_hoach", "2025-03-10", "UBND tỉnh", CITED_AS)])
    link_documents([plan, letter])
    assert letter["references"][0]["resolved_to"] is None


def test_two_equal_candidates_stay_unresolved():
    a = doc("a", "ke_hoach", date="2025-03-10", issuer="UBND tỉnh Cao Bằng", province="Cao Bằng", title=PLAN_TITLE)
    b = doc("b", "ke_hoach", date="2025-03-10", issuer="UBND tỉnh Cao Bằng", province="Cao Bằng", title=PLAN_TITLE)
    letter = doc("letter", "cong_van", province="Cao Bằng",
                 refs=[ref("664/KH-UBND", "ke_hoach", "2025-03-10", "UBND tỉnh", CITED_AS)])
    link_documents([a, b, letter])
    assert letter["references"][0]["resolved_to"] is None


def test_numbered_document_resolves_by_its_own_id():
    nq = doc("nq209", "nghi_quyet", number="209", symbol="NQ-CP", date="2024-10-28", issuer="Chính phủ")
    plan = doc("plan", "ke_hoach", refs=[ref("209/NQ-CP", "nghi_quyet", "2024-10-28", relation="implements")])
    nd = doc("nd39", "nghi_dinh", number="39", symbol="NĐ-CP")
    letter = doc("letter", "cong_van", refs=[ref("39/2016/NĐ-CP", "nghi_dinh", "2016-05-15")])
    links = link_documents([nq, plan, nd, letter])
    assert plan["references"][0]["resolved_to"] == "nq209"
    assert letter["references"][0]["resolved_to"] == "nd39"  # the year may be left out of a header symbol
    assert {"from": "plan", "to": "nq209", "relation": "implements", "resolved": True,
            "source": "text", "via": "plan"} in links["edges"]


def test_title_similarity_ignores_case_accents_and_filler_words():
    assert title_similarity(PLAN_TITLE, CITED_AS) > 0.9
    assert title_similarity("Triển khai Tháng hành động về ATVSLĐ năm 2025", CITED_AS) < 0.3


@pytest.fixture(scope="module")
def corpus_docs():
    paths = sorted(CORPUS.glob("*.txt"))
    return [parse_file(p).to_dict() for p in paths]


def test_corpus_links_recognise_plan_664_and_build_the_chain(corpus_docs, tmp_path):
    docs = json.loads(json.dumps(corpus_docs))
    out = write_links(tmp_path, link_documents(docs))
    assert [p.name for p in tmp_path.iterdir()] == ["links.json"]  # no temp file left behind
    links = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.validate(links, SCHEMA)

    plan = next(d for d in links["documents"] if d["id"] == "cao-bang_ke-hoach-664_2025-03-10")
    assert plan["recognised_as"] == "664/KH-UBND"
    assert {e["from"] for e in plan["evidence"]} == {"cao-bang_bao-cao_2025-12", "cao-bang_cong-van_2025-08"}
    letter = next(d for d in docs if d["id"] == "cao-bang_cong-van_2025-08")
    cited = {r["canonical_id"]: r["resolved_to"] for r in letter["references"]}
    assert cited["664/KH-UBND"] == "cao-bang_ke-hoach-664_2025-03-10"
    assert cited["209/NQ-CP"] is None

    want = ["31-CT/TW", "209/NQ-CP", "417-KH/TU", "cao-bang_ke-hoach-664_2025-03-10", "cao-bang_cong-van_2025-08"]

    def in_order(chain: list[str]) -> bool:
        it = iter(chain)
        return all(x in it for x in want)

    assert any(in_order(c) and c[-1] == "cao-bang_bao-cao_2025-12" for c in links["chains"])
    assert any(c[0] == "31-CT/TW" and c[-1] == "thai-nguyen_ke-hoach_2025-11" for c in links["chains"])
