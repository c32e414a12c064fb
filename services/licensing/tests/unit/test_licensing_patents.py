"""Patents: where and when each is in force (national, EP validations, WO), and essentiality evaluation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance_common.errors import Forbidden, InvalidInput
from licensing.domain.patents import (
    COUNTRY_CODES,
    EP_VALIDATION_COUNTRIES,
    NATIONAL_OFFICE_COUNTRY,
    ChainSegment,
    Essentiality,
    LegalStatus,
    Patent,
    PatentOffice,
    assign_evaluator,
    check_country,
    coverage,
    record_evaluation,
)
from licensing.domain.pool import contributed

GRANT = date(2021, 6, 1)
EXPIRY = date(2039, 1, 10)


def patent(**changes: Any) -> Patent:
    values: dict[str, Any] = {
        "id": "P-1",
        "owner_id": "org-a",
        "office": PatentOffice.CN,
        "number": "ZL201910000001",
        "family_id": "F-1",
        "title": "LED epitaxial wafer",
        "filing_date": date(2019, 1, 10),
        "expiry_date": EXPIRY,
        "status": LegalStatus.GRANTED,
        "segment": ChainSegment.EPITAXY,
        "grant_date": GRANT,
    }
    values.update(changes)
    return Patent(**values)


def ep(validated_in: set[str], **changes: Any) -> Patent:
    return patent(office=PatentOffice.EP, number="EP3000001", validated_in=frozenset(validated_in), **changes)


def field_of(error: pytest.ExceptionInfo[Any]) -> str | None:
    field: str | None = error.value.field
    return field


# --- Constants ----------------------------------------------------------------------------------


def test_country_codes_are_all_249_iso_alpha2_codes() -> None:
    assert len(COUNTRY_CODES) == 249
    assert all(len(code) == 2 and code.isupper() for code in COUNTRY_CODES)
    assert {"CN", "US", "JP", "KR", "DE", "FR", "GB", "RU", "AU", "IN", "BR", "VN", "TW", "HK"} <= COUNTRY_CODES
    assert not {"UK", "EP", "WO", "EU"} & COUNTRY_CODES


def test_every_national_office_maps_to_a_country_and_ep_wo_do_not() -> None:
    assert set(NATIONAL_OFFICE_COUNTRY) == set(PatentOffice) - {PatentOffice.EP, PatentOffice.WO}
    assert set(NATIONAL_OFFICE_COUNTRY.values()) <= COUNTRY_CODES


def test_ep_validation_countries_are_the_epc_states_plus_extension_and_validation_states() -> None:
    assert len(EP_VALIDATION_COUNTRIES) == 39 + 1 + 5
    assert EP_VALIDATION_COUNTRIES <= COUNTRY_CODES
    assert {"DE", "FR", "GB", "IT", "ES", "NL", "CH", "TR", "MA"} <= EP_VALIDATION_COUNTRIES
    assert not {"US", "CN", "RU"} & EP_VALIDATION_COUNTRIES


def test_check_country_names_the_field() -> None:
    check_country("DE", "country_of_sale")
    with pytest.raises(InvalidInput) as error:
        check_country("UK", "country_of_sale")
    assert field_of(error) == "country_of_sale"


# --- In force: time -----------------------------------------------------------------------------


def test_a_national_patent_is_in_force_from_grant_until_the_day_before_expiry() -> None:
    p = patent()
    assert not p.in_force_on(GRANT - timedelta(days=1))
    assert p.in_force_on(GRANT)
    assert p.in_force_on(EXPIRY - timedelta(days=1))
    assert not p.in_force_on(EXPIRY)


def test_a_pending_application_is_never_in_force() -> None:
    p = patent(status=LegalStatus.PENDING, grant_date=None)
    assert not p.in_force_on(date(2025, 1, 1))
    assert p.countries_in_force(date(2025, 1, 1)) == frozenset()


@pytest.mark.parametrize("status", [LegalStatus.INVALIDATED, LegalStatus.LAPSED])
def test_invalidation_or_lapse_takes_it_out_of_force_on_that_date(status: LegalStatus) -> None:
    p = patent(status=status, ended_on=date(2025, 3, 1))
    assert p.in_force_on(date(2025, 2, 28))
    assert not p.in_force_on(date(2025, 3, 1))


def test_an_expired_patent_still_counts_for_dates_before_its_expiry() -> None:
    # Back royalties for past periods must see it.
    p = patent(status=LegalStatus.EXPIRED, expiry_date=date(2025, 5, 15))
    assert p.in_force_on(date(2025, 5, 14))
    assert not p.in_force_on(date(2025, 5, 15))


# --- In force: territory ------------------------------------------------------------------------


def test_a_national_patent_covers_only_its_country() -> None:
    on = date(2025, 1, 1)
    p = patent(office=PatentOffice.US)
    assert p.countries_in_force(on) == {"US"}
    assert p.in_force_in("US", on)
    assert not p.in_force_in("CN", on)


def test_an_ep_patent_is_in_force_only_where_validated() -> None:
    on = date(2025, 1, 1)
    p = ep({"DE", "FR"})
    assert p.countries_in_force(on) == {"DE", "FR"}
    assert not p.in_force_in("GB", on)
    assert not p.in_force_in("IT", on)


def test_an_ep_patent_without_validations_is_in_force_nowhere() -> None:
    assert ep(set()).countries_in_force(date(2025, 1, 1)) == frozenset()


def test_an_ep_patent_outside_its_term_is_in_force_nowhere() -> None:
    assert ep({"DE"}).countries_in_force(EXPIRY) == frozenset()


def test_an_ep_validation_must_be_an_ep_country() -> None:
    with pytest.raises(InvalidInput) as error:
        ep({"DE", "US"})
    assert field_of(error) == "validated_in"


def test_only_an_ep_patent_lists_validations() -> None:
    with pytest.raises(InvalidInput) as error:
        patent(validated_in=frozenset({"DE"}))
    assert field_of(error) == "validated_in"


def test_a_wo_application_alone_is_in_force_nowhere() -> None:
    p = patent(office=PatentOffice.WO, number="WO2020123456", status=LegalStatus.PENDING, grant_date=None)
    assert not p.in_force_on(date(2025, 1, 1))
    assert all(not coverage([p], country, date(2025, 1, 1)) for country in COUNTRY_CODES)


def test_a_wo_application_cannot_be_granted() -> None:
    with pytest.raises(InvalidInput) as error:
        patent(office=PatentOffice.WO, number="WO2020123456")
    assert field_of(error) == "status"


def test_coverage_lists_the_patents_in_force_in_a_country_in_order() -> None:
    on = date(2025, 1, 1)
    cn = patent(id="cn")
    de = patent(id="de", office=PatentOffice.DE, number="DE102019000001")
    epde = ep({"DE", "NL"}, id="ep")
    expired = patent(id="old", office=PatentOffice.DE, number="DE1", expiry_date=date(2024, 12, 31))
    patents = [cn, de, epde, expired]
    assert coverage(patents, "DE", on) == (de, epde)
    assert coverage(patents, "CN", on) == (cn,)
    assert coverage(patents, "NL", on) == (epde,)
    assert coverage(patents, "US", on) == ()


# --- Record validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"number": " "}, "number"),
        ({"expiry_date": date(2018, 1, 1)}, "expiry_date"),
        ({"grant_date": date(2018, 1, 1)}, "grant_date"),
        ({"grant_date": EXPIRY}, "grant_date"),
        ({"status": LegalStatus.PENDING}, "grant_date"),
        ({"grant_date": None}, "grant_date"),
        ({"status": LegalStatus.INVALIDATED}, "ended_on"),
        ({"ended_on": date(2025, 1, 1)}, "ended_on"),
    ],
)
def test_an_inconsistent_patent_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        patent(**changes)
    assert field_of(error) == field


# --- Essentiality evaluation --------------------------------------------------------------------

ON = date(2025, 2, 1)


def test_an_independent_expert_or_one_from_another_organisation_may_be_assigned() -> None:
    p = patent()
    assert assign_evaluator(p, "expert-1", None, ON).evaluator_org_id is None
    assignment = assign_evaluator(p, "expert-2", "org-b", ON)
    assert (assignment.patent_id, assignment.evaluator_id, assignment.assigned_on) == ("P-1", "expert-2", ON)


def test_an_expert_from_the_owners_organisation_may_not_be_assigned() -> None:
    with pytest.raises(InvalidInput) as error:
        assign_evaluator(patent(), "expert-1", "org-a", ON)
    assert field_of(error) == "evaluator_id"


def test_the_assigned_expert_records_a_result_with_a_reason() -> None:
    p = patent()
    assignment = assign_evaluator(p, "expert-1", "org-b", ON)
    evaluation = record_evaluation(
        assignment, p, evaluator_id="expert-1", result="essential", reason=" Claim 1 reads on clause 5.2 ", on=ON
    )
    assert evaluation.result is Essentiality.ESSENTIAL
    assert evaluation.reason == "Claim 1 reads on clause 5.2"
    assert (evaluation.patent_id, evaluation.evaluator_id, evaluation.evaluated_on) == ("P-1", "expert-1", ON)
    negative = record_evaluation(
        assignment, p, evaluator_id="expert-1", result="not_essential", reason="optional feature", on=ON
    )
    assert negative.result is Essentiality.NOT_ESSENTIAL


def test_only_the_assigned_expert_may_record() -> None:
    p = patent()
    assignment = assign_evaluator(p, "expert-1", "org-b", ON)
    with pytest.raises(Forbidden) as error:
        record_evaluation(assignment, p, evaluator_id="expert-2", result="essential", reason="r", on=ON)
    assert field_of(error) == "evaluator_id"


def test_an_expert_whose_organisation_now_owns_the_patent_may_not_record() -> None:
    assignment = assign_evaluator(patent(), "expert-1", "org-b", ON)
    transferred = patent(owner_id="org-b")
    with pytest.raises(Forbidden) as error:
        record_evaluation(assignment, transferred, evaluator_id="expert-1", result="essential", reason="r", on=ON)
    assert field_of(error) == "evaluator_id"


@pytest.mark.parametrize(
    ("result", "reason", "field"),
    [("maybe", "r", "result"), ("essential", "   ", "reason"), ("not_essential", "", "reason")],
)
def test_an_evaluation_needs_a_known_result_and_a_written_reason(result: str, reason: str, field: str) -> None:
    p = patent()
    assignment = assign_evaluator(p, "expert-1", None, ON)
    with pytest.raises(InvalidInput) as error:
        record_evaluation(assignment, p, evaluator_id="expert-1", result=result, reason=reason, on=ON)
    assert field_of(error) == field


def test_an_assignment_is_for_one_patent() -> None:
    assignment = assign_evaluator(patent(), "expert-1", None, ON)
    with pytest.raises(InvalidInput) as error:
        record_evaluation(assignment, patent(id="P-2"), evaluator_id="expert-1", result="essential", reason="r", on=ON)
    assert field_of(error) == "patent_id"


# --- Property -----------------------------------------------------------------------------------


@given(
    office=st.sampled_from([o for o in PatentOffice if o not in (PatentOffice.EP, PatentOffice.WO)]),
    on=st.dates(min_value=date(2015, 1, 1), max_value=date(2045, 1, 1)),
)
def test_a_national_patent_is_in_force_in_its_country_exactly_when_it_is_in_force(
    office: PatentOffice, on: date
) -> None:
    p = patent(office=office)
    assert p.in_force_in(NATIONAL_OFFICE_COUNTRY[office], on) == p.in_force_on(on) == (GRANT <= on < EXPIRY)
    assert len(p.countries_in_force(on)) == (1 if p.in_force_on(on) else 0)


def test_the_contributed_event_carries_what_the_registers_statistics_need() -> None:
    event = contributed(ep({"FR", "DE"}))
    assert (event.title, event.segment, event.status, event.grant_date, event.validated_in) == (
        "LED epitaxial wafer",
        "epitaxy",
        "granted",
        GRANT,
        ("DE", "FR"),
    )
