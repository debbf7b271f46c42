"""The canonical form of a username (API.md §2): NFKC then case-folded, accents kept."""

import pytest

from studyhub.core.usernames import canonical_username, username_problem
from studyhub.domain.users.usernames import canonical_username as exported


@pytest.mark.parametrize("spelling", ["Alice", "ALICE", "alice", "Ａｌｉｃｅ", "ａＬｉＣｅ"])
def test_every_spelling_of_a_name_has_one_canonical_form(spelling):
    assert canonical_username(spelling) == "alice"


def test_accents_stay_distinct():
    assert canonical_username("víctor") != canonical_username("victor")
    assert canonical_username("VÍCTOR") == canonical_username("víctor") == "víctor"
    # a decomposed accent (v + i + combining acute) is the same name as the composed one
    assert canonical_username("vi\u0301ctor") == "víctor"


def test_case_folding_goes_beyond_lower():
    assert canonical_username("STRASSE") == canonical_username("straße") == "strasse"
    assert canonical_username("ﬁle") == "file"  # the ligature splits


def test_canonical_form_is_stable():
    for name in ("Ａｌｉｃｅ", "straße", "ǰ", "ΐ", "ﷺ", "İstanbul"):
        assert canonical_username(canonical_username(name)) == canonical_username(name)


def test_the_domain_exports_the_one_function():
    assert exported is canonical_username


@pytest.mark.parametrize("name", ["alice", "新老师", "a.b@c+d-e_f", "a" * 150, "víctor"])
def test_well_formed_names(name):
    assert username_problem(name) is None


@pytest.mark.parametrize(
    "name,problem",
    [
        ("", "用户名不能为空。"),
        ("alice ", "用户名首尾不能有空格。"),
        ("\talice", "用户名首尾不能有空格。"),
        ("ali\x00ce", "用户名不能包含控制字符。"),
        ("ali\u202ece", "用户名不能包含控制字符。"),  # right-to-left override
        ("a" * 151, "用户名不能超过 150 个字符。"),
        ("ﷺ" * 9, "用户名不能超过 150 个字符。"),  # 9 characters, 162 once canonical
    ],
)
def test_malformed_names(name, problem):
    assert username_problem(name) == problem
