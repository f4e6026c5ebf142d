"""Agency names: gazetteer, abbreviations, pattern fallback and list splitting, on real passages."""
from __future__ import annotations

import pytest

from pipeline.stages.agencies import find_mentions, parse_agency_list, province_in, successor_of
from pipeline.rules import load


def names(text: str) -> list[str]:
    found, _ = parse_agency_list(text)
    return [a.name for a in found]


def raws(text: str) -> list[str]:
    found, _ = parse_agency_list(text)
    return [a.raw for a in found]


# --- splitting and joining (cao-bang 664 V.11, V.12; thai-nguyen IV.9, IV.12) -------------------

def test_list_of_two_with_abbreviation_expanded():
    found, end = parse_agency_list("Công an tỉnh, BCH Quân sự tỉnh:  Chỉ đạo tổ chức triển khai")
    assert [a.raw for a in found] == ["Công an tỉnh", "BCH Quân sự tỉnh"]
    assert [a.name for a in found] == ["Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh"]
    assert [a.id for a in found] == ["cong_an_tinh", "bch_quan_su_tinh"]
    assert "Công an tỉnh, BCH Quân sự tỉnh:  Chỉ đạo"[end:].startswith(":")


def test_three_mass_organisations():
    assert names("Liên đoàn Lao động tỉnh, Hội Nông dân tỉnh, Liên minh Hợp tác xã tỉnh") == [
        "Liên đoàn Lao động tỉnh", "Hội Nông dân tỉnh", "Liên minh Hợp tác xã tỉnh"]


def test_comma_inside_a_name_does_not_split_but_semicolon_list_does():
    found, _ = parse_agency_list(
        "Sở Văn hóa, Thể thao và Du lịch; Báo và phát thanh, truyền hình Thái Nguyên")
    assert [a.raw for a in found] == ["Sở Văn hóa, Thể thao và Du lịch",
                                      "Báo và phát thanh, truyền hình Thái Nguyên"]
    assert found[1].province == "Thái Nguyên"


def test_tone_placement_does_not_matter():
    a, b = parse_agency_list("Sở Văn hoá, Thể thao và Du lịch")[0][0], \
        parse_agency_list("Sở Văn hóa, Thể thao và Du lịch")[0][0]
    assert a.id == b.id == "so_van_hoa_the_thao_du_lich"
    assert a.raw == "Sở Văn hoá, Thể thao và Du lịch"  # as written


def test_shared_head_distributes():
    found, _ = parse_agency_list("Các Sở, ngành: Công Thương, Nội vụ, Công an tỉnh thực hiện")
    assert [a.name for a in found] == ["Sở Công Thương", "Sở Nội vụ", "Công an tỉnh"]
    assert [a.raw for a in found] == ["Công Thương", "Nội vụ", "Công an tỉnh"]
    assert all(a.known for a in found)


def test_group_addressees_are_agencies_as_written():
    # cao-bang 664 V.1: three addressees; the list stops at the colon
    assert raws("Các Sở, Ban ngành tỉnh, UBND các huyện, thành phố, đơn vị, doanh nghiệp:  Căn") == [
        "Các Sở, Ban ngành tỉnh", "UBND các huyện, thành phố", "đơn vị, doanh nghiệp"]
    # cao-bang công văn 1.: the list stops at the predicate
    found, end = parse_agency_list(
        "Các Sở, Ban ngành, đoàn thể tỉnh, UBND các xã, phường căn cứ chức năng, nhiệm vụ")
    assert [a.raw for a in found] == ["Các Sở, Ban ngành, đoàn thể tỉnh", "UBND các xã, phường"]
    assert [a.id for a in found] == ["nhom_so_ban_nganh", "ubnd_cap_xa"]


