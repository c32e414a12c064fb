"""Unit tests of the portal's pure logic: catalogues, language choice, redirects, pager, PKCE, credit code."""

from __future__ import annotations

import base64
import hashlib
import random
import re
from pathlib import Path

import pytest
from starlette.requests import Request

from membership.domain.credit_code import ALPHABET, credit_code_problem, with_check_characters
from portal import creditcode, member
from portal.app import page_modules
from portal.i18n import Catalogue, from_accept_language, language_of
from portal.oidc import claims_of, pkce_pair
from portal.pages.licences import number, tiers
from portal.sessions import User
from portal.web import LAYOUT, TEMPLATES, local_path, pager

KEY = re.compile(r"""\bt\(\s*'([^']+)'\s*(~?)""")  # t('key') or t('prefix.' ~ value)


def test_every_page_has_both_languages_with_the_same_keys() -> None:
    modules = page_modules()
    assert {m.__name__.rsplit(".", 1)[1] for m in modules} >= {"auth", "home", "organisation", "apply"}
    for module in modules:
        assert isinstance(module.MESSAGES, Catalogue), module.__name__
        assert module.MESSAGES.messages["en"].keys() == module.MESSAGES.messages["zh"].keys()
    with pytest.raises(ValueError, match="differ"):
        Catalogue({"en": {"a": "A", "b": "B"}, "zh": {"a": "甲"}})


def test_every_key_a_template_names_is_in_its_pages_catalogue_or_the_layouts() -> None:
    by_folder = {m.__name__.rsplit(".", 1)[1]: m.MESSAGES for m in page_modules()}
    by_folder["member"] = member.catalogue({"en": {}, "zh": {}})  # the member pages' shared partials
    for template in TEMPLATES.rglob("*.html"):
        folder = template.parent.name
        catalogue = by_folder.get(folder) if template.parent != TEMPLATES else None
        keys = set(LAYOUT.messages["en"]) | (set(catalogue.messages["en"]) if catalogue is not None else set())
        for key, joined in KEY.findall(template.read_text()):
            if joined:  # a prefix: some key starts with it
                assert any(k.startswith(key) for k in keys), f"{template}: {key}..."
            else:
                assert key in keys, f"{template}: {key}"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-GB,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,zh-TW;q=0.5,en;q=0.4", "zh"),
        ("de, fr", "en"),
        ("en;q=0.2, zh;q=0.7", "zh"),
        ("zh;q=0, en", "en"),
    ],
)
def test_the_language_comes_from_accept_language(header: str | None, expected: str) -> None:
    assert from_accept_language(header) == expected


def test_the_cookie_wins_over_accept_language() -> None:
    assert language_of("en", "zh-CN") == "en"
    assert language_of("xx", "zh-CN") == "zh"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/organisation?x=1", "/organisation?x=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("organisation", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_redirects_stay_on_the_site(target: str | None, expected: str) -> None:
    assert local_path(target) == expected


def request_for(query: str) -> Request:
    scope = {"type": "http", "method": "GET", "path": "/training", "query_string": query.encode(), "headers": []}
    return Request(scope)


def test_the_pager_walks_forward_and_back_with_the_apis_cursors() -> None:
    first = pager(request_for("audience=engineers"), "c1")
    assert first == {"previous": None, "next": "/training?audience=engineers&cursor=c1"}
    second = pager(request_for("audience=engineers&cursor=c1"), "c2")
    assert second["previous"] == "/training?audience=engineers"
    assert second["next"] == "/training?audience=engineers&cursor=c2&trail=c1"
    third = pager(request_for("audience=engineers&cursor=c2&trail=c1"), None)
    assert third == {"previous": "/training?audience=engineers&cursor=c1", "next": None}


def test_pkce_challenge_is_the_s256_of_the_verifier() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == expected
    assert pkce_pair()[0] != verifier


def test_claims_of_reads_a_jwt_payload() -> None:
    payload = base64.urlsafe_b64encode(b'{"sub":"u1","roles":["member_admin"]}').rstrip(b"=").decode()
    assert claims_of(f"h.{payload}.s") == {"sub": "u1", "roles": ["member_admin"]}


def test_the_form_checks_credit_codes_as_the_membership_api_does() -> None:
    rng = random.Random(11)
    codes = ["", "91350100M000100Y43", "91350100M000100Y44", "9135010OM000100Y43", "91AB0100M000100Y43"]
    for _ in range(400):
        body = "".join(rng.choice("0123456789") if 2 <= i < 8 else rng.choice(ALPHABET) for i in range(16))
        valid = with_check_characters(body)
        codes += [valid, valid[:17] + rng.choice(ALPHABET), valid[:-1], body + rng.choice("IOSVZ") + "1"]
    for code in codes:
        expected = credit_code_problem(code)
        for lang in ("en", "zh"):
            ours = creditcode.problem(code, lang)
            assert (ours is None) == (expected is None), (code, ours, expected)


def test_templates_have_no_inline_script_or_style() -> None:
    """The CSP allows our own files only: an inline script or style attribute would be blocked."""
    for template in Path(TEMPLATES).rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and " style=" not in text and "<style" not in text, template


@pytest.mark.parametrize(
    ("roles", "org_id", "offered"),
    [
        ((), None, True),  # signed in, no organisation and no role: may apply
        (("member_admin",), "org-1", False),
        (("member_staff",), "org-1", False),
        (("licensee",), "org-demo-licensee", False),
        (("expert",), None, False),
        (("secretariat",), None, False),
        (("council",), None, False),
        ((), "org-1", False),  # a withdrawn member's person keeps the org, loses the roles
    ],
)
def test_apply_is_offered_to_visitors_and_people_without_an_organisation_or_role(
    roles: tuple[str, ...], org_id: str | None, offered: bool
) -> None:
    assert member.may_apply(None)
    person = User("p@example.com", "p@example.com", "P", frozenset(roles), org_id)
    assert member.may_apply(person) is offered


def test_a_rate_schedule_reads_as_unit_ranges_and_plain_numbers() -> None:
    schedule = {
        "categories": {
            "luminaire": [{"up_to": None, "standard_rate": "0.2000", "compliant_rate": "0.1600"}],
            "led_package": [
                {"up_to": 50000, "standard_rate": "0.0100", "compliant_rate": "0.0080"},
                {"up_to": None, "standard_rate": "0.0050", "compliant_rate": "0.0040"},
            ],
        }
    }
    rows = [(r["category"], r["first"], r["last"], number(r["standard_rate"])) for r in tiers(schedule)]
    assert rows == [
        ("led_package", 1, 50000, "0.01"),
        ("led_package", 50001, None, "0.005"),
        ("luminaire", 1, None, "0.20"),
    ]
    assert [number(x) for x in ("1000000", "2000000.00", "25", "6.5", 10000)] == [
        "1,000,000",
        "2,000,000",
        "25",
        "6.50",
        "10,000",
    ]
