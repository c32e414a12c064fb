"""Open data: public datasets folded from archived events, and their catalogue. Plain Python, no I/O.

Four datasets, each a ``Table`` (JSON and CSV) under the same licence:
- ``standards``: the alliance's published standards (number, titles, dates, scope, drafting
  organisations, its current stage: published, filed, under review, confirmed, revised, withdrawn);
- ``essential-patents``: each pool programme's list of patents evaluated essential (office,
  number, title, holder, whether in force today);
- ``members``: the member directory (name, tier, region, segments, member since);
- ``training-calendar``: the training sessions (title, audience, format, dates, place, prices).

What is public is chosen column by column here, never "everything but": a dataset only ever holds
the fields listed in its columns, read from the events named in its fold. Nothing private is read
into them: no contact, person, e-mail, credit code, membership number, dues, royalties, sales,
votes, ballots, evaluators or the experts' reasons. ``PRIVATE_FIELDS`` lists the payload fields
that must never be published; a test scans every dataset's output for their values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from integration.domain.archive import ArchivedEvent
from integration.domain.folding import (
    ADMITTED,
    EXPELLED,
    LEGAL_STATUS_CHANGED,
    PATENT_CONTRIBUTED,
    PATENT_EVALUATED,
    PROGRAMME_CREATED,
    SESSION_SCHEDULED,
    STAGE_CHANGED,
    STANDARD_PUBLISHED,
    WITHDRAWN,
    Fold,
    Handler,
    Period,
    day_of,
    money,
)
from integration.domain.tables import Column, ColumnType, Table

LICENCE = {
    "name": "CC BY 4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "url": "https://creativecommons.org/licenses/by/4.0/",
}
PUBLISHER = "The alliance's secretariat"
SEPARATOR = "; "  # between the items of a list in one cell (segments, drafting organisations)

# Payload fields whose values are private: never in any dataset (the test of this module checks it).
PRIVATE_FIELDS = frozenset(
    {
        "contact_name",
        "contact_email",
        "applicant",
        "subject",
        "email",
        "attendee_email",
        "attendee_name",
        "credit_code",
        "membership_number",
        "invoice_id",
        "amount",
        "credit_applied",
        "outstanding",
        "credit",
        "total",
        "collected",
        "distributed",
        "admin_fee",
        "late_interest",
        "price",
        "cancellation_fee",
        "reason",
        "evaluator_id",
        "verification_code",
        "eligible",
        "participants",
        "organisation_id",
        "licensee_id",
        "report_id",
    }
)


def _names(members: dict[str, str], ids: list[Any]) -> str:
    """Organisations' names by id, for those the archive names (members); others are left out."""
    return SEPARATOR.join(members[str(i)] for i in ids if str(i) in members)


