"""HTTP bodies of royalties: rate schedules, reports, payments, distributions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from alliance_common.problems import RequestModel
from licensing.domain import limits
from licensing.domain.accounts import FiledReport, RoyaltyAccount
from licensing.domain.filings import RoyaltyKind
from licensing.domain.groups import LicenseeGroup

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Rate = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=4, description="Per unit.")]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
PeriodText = Annotated[str, StringConstraints(pattern=r"^\d{4}-Q[1-4]$")]
Day = Annotated[date, Field(ge=limits.EARLIEST_DAY, le=limits.LATEST_DAY)]  # 1900-01-01 to 2199-12-31


class TierIn(RequestModel):
    up_to: int | None = Field(
        None, ge=1, le=limits.UNITS_MAX, description="Cumulative units in the year this tier runs to; last: none."
    )
    standard_rate: Rate
    compliant_rate: Rate


class ScheduleIn(RequestModel):
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    categories: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=limits.CATEGORY_MAX)],
        Annotated[list[TierIn], Field(min_length=1, max_length=limits.TIERS_MAX)],
    ] = Field(min_length=1, max_length=limits.CATEGORIES_MAX)
    free_units_per_year: int = Field(0, ge=0, le=limits.UNITS_MAX)
    annual_cap: Money | None = None
    regional_markets: list[Country] = Field(default_factory=list, max_length=limits.COUNTRIES_MAX)
    regional_discount_percent: Percent = Decimal(0)
    member_discount_percent: Percent = Decimal(0)
    admin_fee_percent: Percent = Decimal(10)
    late_interest_percent: Percent = Decimal(6)

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "currency": "USD",
                    "categories": {
                        "led_package": [
                            {"up_to": 1000000, "standard_rate": "0.0100", "compliant_rate": "0.0080"},
                            {"standard_rate": "0.0060", "compliant_rate": "0.0050"},
                        ],
                        "luminaire": [{"standard_rate": "0.2000", "compliant_rate": "0.1600"}],
                    },
                    "free_units_per_year": 10000,
                    "annual_cap": "2000000.00",
                    "regional_markets": ["VN", "ID"],
                    "regional_discount_percent": "30",
                    "member_discount_percent": "20",
                    "admin_fee_percent": "10",
                }
            ]
        },
    }


class ReportLineIn(RequestModel):
    product_category: Annotated[str, StringConstraints(min_length=1, max_length=limits.CATEGORY_MAX)]
    units: int = Field(ge=0, le=limits.UNITS_MAX)
    country_of_manufacture: Country
    country_of_sale: Country
    period: PeriodText | None = Field(
        None, description="An earlier quarter: a back-royalty line. Default: the report's."
    )
    sold_on: Day | None = None


class ReportIn(RequestModel):
    period: PeriodText
    lines: list[ReportLineIn] = Field(min_length=1, max_length=limits.REPORT_LINES_MAX)
    filed_on: Day | None = Field(
        None,
        description="Secretariat only (403 for anyone else), when recording a report filed earlier (imported "
        "history): the day it was filed. Compliance (the compliant rate), the late-filing flag and the due date "
        "count from it. Not in the future, after the quarter's last day, and not before the filing date of a "
        "report already recorded for the account (history is entered in filing order). Default: today.",
    )
    filed_by: Annotated[str, StringConstraints(min_length=1, max_length=limits.ID_MAX)] | None = Field(
        None,
        description="Secretariat only, and then required: the organisation whose report is recorded. "
        "A licensee always files for its own organisation.",
    )

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "period": "2025-Q1",
                    "lines": [
                        {
                            "product_category": "led_package",
                            "units": 120000,
                            "country_of_manufacture": "CN",
                            "country_of_sale": "US",
                        }
                    ],
                },
                {
                    "period": "2024-Q3",
                    "filed_on": "2024-10-21",
                    "filed_by": "org-4711",
                    "lines": [
                        {
                            "product_category": "led_package",
                            "units": 80000,
                            "country_of_manufacture": "CN",
                            "country_of_sale": "DE",
                            "sold_on": "2024-08-14",
                        }
                    ],
                },
            ]
        },
    }


class StepPublic(BaseModel):
    rule: str
    detail: str
    amount: Decimal


class ReportLinePublic(BaseModel):
    index: int
    product_category: str
    units: int
    country_of_manufacture: str
    country_of_sale: str
    period: str
    amount: Decimal
    covered_by: list[str]
    steps: list[StepPublic]


class ReportHistoryPublic(BaseModel):
    at: datetime = Field(description="When it was entered.")
    action: str = Field(description="filed, recorded (an earlier report entered by the secretariat), payment")
    by: str = Field(description="The user who entered it.")
    detail: str


class ReportPublic(BaseModel):
    id: str
    programme_id: str
    licensee_id: str = Field(description="The licensee group (its parent company) the report counts for.")
    filed_by: str
    period: str
    filed_on: date
    filed_late: bool
    total: Decimal
    due_on: date
    late_interest: Decimal
    paid: Decimal
    outstanding: Decimal
    settled: bool
    lines: list[ReportLinePublic]
    history: list[ReportHistoryPublic]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "b1f2e3d4-c5b6-4a79-8e1d-2c3b4a5f6e7d",
                    "programme_id": "4c8e2a10-3b5d-4f7e-9a1c-6d2b8e0f3a57",
                    "licensee_id": "09a5c2b5-b9b1-491d-964a-a8e6cf562ca7",
                    "filed_by": "09a5c2b5-b9b1-491d-964a-a8e6cf562ca7",
                    "period": "2025-Q1",
                    "filed_on": "2025-04-18",
                    "filed_late": False,
                    "total": "3600.00",
                    "due_on": "2025-05-18",
                    "late_interest": "0.00",
                    "paid": "3600.00",
                    "outstanding": "0.00",
                    "settled": True,
                    "lines": [
                        {
                            "index": 0,
                            "product_category": "led_package",
                            "units": 120000,
                            "country_of_manufacture": "CN",
                            "country_of_sale": "US",
                            "period": "2025-Q1",
                            "amount": "3600.00",
                            "covered_by": ["02352dbc-70ef-48d4-b44f-56bbf4cab507"],
                            "steps": [{"rule": "tier", "detail": "120000 units at 0.03 per unit", "amount": "3600.00"}],
                        }
                    ],
                    "history": [
                        {
                            "at": "2025-04-18T06:12:40Z",
                            "action": "filed",
                            "by": "zhang.wei@weiguang.example",
                            "detail": "2025-Q1, 1 line",
                        },
                        {
                            "at": "2025-05-06T02:30:00Z",
                            "action": "payment",
                            "by": "secretariat.liu@alliance.example",
                            "detail": "3600.00 received 2025-05-06",
                        },
                    ],
                }
            ]
        }
    }

    @classmethod
    def of(cls, account: RoyaltyAccount, r: FiledReport) -> ReportPublic:
        return cls(
            id=r.id,
            programme_id=account.programme_id,
            licensee_id=account.licensee_id,
            filed_by=r.filed_by,
            period=str(r.period),
            filed_on=r.filed_on,
            filed_late=r.filed_late,
            total=r.total,
            due_on=r.due_on,
            late_interest=r.interest,
            paid=r.paid,
            outstanding=r.outstanding,
            settled=r.settled,
            lines=[
                ReportLinePublic(
                    index=x.index,
                    product_category=x.product_category,
                    units=x.units,
                    country_of_manufacture=x.country_of_manufacture,
                    country_of_sale=x.country_of_sale,
                    period=x.period,
                    amount=x.amount,
                    covered_by=list(x.covered_by),
                    steps=[StepPublic(rule=s.rule, detail=s.detail, amount=s.amount) for s in x.steps],
                )
                for x in r.lines
            ],
            history=[ReportHistoryPublic(at=h.at, action=h.action, by=h.by, detail=h.detail) for h in r.history],
        )


class LicenceCreate(RequestModel):
    licensee_id: Annotated[str, StringConstraints(min_length=1, max_length=limits.ID_MAX)]
    licensee_name: Annotated[str, StringConstraints(min_length=2, max_length=limits.NAME_MAX)]
    start_date: Day
    territory: list[Country] = Field(
        default_factory=list,
        max_length=limits.COUNTRIES_MAX,
        description="Countries of sale covered; empty: worldwide.",
    )
    term_until: Day | None = Field(
        None,
        description="The contract's last day; absent: until the last licensed patent expires (the filing "
        "record states it).",
    )
    royalty_kind: RoyaltyKind = Field(
        RoyaltyKind.RUNNING_ROYALTY_PER_UNIT,
        description="How royalties are paid, as the licence-contract filing states it (the pool's schedule is "
        "a running royalty per unit).",
    )

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "licensee_id": "09a5c2b5-b9b1-491d-964a-a8e6cf562ca7",
                    "licensee_name": "Shanghai Weiguang Precision Equipment Co., Ltd.",
                    "start_date": "2027-01-01",
                    "territory": ["CN", "VN"],
                }
            ]
        },
    }


class SubsidiaryIn(RequestModel):
    parent_name: Annotated[str, StringConstraints(min_length=2, max_length=limits.NAME_MAX)]
    name: Annotated[str, StringConstraints(min_length=2, max_length=limits.NAME_MAX)]
    ownership_percent: Annotated[Decimal, Field(gt=0, le=100, decimal_places=2)]
    since: Day

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "parent_name": "Weiguang Holdings Ltd.",
                    "name": "Weiguang Optics (Suzhou) Co., Ltd.",
                    "ownership_percent": "75.00",
                    "since": "2024-03-01",
                }
            ]
        },
    }


class SubsidiaryPublic(BaseModel):
    org_id: str
    name: str
    ownership_percent: Decimal
    since: date


class GroupPublic(BaseModel):
    id: str
    name: str
    subsidiaries: list[SubsidiaryPublic]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "09a5c2b5-b9b1-491d-964a-a8e6cf562ca7",
                    "name": "Weiguang Holdings Ltd.",
                    "subsidiaries": [
                        {
                            "org_id": "2e4f6a8c-0b1d-4e3f-a5b7-c9d1e3f5a7b9",
                            "name": "Weiguang Optics (Suzhou) Co., Ltd.",
                            "ownership_percent": "75.00",
                            "since": "2024-03-01",
                        }
                    ],
                }
            ]
        }
    }

    @classmethod
    def of(cls, g: LicenseeGroup) -> GroupPublic:
        return cls(
            id=g.id,
            name=g.name,
            subsidiaries=[
                SubsidiaryPublic(org_id=s.org_id, name=s.name, ownership_percent=s.ownership_percent, since=s.since)
                for s in g.subsidiaries
            ],
        )


class PaymentIn(RequestModel):
    amount: Money
    received_on: Day = Field(
        description="The day the payment was received (also for history recorded later): not in the future, not "
        "before the report's filing date, and not before a payment already recorded for the report."
    )

    model_config = {
        **RequestModel.model_config,
        "json_schema_extra": {"examples": [{"amount": "436.00", "received_on": "2024-11-15"}]},
    }


class DistributionIn(RequestModel):
    period: PeriodText

    model_config = {**RequestModel.model_config, "json_schema_extra": {"examples": [{"period": "2026-Q3"}]}}


class StatementLinePublic(BaseModel):
    ref: str
    country_of_manufacture: str
    country_of_sale: str
    dated: date
    collected: Decimal
    patent_ids: list[str]
    patents_counted: int
    exact: str = Field(description="The exact share as a fraction n/d, before rounding.")


class StatementPublic(BaseModel):
    licensor_id: str
    amount: Decimal
    exact: str
    floor: Decimal
    extra_cent: bool
    lines: list[StatementLinePublic] = Field(
        description="The licensees' sales lines behind the share: the secretariat's only (a licensor's own "
        "statement has none, since each line is another company's sale)."
    )


class DistributionPublic(BaseModel):
    id: str
    programme_id: str
    period: str
    collected: Decimal
    admin_fee_percent: Decimal
    admin_fee: Decimal
    distributable: Decimal
    statements: list[StatementPublic]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "9c8b7a6f-5e4d-4c3b-a2f1-0e9d8c7b6a5f",
                    "programme_id": "4c8e2a10-3b5d-4f7e-9a1c-6d2b8e0f3a57",
                    "period": "2026-Q3",
                    "collected": "3600.00",
                    "admin_fee_percent": "10.00",
                    "admin_fee": "360.00",
                    "distributable": "3240.00",
                    "statements": [
                        {
                            "licensor_id": "5f0c6a52-8d1e-4d7e-9a4b-2f1f3c9f2b10",
                            "amount": "2160.00",
                            "exact": "2160/1",
                            "floor": "2160.00",
                            "extra_cent": False,
                            "lines": [
                                {
                                    "ref": "b1f2e3d4-c5b6-4a79-8e1d-2c3b4a5f6e7d#0",
                                    "country_of_manufacture": "CN",
                                    "country_of_sale": "US",
                                    "dated": "2026-08-14",
                                    "collected": "3600.00",
                                    "patent_ids": [
                                        "02352dbc-70ef-48d4-b44f-56bbf4cab507",
                                        "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b",
                                    ],
                                    "patents_counted": 3,
                                    "exact": "2160/1",
                                }
                            ],
                        },
                        {
                            "licensor_id": "c3e1f0a4-6b2d-4f8e-a1c7-9d5b2e8f4a61",
                            "amount": "1080.00",
                            "exact": "1080/1",
                            "floor": "1080.00",
                            "extra_cent": False,
                            "lines": [],
                        },
                    ],
                }
            ]
        }
    }

    @classmethod
    def of(cls, doc: dict[str, Any]) -> DistributionPublic:
        return cls.model_validate({**doc, "id": doc["_id"]})
