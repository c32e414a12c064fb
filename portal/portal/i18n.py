"""Chinese and English: message catalogues kept beside each page module, and the visitor's language.

Each page module holds its own ``Catalogue`` (so engineers add pages without touching a shared
file); a page's template looks a key up in its page's catalogue first, then in the layout's. The
language is the ``lang`` cookie when set (the switch in the header sets it), else the best of the
browser's Accept-Language, else English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGUAGES = ("en", "zh")
DEFAULT = "en"
COOKIE = "lang"


class Catalogue:
    """Messages by language and key; every language must have the same keys (a unit test checks)."""

    def __init__(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        missing = set(LANGUAGES) - set(messages)
        if missing:
            raise ValueError(f"catalogue lacks the languages {sorted(missing)}")
        self.messages = {lang: dict(messages[lang]) for lang in LANGUAGES}
        for lang in LANGUAGES:
            odd = set(self.messages[lang]) ^ set(self.messages[DEFAULT])
            if odd:
                raise ValueError(f"catalogue keys differ between {DEFAULT} and {lang}: {sorted(odd)}")

    def __contains__(self, key: str) -> bool:
        return key in self.messages[DEFAULT]

    def get(self, lang: str, key: str) -> str:
        return self.messages[lang if lang in self.messages else DEFAULT][key]


class Translator:
    """``t(key, **values)`` of a template: the page's catalogue, then the layout's."""

    def __init__(self, lang: str, *catalogues: Catalogue) -> None:
        self.lang = lang
        self.catalogues = catalogues

    def __call__(self, key: str, **values: Any) -> str:
        for catalogue in self.catalogues:
            if key in catalogue:
                text = catalogue.get(self.lang, key)
                return text.format(**values) if values else text
        return key  # a missing key shows itself (and the catalogue test names it)


def from_accept_language(header: str | None) -> str:
    """The first language of ours in an Accept-Language header, by its q-values."""
    if not header:
        return DEFAULT
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else DEFAULT


def language_of(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return str(cookie)
    return from_accept_language(accept_language)
