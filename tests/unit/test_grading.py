"""The graders of API.md §9, without HTTP: a table of cases per topic type."""

from decimal import Decimal

import pytest

from studyhub.domain.work.grading import grade, round_score

D = Decimal


def case(key, answer, full, score, correct):
    return pytest.param(key, answer, D(full), D(score), correct, id=f"{key!r}<-{answer!r}")


@pytest.mark.parametrize(
    ("key", "answer", "full", "score", "correct"),
    [
        case("B", "B", "2", "2.0", True),
        case("B", "b", "2", "2.0", True),
        case("B", " B ", "2", "2.0", True),
        case("B", "Ｂ", "2", "2.0", True),  # full-width, NFKC
        case("B", "C", "2", "0.0", False),
        case("B", "BC", "2", "0.0", False),
    ],
)
def test_single_choice_compares_the_option_letter(key, answer, full, score, correct):
    assert grade(0, key, answer, full) == (score, correct, False)


@pytest.mark.parametrize(
    ("key", "answer", "full", "score", "correct"),
    [
        case("ACD", "ACD", "3", "3.0", True),
        case("ACD", "A,C,D", "3", "3.0", True),
        case("ACD", "a c d", "3", "3.0", True),
        case("ACD", "DCA", "3", "3.0", True),
        case("A,C,D", "ＡＣＤ", "3", "3.0", True),
        case("ACD", "AC", "3", "1.5", False),  # 少选得一半
        case("ACD", "A", "1.5", "0.8", False),  # half of 1.5 is 0.8
        case("ACD", "ACB", "3", "0.0", False),  # a wrong letter
        case("ACD", "ABCD", "3", "0.0", False),
        case("ACD", "B", "3", "0.0", False),
        case("ACD", ",,", "3", "0.0", False),
    ],
)
def test_multiple_choice_full_half_or_nothing(key, answer, full, score, correct):
    assert grade(1, key, answer, full) == (score, correct, False)


@pytest.mark.parametrize("truthy", ["对", "正确", "是", "T", "t", "true", "TRUE", "√", "1", " 对 "])
@pytest.mark.parametrize("falsy", ["错", "错误", "否", "F", "false", "False", "×", "0"])
def test_true_false_synonyms(truthy, falsy):
    for key in ("正确", "T", "1"):
        assert grade(2, key, truthy, D("2")) == (D("2.0"), True, False)
        assert grade(2, key, falsy, D("2")) == (D("0.0"), False, False)
    for key in ("错误", "F", "0"):
        assert grade(2, key, falsy, D("2")) == (D("2.0"), True, False)
        assert grade(2, key, truthy, D("2")) == (D("0.0"), False, False)


def test_true_false_answer_outside_both_lists_is_wrong():
    assert grade(2, "对", "也许", D("2")) == (D("0.0"), False, False)


@pytest.mark.parametrize(
    ("key", "answer", "full", "score", "correct"),
    [
        case("北京/Beijing|1949", "北京|1949", "4", "4.0", True),
        case("北京/Beijing|1949", "beijing | 1949", "4", "4.0", True),
        case("北京/Beijing|1949", "BEIJING｜１９４９", "4", "4.0", True),  # NFKC: full-width bar and digits
        case("北京/Beijing|1949", "上海|1949", "4", "2.0", False),
        case("北京/Beijing|1949", "1949|北京", "4", "0.0", False),  # blanks answered in order
        case("北京/Beijing|1949", "北京", "4", "2.0", False),  # a blank left out
        case("a|b|c", "a|x|x", "1", "0.3", False),  # 1/3 of 1 rounds to 0.3
        case("a|b|c", "a|b|x", "1", "0.7", False),  # 2/3 of 1 rounds to 0.7
        case("a|b", "a|x", "1.5", "0.8", False),  # half of 1.5, rounded half up
        case("后进先出", "后进先出", "2", "2.0", True),
    ],
)
def test_fill_in_the_blank_is_proportional(key, answer, full, score, correct):
    assert grade(3, key, answer, full) == (score, correct, False)


def test_question_and_answer_waits_for_a_mark():
    assert grade(4, "列表可变", "列表可以修改", D("5")) == (D("0.0"), None, True)


@pytest.mark.parametrize("topic_type", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("answer", [None, "", "   ", "\u3000"])
def test_an_unanswered_item_scores_zero_and_needs_no_mark(topic_type, answer):
    assert grade(topic_type, "A", answer, D("5")) == (D("0.0"), False, False)


@pytest.mark.parametrize("topic_type", [0, 1, 2, 3])
def test_an_auto_type_without_a_key_waits_for_a_mark(topic_type):
    assert grade(topic_type, None, "A", D("5")) == (D("0.0"), None, True)


@pytest.mark.parametrize(
    ("value", "rounded"), [("0.75", "0.8"), ("0.25", "0.3"), ("0.05", "0.1"), ("1.04", "1.0"), ("2", "2.0")]
)
def test_scores_round_half_up_to_one_place(value, rounded):
    assert round_score(D(value)) == D(rounded)
    assert str(round_score(D(value))) == rounded