def test_partner_list_stops_at_the_verb_even_when_it_is_a_group_noun():
    # đắk lắk V.1.a: "tổ chức đoàn thể" is a group, "tổ chức thực hiện" is the verb
    text = ("các sở, ban, ngành có liên quan, tổ chức đoàn thể, UBND các huyện, thị xã, thành phố và "
            "các cơ quan, đơn vị, doanh nghiệp, cơ sở sản xuất kinh doanh tổ chức thực hiện tốt")
    found, end = parse_agency_list(text)
    assert [a.raw for a in found] == [
        "các sở, ban, ngành có liên quan", "tổ chức đoàn thể", "UBND các huyện, thị xã, thành phố",
        "các cơ quan, đơn vị, doanh nghiệp, cơ sở sản xuất kinh doanh"]
    assert text[end:].strip().startswith("tổ chức thực hiện")


def test_a_new_group_starts_at_cac_and_a_proper_name_ends_a_group():
    # thái nguyên IV.1 and IV.15
    assert raws("các sở, ban, ngành, cơ quan, đơn vị, các tổ chức chính trị - xã hội tỉnh, "
                "UBND các xã, phường tổ chức triển khai") == [
        "các sở, ban, ngành, cơ quan, đơn vị", "các tổ chức chính trị - xã hội tỉnh", "UBND các xã, phường"]
    assert raws("các Hội, Hiệp hội doanh nghiệp tỉnh") == ["các Hội, Hiệp hội doanh nghiệp tỉnh"]
    assert raws("các ngành liên quan, Công an, Viện Kiểm sát nhân dân trong công tác điều tra") == [
        "các ngành liên quan", "Công an", "Viện Kiểm sát nhân dân"]


def test_name_with_and_inside_then_and_between():
    assert raws("Sở Lao động - Thương binh và Xã hội và các cơ quan, đơn vị, địa phương có liên quan "
                "thông tin") == ["Sở Lao động - Thương binh và Xã hội",
                                 "các cơ quan, đơn vị, địa phương có liên quan"]


def test_press_bodies_with_location_modifier():
    # đắk lắk V.10 "Đề nghị ..." paragraph
    assert raws("các cơ quan báo chí địa phương và Văn phòng đại diện, phóng viên thường trú các cơ "
                "quan báo chí Trung ương đóng trên địa bàn tỉnh thông tin, tuyên truyền") == [
        "các cơ quan báo chí địa phương",
        "Văn phòng đại diện, phóng viên thường trú các cơ quan báo chí Trung ương đóng trên địa bàn tỉnh"]


# --- identity, province, successor --------------------------------------------------------------

def test_province_is_not_part_of_identity():
    cb = parse_agency_list("Báo Cao Bằng, Đài Phát thanh - Truyền hình Cao Bằng: Phối hợp")[0]
    assert [(a.id, a.province) for a in cb] == [("bao_tinh", "Cao Bằng"), ("dai_pttth_tinh", "Cao Bằng")]
    tn = parse_agency_list("Ban Quản lý các khu công nghiệp tỉnh Thái Nguyên")[0][0]
    dl = parse_agency_list("Ban Quản lý các khu công nghiệp tỉnh")[0][0]
    assert tn.id == dl.id == "bql_cac_khu_cong_nghiep"
    assert (tn.province, dl.province) == ("Thái Nguyên", None)
    assert province_in("Sở Y tế tỉnh Cao Bằng") == "Cao Bằng"


def test_successors_of_2025():
    assert successor_of("so_ldtbxh") == "so_noi_vu"
    assert successor_of("so_ke_hoach_dau_tu") == "so_tai_chinh"
    assert successor_of("so_tai_nguyen_moi_truong") == successor_of("so_nong_nghiep_ptnt") \
        == "so_nong_nghiep_moi_truong"
    assert successor_of("so_giao_thong_van_tai") == "so_xay_dung"
    assert successor_of("so_thong_tin_truyen_thong") == "so_khoa_hoc_cong_nghe"
    a = parse_agency_list("UBND các huyện, thị xã, thành phố")[0][0]
    assert (a.id, a.successor) == ("ubnd_cap_huyen", "ubnd_cap_xa")
    data = load("agencies")
    assert {s["effective"] for s in data["successors"] if s["from"] == "ubnd_cap_huyen"} == {"2025-07-01"}


