"""Schemathesis hooks for the conformance run (tests/e2e/test_schemathesis.py loads this module
with ``SCHEMATHESIS_HOOKS``; it runs inside the ``schemathesis`` process, beside the served
platform's environment).

- **Auth**: a bearer token for the role in ``CONFORMANCE_ROLE`` (``student`` or ``superuser``).
  Any caller may log its own token out, and a superuser may deactivate, demote or delete itself or
  reset its own password (all legal); the token is checked every second and, once it no longer
  names an active user of that role, a new one is made with ``studyhub token`` (after
  ``studyhub createsuperuser`` for a superuser) so the run keeps testing as that role instead of
  collecting 401s.
- **State rules**: ``positive_data_acceptance`` is configured to let a ``400`` through (see the
  test), and ``positive_data_within_state_rules`` below fails every ``400`` to a schema-valid
  request except the contract's rules that depend on stored rows, which no schema can express.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import subprocess
import sys

import httpx
import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.core.failures import Failure

ROLE = os.environ.get("CONFORMANCE_ROLE", "student")
API = os.environ.get("CONFORMANCE_API", "")

# 400 codes of rules about stored rows and state (API.md §1-§6): a schema-valid request that names
# a row that doesn't exist or isn't the caller's, or that meets the stored state. The schema says
# "an id", not "an id of yours"; any other 400 to schema-valid data is a bug of the document or of
# the server.
STATE_RULE_CODES = {
    "invalid_pagination": "§1 page × size, offset + limit within 10,000: a rule across two parameters",
    "captcha_expired": "§2 login: the captcha must have been fetched (and not used) first",
    "captcha_invalid": "§2 login: the answer of that captcha",
    "invalid_credentials": "§2 login: a user with that password",
    "wrong_password": "§2 the old password is the stored one",
    "old_password_required": "§2 changing one's own password needs the old one (a superuser's for another doesn't)",
    "username_taken": "§2 usernames are unique",
    "invalid_area": "§2 province, city and district are rows of the area table, nested",
    "invalid_class": "§3 a class that exists",
    "invalid_classes": "§9 an assignment's classes exist",
    "invalid_paper": "§9 an assignment's paper exists",
    "invalid_label": "§4 a label that exists",
    "article_required": "§5 comments: an article that exists",
    "parent_comment_mismatch": "§5 a reply's parent is a comment of the same article",
    "invalid_commodity": "§6 a commodity that exists and isn't deleted",
    "invalid_number": "§6 posting a commodity already in the cart adds to its number, past the maximum",
    "invalid_address": "§6 the caller's own address",
    "invalid_cart": "§6 the caller's own cart rows",
    "empty_cart": "§6 cart rows that are gone",
    "insufficient_stock": "§6 never more than the stock",
    "order_too_small": "§6 an order's total of at least 0.01",
    "order_too_large": "§6 an order's total within the price column",
    "invalid_member": "§3 a class's members are users that exist",
    "invalid_group": "§2 groups that exist",
    "invalid_items": "§9 a paper's topics exist",
    "not_markable": "§9 only topics that need marking are marked",
    "invalid_window": "§9 an assignment ends after it starts: a rule across two fields",
    # An upload's bytes, which a schema only calls "binary" (schemathesis sends sample files of
    # many formats, a ZIP labelled image/gif among them): checked by content, as promised.
    "unsupported_image": "§2 uploads: a real JPEG, PNG or GIF (415)",
    "invalid_file": "§3 roster import: an .xlsx or a UTF-8 CSV",
    "empty_file": "§3 roster import: a file with rows",
    "invalid_roster": "§3 roster import: the header names the known columns",
    "empty_roster": "§3 roster import: at least one student",
}
# ...and every code naming a referenced row that is missing ("<field>_not_found").
STATE_RULE_SUFFIX = "_not_found"
# The Alipay webhook answers a refused notification with text/plain "failure" (API.md §6): the
# signature can't be forged by a generator, so every generated notification is refused.
WEBHOOK = "POST /shopping/payments/notify"


def _studyhub(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "studyhub.ops.cli", *args], capture_output=True, text=True, timeout=120
    )
    if result.returncode:
        raise RuntimeError(result.stdout + result.stderr)
    return result.stdout.strip().splitlines()[-1]


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@schemathesis.auth(refresh_interval=1)
class RoleToken:
    """The role's token, replaced as soon as it stops working (checked at most once a second)."""

    replacements = itertools.count(1)

    def __init__(self) -> None:
        self.token = os.environ["CONFORMANCE_TOKEN"]
        self.username = _claims(self.token)["username"]

    def _still_valid(self) -> bool:
        me = httpx.get(
            f"{API}/users/users/{_claims(self.token)['sub']}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        if me.status_code != 200:
            return False
        return ROLE != "superuser" or bool(me.json().get("is_superuser"))

    def get(self, case: Case, ctx: object) -> str:
        if self._still_valid():
            return self.token
        if ROLE == "superuser":  # it may have demoted, deactivated or deleted itself: a new one
            self.username = f"conformance_root_{os.getpid()}_{next(self.replacements)}"
            _studyhub("createsuperuser", "--username", self.username, "--password", "conformance-pass-1")
        self.token = _studyhub("token", self.username)  # a student's token logged out: a new one
        return self.token

    def set(self, case: Case, data: str, ctx: object) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


@schemathesis.hook
def filter_body(ctx: object, body: object) -> bool:
    """``generation.allow-x00 = false`` (schemathesis.toml) also for the names of free-form fields,
    which schemathesis generates without it; the fuzz suite sends NUL bytes on purpose."""
    return not _has_nul(body)


@schemathesis.check
def positive_data_within_state_rules(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code not in (400, 415):
        return None
    if case.operation.label == WEBHOOK and response.text == "failure":
        return None
    try:
        code = response.json().get("code", "")
    except ValueError:
        code = ""
    if code in STATE_RULE_CODES or code.endswith(STATE_RULE_SUFFIX):
        return None
    raise Failure(
        operation=case.operation.label,
        title="Schema-valid request rejected",
        message=f"400 {code!r} to a schema-valid request: the schema or the server is wrong\n{response.text[:500]}",
    )
