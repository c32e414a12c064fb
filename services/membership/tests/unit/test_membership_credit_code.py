"""The unified social credit code validator (GB 32100-2015, with the GB 11714 organisation code)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from membership.domain.credit_code import (
    ALPHABET,
    check_character,
    credit_code_problem,
    org_code_check_character,
    with_check_characters,
)

REAL_CODES = ["91350100M000100Y43", "91110000600037341L", "91440300708461136T"]
VALID = REAL_CODES[0]

prefixes = st.builds(
    lambda head, division, body: head + division + body,
    st.text(alphabet=ALPHABET, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=ALPHABET, min_size=8, max_size=8),
)


def replace(code: str, position: int, char: str) -> str:
    return code[:position] + char + code[position + 1 :]


def test_alphabet_has_31_symbols_without_i_o_s_v_z() -> None:
    assert len(ALPHABET) == 31
    assert not set("IOSVZ") & set(ALPHABET)


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    assert credit_code_problem(code) is None


@pytest.mark.parametrize("code", ["", VALID[:17], VALID + "0", VALID * 2])
def test_wrong_length_is_reported_with_the_actual_length(code: str) -> None:
    assert credit_code_problem(code) == f"must be 18 characters, got {len(code)}"


@pytest.mark.parametrize("bad", ["I", "O", "S", "V", "Z"])
def test_letters_outside_the_alphabet_are_named(bad: str) -> None:
    problem = credit_code_problem(replace(VALID, 9, bad))
    assert problem == f"contains characters outside the code alphabet: {bad}"


def test_every_character_outside_the_alphabet_is_named_once_and_sorted() -> None:
    code = replace(replace(replace(VALID, 9, "Z"), 10, "I"), 11, "Z")
    assert credit_code_problem(code) == "contains characters outside the code alphabet: IZ"


def test_lower_case_letters_are_outside_the_alphabet() -> None:
    problem = credit_code_problem(VALID.lower())
    assert problem is not None and problem.startswith("contains characters outside the code alphabet")


def test_letter_in_the_division_code_is_rejected_even_with_correct_check_characters() -> None:
    code = with_check_characters("91A50100M000100Y")
    assert credit_code_problem(code) == "characters 3-8 must be the administrative division code (digits)"


def test_wrong_organisation_code_check_character_is_rejected() -> None:
    wrong = "5" if VALID[16] != "5" else "6"
    seventeen = VALID[:16] + wrong
    code = seventeen + check_character(seventeen)  # final check right, organisation check wrong
    assert credit_code_problem(code) == "the organisation code (characters 9-17) fails its check character"


def test_wrong_final_check_character_names_the_expected_one() -> None:
    code = VALID[:17] + "0"
    assert credit_code_problem(code) == "check character is '0', expected '3'"


def test_organisation_code_check_character_of_real_codes() -> None:
    assert org_code_check_character("M000100Y") == "4"
    assert org_code_check_character("60003734") == "1"
    assert org_code_check_character("70846113") == "6"


def test_organisation_code_check_maps_remainder_10_to_x_and_11_to_0() -> None:
    assert org_code_check_character("00000006") == "X"  # 6*2 = 12 -> 11 - 1 = 10
    assert org_code_check_character("00000000") == "0"  # 11 - 0 = 11
    assert org_code_check_character("00000001") == "9"  # 11 - 2


def test_organisation_code_letters_count_from_a_equals_10() -> None:
    assert org_code_check_character("0000000A") == "2"  # 10*2 = 20 -> 11 - 9


@pytest.mark.parametrize("code", REAL_CODES)
def test_with_check_characters_round_trips_real_codes(code: str) -> None:
    assert with_check_characters(code[:16]) == code


@given(prefixes)
def test_any_well_formed_prefix_completes_to_a_valid_code(prefix: str) -> None:
    code = with_check_characters(prefix)
    assert len(code) == 18
    assert code.startswith(prefix)
    assert credit_code_problem(code) is None


@given(prefixes, st.integers(min_value=0, max_value=17), st.sampled_from(ALPHABET + "IOSVZa-"))
def test_changing_any_single_character_makes_a_valid_code_invalid(prefix: str, position: int, char: str) -> None:
    code = with_check_characters(prefix)
    if code[position] == char:
        char = ALPHABET[(ALPHABET.index(char) + 1) % len(ALPHABET)]
    assert credit_code_problem(replace(code, position, char)) is not None
