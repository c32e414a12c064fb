"""The unified social credit code (统一社会信用代码, GB 32100-2015), checked in the form as the
membership API checks it (a test compares the two on many codes), with the reason in both languages.

18 characters over a 31-symbol alphabet (no I, O, S, V, Z): registration authority, organisation
category, 6-digit administrative division, the 9-character organisation code (GB 11714, with its
own check character) and a final check character.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def _check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def _org_code_check_character(body8: str) -> str:
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body8]
    remainder = 11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def problem(code: str, lang: str) -> str | None:
    """Why ``code`` (already upper-cased) is not a valid credit code, in ``lang``; None when it is."""
    zh = lang == "zh"
    if len(code) != 18:
        return f"应为 18 位，实际 {len(code)} 位" if zh else f"must be 18 characters, got {len(code)}"
    bad = "".join(sorted({c for c in code if c not in ALPHABET}))
    if bad:
        return f"含有代码字符集以外的字符：{bad}" if zh else f"contains characters outside the code alphabet: {bad}"
    if not code[2:8].isdigit():
        return "第 3–8 位应为行政区划代码（数字）" if zh else "characters 3-8 must be the administrative division code"
    if _org_code_check_character(code[8:16]) != code[16]:
        return (
            "组织机构代码（第 9–17 位）校验位不符" if zh else "the organisation code (characters 9-17) fails its check"
        )
    expected = _check_character(code[:17])
    if expected != code[17]:
        return f"校验码为 {code[17]}，应为 {expected}" if zh else f"check character is {code[17]}, expected {expected}"
    return None
