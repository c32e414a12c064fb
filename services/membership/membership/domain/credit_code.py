"""The unified social credit code (统一社会信用代码, GB 32100-2015).

18 characters over a 31-symbol alphabet (no I, O, S, V, Z): registration authority,
organisation category, 6-digit administrative division, the 9-character organisation
code (GB 11714, with its own check character) and a final check character.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_code_check_character(body8: str) -> str:
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body8]
    remainder = 11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None if it is."""
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    bad = sorted({c for c in code if c not in ALPHABET})
    if bad:
        return f"contains characters outside the code alphabet: {''.join(bad)}"
    if not code[2:8].isdigit():
        return "characters 3-8 must be the administrative division code (digits)"
    if org_code_check_character(code[8:16]) != code[16]:
        return "the organisation code (characters 9-17) fails its check character"
    expected = check_character(code[:17])
    if expected != code[17]:
        return f"check character is {code[17]!r}, expected {expected!r}"
    return None


def with_check_characters(first16: str) -> str:
    """Complete 16 leading characters into a valid code (demo data and tests)."""
    seventeen = first16 + org_code_check_character(first16[8:16])
    return seventeen + check_character(seventeen)
