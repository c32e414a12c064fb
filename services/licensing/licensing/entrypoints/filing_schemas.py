"""HTTP bodies of licence-contract filing records."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from alliance_common.problems import RequestModel
from licensing.domain import limits
from licensing.domain.filings import FilingStatus, LicensedPatent, Licensor, RoyaltyKind
from licensing.domain.model import Licence

Day = Annotated[date, Field(ge=limits.EARLIEST_DAY, le=limits.LATEST_DAY)]


class LicensorPublic(BaseModel):
    org_id: str
    name: str | None = Field(description="As the member's admission named it (null: not known to licensing).")
    patents: int = Field(description="How many of the licensed patents it holds.")

    @classmethod
    def of(cls, licensor: Licensor) -> LicensorPublic:
        return cls(org_id=licensor.org_id, name=licensor.name, patents=licensor.patents)


class LicensedPatentPublic(BaseModel):
    patent_id: str
    office: str
    number: str
    title: str
    holder_id: str
    expiry_date: date

    @classmethod
    def of(cls, p: LicensedPatent) -> LicensedPatentPublic:
        return cls(
            patent_id=p.patent_id,
            office=p.office,
            number=p.number,
            title=p.title,
            holder_id=p.owner_id,
            expiry_date=p.expiry_date,
        )


class LicenseePublic(BaseModel):
    org_id: str
    name: str


class TermPublic(BaseModel):
    starts_on: date
    ends_on: date | None = Field(
        description="The contract's last day, or the expiry of the last licensed patent (null: none yet)."
    )


class LicenceFilingPublic(BaseModel):
    """A licence contract's filing record with the patent office (CNIPA: within three months of taking effect)."""

    licence_id: str
    programme: str
    licence_type: str = Field("non_exclusive", description="Pool licences are always non-exclusive (ordinary).")
    licensors: list[LicensorPublic]
    licensee: LicenseePublic
    patents: list[LicensedPatentPublic]
    territory: list[str] = Field(description="Countries of sale covered; empty: worldwide.")
    term: TermPublic
    royalty_kind: RoyaltyKind
    signed_on: date
    effective_on: date
    filing_deadline: date = Field(description="Effective date + 3 calendar months; filing on this day is in time.")
    status: FilingStatus = Field(description="Computed from today: pending, filed, or overdue (past the deadline).")
    days_left: int | None = Field(description="Days to the deadline (negative once overdue); null once filed.")
    filing_number: str | None
    filed_on: date | None
    filed_late: bool | None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "licence_id": "PL-PRG-8f14e45f-09a5c2b5",
                    "programme": "PRG-8f14e45f-ceea-467f-a0e6-3c1d2b5a9e70",
                    "licence_type": "non_exclusive",
                    "licensors": [
                        {"org_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10", "name": "深圳华星光电有限公司", "patents": 1}
                    ],
                    "licensee": {
                        "org_id": "09a5c2b5-b9b1-491d-964a-a8e6cf562ca7",
                        "name": "Shanghai Weiguang Precision Equipment Co., Ltd.",
                    },
                    "patents": [
                        {
                            "patent_id": "3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c",
                            "office": "CN",
                            "number": "CN102354789B",
                            "title": "GaN-based LED epitaxial structure with a superlattice stress-relief layer",
                            "holder_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                            "expiry_date": "2031-05-11",
                        }
                    ],
                    "territory": ["CN", "VN"],
                    "term": {"starts_on": "2027-01-01", "ends_on": "2031-05-10"},
                    "royalty_kind": "running_royalty_per_unit",
                    "signed_on": "2026-12-15",
                    "effective_on": "2027-01-01",
                    "filing_deadline": "2027-04-01",
                    "status": "filed",
                    "days_left": None,
                    "filing_number": "2027990000123",
                    "filed_on": "2027-02-20",
                    "filed_late": False,
                }
            ]
        }
    }

    @classmethod
    def of(cls, licence: Licence, today: date) -> LicenceFilingPublic:
        filing = licence.filing
        assert filing is not None  # the use cases return only licences with a record
        return cls(
            licence_id=licence.id,
            programme=licence.programme,
            licence_type="non_exclusive",
            licensors=[LicensorPublic.of(x) for x in filing.licensors],
            licensee=LicenseePublic(org_id=licence.licensee_id, name=licence.licensee_name),
            patents=[LicensedPatentPublic.of(p) for p in filing.patents],
            territory=list(filing.territory),
            term=TermPublic(starts_on=filing.effective_on, ends_on=filing.term_until),
            royalty_kind=filing.royalty_kind,
            signed_on=filing.signed_on,
            effective_on=filing.effective_on,
            filing_deadline=filing.deadline,
            status=filing.status(today),
            days_left=filing.days_left(today),
            filing_number=filing.filing_number,
            filed_on=filing.filed_on,
            filed_late=filing.filed_late,
        )


class FilingIn(RequestModel):
    filing_number: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=limits.FILING_NUMBER_MAX)
    ] = Field(description="The patent office's filing number of the contract.")
    filed_on: Day = Field(description="The day it was filed (not in the future, not before the licence was signed).")

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {"examples": [{"filing_number": "2027990000123", "filed_on": "2027-02-20"}]},
    }