@pytest.mark.parametrize("abbr,name", [
    ("BHXH tỉnh", "Bảo hiểm xã hội tỉnh"),
    ("Sở LĐTBXH", "Sở Lao động - Thương binh và Xã hội"),
    ("Sở KH&ĐT", "Sở Kế hoạch và Đầu tư"),
    ("Sở TN&MT", "Sở Tài nguyên và Môi trường"),
    ("Sở NN&PTNT", "Sở Nông nghiệp và Phát triển nông thôn"),
    ("Sở GTVT", "Sở Giao thông vận tải"),
    ("Sở TT&TT", "Sở Thông tin và Truyền thông"),
    ("LĐLĐ tỉnh", "Liên đoàn Lao động tỉnh"),
    ("Đài PT-TH tỉnh", "Đài Phát thanh - Truyền hình tỉnh"),
    ("Ủy ban MTTQ Việt Nam tỉnh", "Ủy ban MTTQ Việt Nam tỉnh"),  # an alias: kept as written
])
def test_abbreviations_expand(abbr, name):
    a = parse_agency_list(abbr)[0][0]
    assert a.known and a.raw == abbr and a.name == name


def test_every_gazetteer_name_and_alias_is_found_as_itself():
    for e in load("agencies")["agencies"]:
        for form in [e["name"], *e.get("aliases", []), *e.get("abbreviations", [])]:
            text = form.replace("{province}", "Cao Bằng")
            if e.get("needs_suffix") and not text.endswith("tỉnh"):
                text += " tỉnh"  # a bare "Công an" is a name only inside a list
            found, end = parse_agency_list(text)
            assert found and found[0].id == e["id"] and end == len(text), (form, found)


# --- pattern fallback --------------------------------------------------------------------------

def test_unknown_names_found_by_pattern_and_marked_unknown():
    # lào cai KH 2242 III.1, QĐ 1050 Điều 5
    a = parse_agency_list("phòng Quản lý Công nghiệp triển khai, thực hiện")[0][0]
    assert (a.raw, a.known, a.id) == ("phòng Quản lý Công nghiệp", False, None)
    found, _ = parse_agency_list("Chánh Văn phòng Sở, Trưởng phòng Quản lý công nghiệp, các tổ chức "
                                 "cá nhân có liên quan và các ông/bà")
    assert [x.raw for x in found] == ["Chánh Văn phòng Sở", "Trưởng phòng Quản lý công nghiệp",
                                      "các tổ chức cá nhân có liên quan", "các ông/bà"]


def test_company_names_by_head_with_abbreviated_head_written_out():
    # lào cai CV 4280: the lead-in, the contract with the supplier; QĐ 1050 annex; CV 3686 Nơi nhận
    a = parse_agency_list("DNTN Thành Hương Nghĩa Lộ rà soát, hoàn thiện các nội dung sau:")[0][0]
    assert (a.raw, a.name, a.kind, a.known) == (
        "DNTN Thành Hương Nghĩa Lộ", "Doanh nghiệp tư nhân Thành Hương Nghĩa Lộ", "doanh_nghiep_to_chuc", False)
    assert [(x.raw, x.kind) for x in parse_agency_list(
        "Tổng công ty Kinh tế Kỹ thuật Công nghiệp quốc phòng kèm theo hồ sơ")[0]] == [
        ("Tổng công ty Kinh tế Kỹ thuật Công nghiệp quốc phòng", "doanh_nghiep_to_chuc")]
    # a bracketed label after the name is not part of it
    assert raws("Công ty cổ phần Lào Cai (IC14) đoạn thi công") == ["Công ty cổ phần Lào Cai"]
    assert names("Cty CN Hoá chất mỏ Tây Bắc;") == ["Công ty CN Hoá chất mỏ Tây Bắc"]
    # the collective noun stays a group; the federation stays the gazetteer's
    assert [(x.raw, x.how) for x in parse_agency_list("các doanh nghiệp, hợp tác xã thực hiện")[0]] == [
        ("các doanh nghiệp, hợp tác xã", "group")]
    assert parse_agency_list("Liên minh Hợp tác xã tỉnh chủ động")[0][0].id == "lien_minh_htx_tinh"