class _Names:
    """Member names by id (from admissions): organisations are public by their names, never by id."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def on_admitted(self, e: ArchivedEvent) -> None:
        self.names[e.data["member_id"]] = e.data.get("name", "")


class StandardsDataset(Fold):
    name = "standards"
    title = "Published standards"
    description = (
        "The alliance's published standards (团体标准): number, title, publication and implementation dates, "
        "scope, drafting organisations and where each stands now (published, filed with the national "
        "group-standard platform, under periodic review, confirmed, revised or withdrawn)."
    )
    columns = (
        Column("number", description="the standard's number, e.g. T/LEDA 001—2026"),
        Column("title", description="its title"),
        Column("published_on", ColumnType.DATE, "publication date"),
        Column("implementation_on", ColumnType.DATE, "the date it takes effect (empty: not stated)"),
        Column("stage", description="published, filed, under_review, confirmed, revised or withdrawn"),
        Column("scope", description="what it covers"),
        Column("drafting_organisations", description=f"member organisations that drafted it ('{SEPARATOR}' between)"),
        Column("revision_of", description="the number of the standard it revises (empty: a new standard)"),
    )

    def __init__(self, period: Period) -> None:
        super().__init__(period)
        self.members = _Names()
        self.published: dict[str, dict[str, Any]] = {}  # project -> the last publication's payload
        self.stage: dict[str, str] = {}

    def handlers(self) -> dict[str, Handler]:
        return {ADMITTED: self.members.on_admitted, STANDARD_PUBLISHED: self.on_published, STAGE_CHANGED: self.on_stage}

    def on_published(self, e: ArchivedEvent) -> None:
        self.published[e.data["project_id"]] = e.data
        self.stage[e.data["project_id"]] = "published"

    def on_stage(self, e: ArchivedEvent) -> None:
        self.stage[e.data["project_id"]] = e.data["to_stage"]

    def tables(self) -> list[Table]:
        rows = []
        for project, d in self.published.items():
            revised = self.published.get(str(d.get("revision_of") or ""), {})
            rows.append(
                (
                    str(d.get("number", "")),
                    str(d.get("title", "")),
                    day_of(d.get("published_on")),
                    day_of(d.get("implementation_on")),
                    self.stage.get(project, "published"),
                    d.get("scope"),
                    _names(self.members.names, list(d.get("drafting_organisations") or ())),
                    revised.get("number"),
                )
            )
        rows.sort(key=lambda r: (r[2] or date.min, r[0]))
        return [Table(self.name, self.title, self.columns, rows)]


class EssentialPatentsDataset(Fold):
    name = "essential-patents"
    title = "Essential patents of each pool programme"
    description = (
        "For each patent pool programme (a pool tied to a standard), the patents that an independent expert "
        "evaluated essential to the standard and that are listed in the programme: office, number, title, "
        "holder, and whether the patent is in force today (expired, invalidated or lapsed patents stay listed "
        "with in_force false)."
    )
    columns = (
        Column("programme_id", description="the pool programme"),
        Column("programme", description="its name"),
        Column("standard", description="the standard whose essential patents it licenses"),
        Column("office", description="the patent office: CN, US, EP, JP, KR, DE, FR, GB, RU, AU, WO"),
        Column("number", description="the patent's number at that office"),
        Column("title", description="the patent's title"),
        Column("holder", description="the member organisation that holds it"),
        Column("evaluated_on", ColumnType.DATE, "the day it was found essential"),
        Column("expiry_date", ColumnType.DATE, "the end of its term"),
        Column("in_force", ColumnType.BOOLEAN, "in force today (granted, not expired, invalidated or lapsed)"),
    )

    def __init__(self, period: Period) -> None:
        super().__init__(period)
        self.members = _Names()
        self.programmes: dict[str, tuple[str, str]] = {}
        self.patents: dict[str, dict[str, Any]] = {}
        self.ended: dict[str, tuple[str | None, date | None]] = {}  # patent -> (status, ended_on)
        self.essential: dict[tuple[str, str], date | None] = {}  # (programme, patent) -> evaluated on

    def handlers(self) -> dict[str, Handler]:
        return {
            ADMITTED: self.members.on_admitted,
            PROGRAMME_CREATED: self.on_programme,
            PATENT_CONTRIBUTED: self.on_contributed,
            LEGAL_STATUS_CHANGED: self.on_legal_status,
            PATENT_EVALUATED: self.on_evaluated,
        }

    def on_programme(self, e: ArchivedEvent) -> None:
        self.programmes[e.data["programme_id"]] = (e.data.get("name", ""), e.data.get("standard_ref", ""))

    def on_contributed(self, e: ArchivedEvent) -> None:
        self.patents[e.data["patent_id"]] = e.data

    def on_legal_status(self, e: ArchivedEvent) -> None:
        self.ended[e.data["patent_id"]] = (e.data.get("status"), day_of(e.data.get("ended_on")))

    def on_evaluated(self, e: ArchivedEvent) -> None:
        key = (e.data["programme_id"], e.data["patent_id"])
        if e.data.get("essential"):
            self.essential[key] = day_of(e.data.get("evaluated_on"))
        else:
            self.essential.pop(key, None)

    def in_force(self, d: dict[str, Any], today: date) -> bool:
        status, ended_on = self.ended.get(str(d.get("patent_id")), (d.get("status"), None))
        grant_date, expiry = day_of(d.get("grant_date")), day_of(d.get("expiry_date"))
        if status == "pending" or (d.get("status") is not None and (grant_date is None or today < grant_date)):
            return False
        if expiry is not None and today >= expiry:
            return False
        return ended_on is None or today < ended_on

    def tables(self) -> list[Table]:
        today = self.period.end
        rows = []
        for (programme, patent), evaluated_on in self.essential.items():
            d = self.patents.get(patent)
            if d is None:
                continue  # a patent the archive does not know: nothing to say about it
            name, standard = self.programmes.get(programme, ("", ""))
            rows.append(
                (
                    programme,
                    name,
                    standard,
                    str(d.get("office", "")),
                    str(d.get("number", "")),
                    d.get("title"),
                    self.members.names.get(str(d.get("owner_id"))),
                    evaluated_on,
                    day_of(d.get("expiry_date")),
                    self.in_force(d, today),
                )
            )
        rows.sort(key=lambda r: (r[0], r[3], r[4]))
        return [Table(self.name, self.title, self.columns, rows)]


class MembersDataset(Fold):
    name = "members"
    title = "Member directory"
    description = (
        "The alliance's member organisations: name, tier, region, industry-chain segments and the date "
        "membership began. Organisations that withdrew or were expelled are no longer listed."
    )
    columns = (
        Column("name", description="the organisation's name"),
        Column("tier", description="council_member, ordinary_member or observer"),
        Column("region", description="ISO 3166-2 region code, e.g. CN-FJ"),
        Column("segments", description=f"industry-chain segments ('{SEPARATOR}' between)"),
        Column("member_since", ColumnType.DATE, "the first day of its membership"),
    )

    def __init__(self, period: Period) -> None:
        super().__init__(period)
        self.members: dict[str, tuple[str, str, str, str, date | None]] = {}

    def handlers(self) -> dict[str, Handler]:
        return {ADMITTED: self.on_admitted, WITHDRAWN: self.on_left, EXPELLED: self.on_left}

    def on_admitted(self, e: ArchivedEvent) -> None:
        d = e.data
        since = day_of(d.get("start_date")) or day_of(d.get("admitted_at"))
        segments = SEPARATOR.join(str(s) for s in d.get("segments") or ())
        self.members[d["member_id"]] = (d.get("name", ""), d.get("tier", ""), d.get("region", ""), segments, since)

    def on_left(self, e: ArchivedEvent) -> None:
        self.members.pop(e.data["member_id"], None)

    def tables(self) -> list[Table]:
        rows = sorted(self.members.values(), key=lambda r: (r[0], r[4] or date.min))
        return [Table(self.name, self.title, self.columns, rows)]


class TrainingCalendarDataset(Fold):
    name = "training-calendar"
    title = "Training calendar"
    description = (
        "The alliance's training sessions, past and scheduled: title, audience, format, start and end, "
        "venue or online, places offered, and the member and non-member prices."
    )
    columns = (
        Column("session_id", description="the session (as in the training API)"),
        Column("title", description="its title"),
        Column("audience", description="who it is for"),
        Column("format", description="salon, seminar or course"),
        Column("starts_at", ColumnType.DATETIME, "start (UTC)"),
        Column("ends_at", ColumnType.DATETIME, "end (UTC)"),
        Column("venue", description="where it takes place (empty: online only)"),
        Column("online", ColumnType.BOOLEAN, "also (or only) online"),
        Column("capacity", ColumnType.INTEGER, "places offered"),
        Column("member_price", ColumnType.DECIMAL, "price for members in good standing"),
        Column("non_member_price", ColumnType.DECIMAL, "price for everyone else"),
        Column("currency", description="ISO 4217"),
    )

    def __init__(self, period: Period) -> None:
        super().__init__(period)
        self.sessions: dict[str, tuple[Any, ...]] = {}

    def handlers(self) -> dict[str, Handler]:
        return {SESSION_SCHEDULED: self.on_scheduled}

    def on_scheduled(self, e: ArchivedEvent) -> None:
        d = e.data
        self.sessions[d["session_id"]] = (
            d["session_id"],
            d.get("title", ""),
            d.get("audience", ""),
            d.get("format"),
            _moment(d.get("starts_at")),
            _moment(d.get("ends_at")),
            d.get("venue"),
            d.get("online"),
            int(d.get("capacity") or 0),
            money(d.get("member_price")),
            money(d.get("non_member_price")),
            d.get("currency", ""),
        )

    def tables(self) -> list[Table]:
        rows = sorted(self.sessions.values(), key=lambda r: (r[4] is None, r[4] or EPOCH, r[0]))
        return [Table(self.name, self.title, self.columns, rows)]


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DatasetFold = (
    type[StandardsDataset] | type[EssentialPatentsDataset] | type[MembersDataset] | type[TrainingCalendarDataset]
)

DATASETS: dict[str, DatasetFold] = {
    d.name: d for d in (StandardsDataset, EssentialPatentsDataset, MembersDataset, TrainingCalendarDataset)
}
UPDATE_FREQUENCY = "continuous"  # each request reflects every event archived so far


def catalogue(base_url: str) -> dict[str, Any]:
    """The catalogue: what each dataset holds, under which licence, how often it changes, where to get it."""
    return {
        "title": "The alliance's open data",
        "publisher": PUBLISHER,
        "licence": LICENCE,
        "datasets": [
            {
                "name": name,
                "title": d.title,
                "description": d.description,
                "licence": LICENCE,
                "update_frequency": UPDATE_FREQUENCY,
                "update_frequency_description": "updated continuously: every request reflects the alliance's "
                "events archived so far; the ETag changes when the dataset may have changed",
                "fields": [c.as_json() for c in d.columns],
                "distributions": [
                    {"format": "json", "media_type": "application/json", "url": f"{base_url}/{name}"},
                    {"format": "csv", "media_type": "text/csv", "url": f"{base_url}/{name}?format=csv"},
                ],
            }
            for name, d in DATASETS.items()
        ],
    }
