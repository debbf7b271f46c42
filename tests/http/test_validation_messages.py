"""Messages a frontend can show (issue 12): every validation message is Chinese and names the
limit, the minimum or the allowed values; none of pydantic's English comes through.

The walk goes over every request model of ``domain/*/schemas.py`` with values of every wrong
kind; the HTTP tests check the messages as a frontend gets them, on both stacks."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "layers" / "common" / "studyhub" / "domain"
# Words a Chinese message may carry: formats and names a user recognises.
ALLOWED_LATIN = {"JSON", "UTF", "UUID", "ISO", "YYYY", "MM", "DD", "HH", "SS", "T13"}
CJK = re.compile(r"[\u4e00-\u9fff]")
BAD_VALUES = [
    None,
    True,
    "",
    "  ",
    "x" * 200_001,
    "not a number",
    "2026-13-45",
    -1,
    0,
    1.5,
    float("inf"),
    10**30,
    [],
    [0],
    ["x"],
    [1] * 5000,
    {},
    {"a": 1},
]


def request_models() -> list[type]:
    from studyhub.domain.schema import Body

    models = []
    for path in sorted(DOMAIN.glob("*/schemas.py")):
        module = importlib.import_module(f"studyhub.domain.{path.parent.name}.schemas")
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, Body) and value is not Body and value not in models:
                models.append(value)
    return models


def messages_for(model: type, data) -> list[str]:
    from studyhub.core.errors import Invalid
    from studyhub.http.validation import validate

    try:
        validate(model, data)
    except Invalid as error:
        return [message for messages in (error.errors or {}).values() for message in messages]
    return []


def english_in(message: str) -> list[str]:
    """Latin words in a message, bar known formats and the allowed values it lists (``homework``
    in "必须是以下之一：homework、exam。" is what the frontend sends, not prose)."""
    prose = re.sub(r"以下之一：.*", "", message)
    return [word for word in re.findall(r"[A-Za-z][A-Za-z0-9]+", prose) if word not in ALLOWED_LATIN]


def test_the_walk_covers_every_group():
    groups = {model.__module__.split(".")[2] for model in request_models()}
    assert groups >= {"users", "school", "work", "community", "shopping"}


@pytest.mark.parametrize("model", request_models(), ids=lambda m: m.__name__)
def test_every_message_of_every_request_model_is_chinese(model):
    seen: set[str] = set()
    bodies = [[], "text", 1, None] + [{name: value} for name in model.model_fields for value in BAD_VALUES]
    for body in bodies:
        for message in messages_for(model, body):
            seen.add(message)
            assert CJK.search(message), (model.__name__, body if len(repr(body)) < 200 else "...", message)
            assert not english_in(message), (model.__name__, message)
    assert seen, f"no bad value was refused by {model.__name__}"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ({"type": "string_too_short", "ctx": {"min_length": 3}}, "至少 3 个字符。"),
        ({"type": "string_too_short", "ctx": {"min_length": 1}}, "该字段不能为空。"),
        ({"type": "string_too_long", "ctx": {"max_length": 30}}, "最多 30 个字符。"),
        ({"type": "greater_than_equal", "ctx": {"ge": 1}}, "不能小于 1。"),
        ({"type": "less_than_equal", "ctx": {"le": 9999}}, "不能大于 9999。"),
        ({"type": "literal_error", "ctx": {"expected": "1 or 2"}}, "必须是以下之一：1、2。"),
        ({"type": "enum", "ctx": {"expected": "'a', 'b' or 'c'"}}, "必须是以下之一：a、b、c。"),
        ({"type": "too_long", "ctx": {"max_length": 20}}, "最多 20 项。"),
        ({"type": "too_short", "ctx": {"min_length": 1}}, "至少 1 项。"),
        ({"type": "decimal_max_places", "ctx": {"decimal_places": 2}}, "最多 2 位小数。"),
        ({"type": "int_from_float"}, "请填写整数（不能有小数部分）。"),
        ({"type": "json_invalid", "ctx": {"error": "EOF"}}, "JSON 格式错误。"),
        ({"type": "model_type", "ctx": {"class_name": "X"}}, "请输入 JSON 对象。"),
        ({"type": "some_type_of_tomorrow", "msg": "Input should be nicer"}, "值不合法。"),
        ({"type": "value_error", "ctx": {"error": ValueError("价格最多两位小数。")}}, "价格最多两位小数。"),
        ({"type": "value_error", "ctx": {"error": ValueError("bad input")}}, "值不合法。"),
    ],
)
def test_each_kind_of_error_has_its_specific_message(error, message):
    from studyhub.core.validation import _message

    assert _message({"msg": "English from pydantic", **error}) == message


def test_every_error_type_pydantic_knows_answers_in_chinese():
    import typing

    from pydantic_core.core_schema import ErrorType

    from studyhub.core.validation import _message

    for kind in typing.get_args(ErrorType):
        message = _message({"type": kind, "msg": "Input should be valid", "ctx": {}})
        assert CJK.search(message) and not english_in(message), (kind, message)


# --- as a frontend gets them ---------------------------------------------------------------------


def test_an_address_names_each_limit_it_broke(client, student):
    body = {"province": 0, "city": "x", "district": 1.5, "place": "", "receiver": "张" * 31, "mobile": "123"}
    response = client.as_user(student).post("/api/users/address", json=body)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "province": ["不能小于 1。"],
        "city": ["请填写合法的整数值。"],
        "district": ["请填写整数（不能有小数部分）。"],
        "place": ["该字段不能为空。"],
        "receiver": ["最多 30 个字符。"],
        "mobile": ["格式不正确。"],
    }


def test_an_order_names_the_allowed_pay_methods_and_the_cart_limit(client, student):
    body = {"cart": list(range(1, 202)), "address": 1, "pay_method": 3}
    errors = client.as_user(student).post("/api/shopping/orders", json=body).json()["errors"]
    assert errors == {"cart": ["最多 200 项。"], "pay_method": ["必须是以下之一：1、2。"]}


def test_a_cart_number_names_its_range(client, student):
    me = client.as_user(student)
    assert me.post("/api/shopping/cart", json={"commodity": 1, "number": 0}).json()["errors"] == {
        "number": ["不能小于 1。"]
    }
    assert me.post("/api/shopping/cart", json={"commodity": 1, "number": 10_000}).json()["errors"] == {
        "number": ["不能大于 9999。"]
    }


def test_a_user_body_that_is_not_an_object_in_a_list_field_says_so(client, superuser):
    body = {"username": "new-user", "password": "long-enough-1", "groups": {"a": 1}}
    errors = client.as_user(superuser).post("/api/users/users", json=body).json()["errors"]
    assert errors == {"groups": ["请输入列表。"]}