def test_upper_case_heading_is_not_a_group():
    assert parse_agency_list("TỔ CHỨC THỰC HIỆN")[0] == []


def test_find_mentions_in_running_text():
    text = "Phối hợp với Sở Nội vụ, các đơn vị liên quan làm tốt công tác thông tin, tuyên truyền"
    assert [(a.raw, a.how) for a in find_mentions(text)] == [("Sở Nội vụ", "gazetteer"),
                                                             ("các đơn vị liên quan", "group")]
    # nouns in a phrase are no addressees; a list position makes one
    assert [a.raw for a in find_mentions("hỗ trợ người lao động của doanh nghiệp")] == []
    assert [a.raw for a in find_mentions("yêu cầu doanh nghiệp báo cáo")] == ["doanh nghiệp"]


def test_every_gazetteer_name_starts_like_a_name():
    """A comma left unquoted in a YAML flow list splits one name in two ("Sở LĐ,TB&XH" became
    "Sở LĐ" and "TB&XH"; "Hội đồng an toàn, vệ sinh lao động" lost its tail): every name,
    alias and abbreviation must be a whole name, starting with a capital."""
    import yaml

    from pipeline.rules import RULES_DIR

    data = yaml.safe_load((RULES_DIR / "agencies.yaml").read_text(encoding="utf-8"))
    for body in data["agencies"]:
        for name in [body["name"], *body.get("aliases", []), *body.get("abbreviations", [])]:
            assert isinstance(name, str) and (name[0].isupper() or name[0].isdigit()), (body["id"], name)


def test_bodies_set_up_for_one_task_are_agencies():
    from pipeline.stages.agencies import agency_at

    for text, name in [("Đoàn kiểm tra thực hiện nhiệm vụ và quyền hạn", "Đoàn kiểm tra"),
                       ("Tổ công tác tự giải thể sau khi hoàn thành nhiệm vụ", "Tổ công tác"),
                       ("Hội đồng an toàn, vệ sinh lao động tỉnh, trong đó", "Hội đồng an toàn, vệ sinh lao động tỉnh")]:
        found = agency_at(text, 0)
        assert found is not None and found.raw == name and found.known


def test_numbered_units_and_branches_by_pattern():
    # lao-cai CV hoàn thiện bổ sung (wild): a branch numbered after its head; written variants
    for text, name in (("Chi nhánh số 1 - Công ty cổ phần Xuất nhập khẩu Sợi Phương Nam khẩn trương rà soát",
                        "Chi nhánh số 1 - Công ty cổ phần Xuất nhập khẩu Sợi Phương Nam"),
                       ("Đội số 2 kiểm tra việc chấp hành", "Đội số 2"),
                       ("Đội Quản lý thị trường số 1 kiểm tra", "Đội Quản lý thị trường số 1"),
                       ("Bảo hiểm xã hội khu vực XV chủ trì", "Bảo hiểm xã hội khu vực XV")):
        assert [a.raw for a in parse_agency_list(text)[0]] == [name]


@pytest.mark.parametrize("text, name", [
    ("Sở Nông nghiệp và Môi trường, các Sở, ban, ngành\nThường xuyên\n", "các Sở, ban, ngành"),  # a table's cells
    ("- Các sở, ban, ngành\nCăn cứ chức năng, nhiệm vụ được giao", "Các sở, ban, ngành"),  # a heading line
    ("các cơ quan, đơn vị Trung ương", "các cơ quan"),  # a capital on the same line: a name's head, not the group's
])
def test_a_capital_on_the_next_line_does_not_cut_a_group(text, name):
    names = [m.raw for m in find_mentions(text)]
    assert name in names, names


@pytest.mark.parametrize("example", load("agencies")["committee_groups"]["examples"])
def test_committee_group_examples_read_whole(example):
    found = find_mentions(example)
    assert [m.raw for m in found] == [example]
    assert found[0].id in load("agencies")["committee_classes"]
