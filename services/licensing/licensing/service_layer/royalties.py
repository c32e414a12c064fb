"""Use cases of royalties: publish rates, file reports, record payments, distribute.

A licensee (a member or an outside licensee) files for its own organisation; staff see
and settle everything; a licensor sees its own distribution statements.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from alliance_common.auth import Principal, Role, require_roles
from alliance_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from alliance_common.mongo import Document
from alliance_common.outbox import AlreadyExists, ConcurrencyConflict
from alliance_common.pagination import page_of_children, parent_from
from licensing.adapters.pool_repository import PoolRepository
from licensing.adapters.repository import LicenceRepository
from licensing.adapters.royalty_repository import GroupRepository, RoyaltyRepository
from licensing.domain.accounts import FiledReport, RoyaltyAccount
from licensing.domain.distribution import distribute
from licensing.domain.filings import LicenceFiling, RoyaltyKind
from licensing.domain.groups import LicenseeGroup
from licensing.domain.model import Licence
from licensing.domain.patents import Patent, PatentIndex, check_country
from licensing.domain.pool import Programme
from licensing.domain.royalties import Period, RateSchedule, ReportLine, RoyaltyReport


def utcnow() -> datetime:
    return datetime.now(UTC)


class RoyaltyService:
    def __init__(
        self,
        pool: PoolRepository,
        licences: LicenceRepository,
        repo: RoyaltyRepository,
        groups: GroupRepository,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.pool = pool
        self.licences = licences
        self.repo = repo
        self.groups = groups
        self.clock = clock
        self._indexes: dict[str, PatentIndex] = {}  # per programme: its listed patents, indexed

    async def publish_schedule(
        self,
        programme_id: str,
        schedule: RateSchedule,
        admin_fee_percent: Decimal,
        late_interest_percent: Decimal,
        principal: Principal,
    ) -> Programme:
        require_roles(principal, Role.SECRETARIAT)
        programme = await self._programme(programme_id)
        programme.publish_schedule(schedule, admin_fee_percent, late_interest_percent)
        await self.pool.save_programme(programme)
        return programme

    async def file(
        self,
        programme_id: str,
        period: Period,
        lines: list[ReportLine],
        principal: Principal,
        filed_on: date | None = None,
        filed_by: str | None = None,
    ) -> tuple[RoyaltyAccount, FiledReport]:
        """A licensee files its own report (today). The secretariat records a report filed earlier
        (imported history) for the organisation ``filed_by`` and gives its filing date ``filed_on``."""
        org = self._filer(principal, filed_on, filed_by)
        programme = await self._programme(programme_id)
        if programme.schedule is None:
            raise Conflict("this programme has no published rate schedule yet")
        patents = self._indexed(programme_id, await self.pool.listed_patents(programme_id))
        # A member in good standing holds the internal cross-licence: that is what earns the discount.
        cross = await self.licences.get(Licence.cross_licence_id(org))
        member = cross is not None and cross.in_force
        group = await self.groups.group_of(org)
        # A subsidiary sells under its own licence or under its parent's.
        signed = await self.licences.get(Licence.programme_licence_id(programme_id, org))
        if signed is None and group != org:
            signed = await self.licences.get(Licence.programme_licence_id(programme_id, group))
        if signed is None and cross is None:
            raise Forbidden("you hold no licence to this programme: outside licensees sign one first")
        if signed is not None:
            for i, line in enumerate(lines):
                if not signed.covers_sale_in(line.country_of_sale):
                    raise InvalidInput(
                        f"line {i + 1}: {line.country_of_sale} is outside the licensed territory",
                        field="country_of_sale",
                    )
        # Free units, tiers and the cap count per group: one account per programme and group.
        report = RoyaltyReport(group, period, tuple(lines))
        account_id = RoyaltyAccount.id_for(programme_id, group)
        # One report per account and period, so this names it and finds its account by key.
        report_id = f"{account_id}~{period}"
        for _ in range(10):  # two filings for one account at once: the loser re-reads and refiles
            account = await self.repo.account(account_id) or RoyaltyAccount(account_id, programme_id, group)
            now = self.clock()
            filed = account.file(
                report_id,
                report,
                programme.schedule,
                patents,
                member_in_good_standing=member,
                today=now.date(),
                filed_by=org,
                filed_on=filed_on,
                entered_by=principal.subject,
                entered_at=now,
            )
            try:
                await self.repo.save_account(account)
                return account, filed
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict(f"account {account_id} kept changing; try again")

    @staticmethod
    def _filer(principal: Principal, filed_on: date | None, filed_by: str | None) -> str:
        """The organisation a report is filed for; only the secretariat names it and backdates it."""
        if principal.has_any(Role.SECRETARIAT):
            if not filed_by:
                raise InvalidInput("name the organisation whose report the secretariat records", field="filed_by")
            return filed_by
        for name, value in (("filed_on", filed_on), ("filed_by", filed_by)):
            if value is not None:
                raise Forbidden(f"only the secretariat gives {name} (when recording earlier reports)", field=name)
        require_roles(principal, Role.MEMBER_ADMIN, Role.MEMBER_STAFF, Role.LICENSEE)
        if not principal.org_id:
            raise Forbidden("your account is not linked to a licensee organisation")
        return principal.org_id

    def _indexed(self, programme_id: str, patents: list[Patent]) -> PatentIndex:
        """The programme's listed patents, indexed; the index (and its memo) is kept while they are unchanged."""
        index = self._indexes.get(programme_id)
        if index is None or index.patents != tuple(patents):
            index = self._indexes[programme_id] = PatentIndex(patents)
        return index

    async def sign_licence(
        self,
        programme_id: str,
        licensee_id: str,
        licensee_name: str,
        start_date: date,
        territory: tuple[str, ...],
        principal: Principal,
        term_until: date | None = None,
        royalty_kind: RoyaltyKind = RoyaltyKind.RUNNING_ROYALTY_PER_UNIT,
    ) -> Licence:
        """Sign a programme licence; its contract's filing record opens with it (``domain.filings``):
        the programme's listed patents in force from ``start_date``, their holders named as their
        admission named them."""
        require_roles(principal, Role.SECRETARIAT)
        await self._programme(programme_id)
        for country in territory:
            check_country(country, "territory")
        now = self.clock()
        listed = await self.pool.listed_patents(programme_id)
        filing = LicenceFiling.open(
            signed_on=now.date(),
            effective_on=start_date,
            listed=listed,
            names=await self.licences.member_names([p.owner_id for p in listed]),
            territory=territory,
            term_until=term_until,
            royalty_kind=royalty_kind,
        )
        licence = Licence.sign_programme_licence(
            programme_id=programme_id,
            licensee_id=licensee_id,
            licensee_name=licensee_name,
            start_date=start_date,
            territory=territory,
            now=now,
            by=principal.subject,
            filing=filing,
        )
        try:
            await self.licences.save(licence)
        except AlreadyExists as exc:
            raise Conflict("this licensee holds a licence to this programme already", field="licensee_id") from exc
        return licence

    async def add_subsidiary(
        self,
        parent_id: str,
        parent_name: str,
        org_id: str,
        name: str,
        ownership_percent: Decimal,
        since: date,
        principal: Principal,
    ) -> LicenseeGroup:
        """Record that ``parent_id`` controls ``org_id`` (secretariat)."""
        require_roles(principal, Role.SECRETARIAT)
        if await self.groups.parent_holding(org_id) not in (None, parent_id):
            raise Conflict(f"{org_id} is a subsidiary in another group already", field="org_id")
        if await self.groups.group_of(parent_id) != parent_id:
            raise Conflict(f"{parent_id} is itself a subsidiary: record the group under its parent", field="parent_id")
        for _ in range(5):
            group = await self.groups.get(parent_id) or LicenseeGroup(parent_id, parent_name)
            group.add(org_id, name, ownership_percent, since)
            try:
                await self.groups.save(group)
                return group
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict("the group kept changing; try again")

    async def group(self, parent_id: str, principal: Principal) -> LicenseeGroup:
        group = await self.groups.get(parent_id)
        if group is None or not (principal.is_secretariat or principal.org_id in group.members()):
            raise NotFound(f"licensee group {parent_id} not found")
        return group

    async def pay(
        self, report_id: str, amount: Decimal, received_on: date, principal: Principal, key: str | None = None
    ) -> FiledReport:
        require_roles(principal, Role.SECRETARIAT)
        now = self.clock()
        if received_on > now.date():
            raise Conflict("a payment cannot be received in the future", field="received_on")
        for _ in range(10):
            account = await self._account_of(report_id)
            programme = await self._programme(account.programme_id)
            if key and any(p.key == key for p in account.report(report_id).payments):
                return account.report(report_id)  # a retried request: recorded already
            account.pay(
                report_id,
                amount,
                received_on,
                programme.late_interest_percent,
                key,
                entered_by=principal.subject,
                entered_at=now,
            )
            try:
                await self.repo.save_account(account)
                return account.report(report_id)
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict("the account kept changing; try again")

    async def reports_for(
        self, principal: Principal, programme_id: str | None, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[tuple[RoyaltyAccount, FiledReport]], str | None]:
        """A group's parent sees all its group's reports; a subsidiary those it filed; the secretariat
        all (not the council: a licensee's sales are no other company's business)."""
        org = principal.org_id or ""
        every = principal.is_secretariat
        accounts = await self.repo.accounts_from(
            parent_from(cursor), limit + 1, programme_id=programme_id, filed_by=None if every else org
        )
        parents = [
            (a.id, [(r.id, (a, r)) for r in a.reports if every or org in (a.licensee_id, r.filed_by)]) for a in accounts
        ]
        return page_of_children(parents, cursor, limit)

    async def report_for(self, report_id: str, principal: Principal) -> tuple[RoyaltyAccount, FiledReport]:
        account = await self._account_of(report_id)
        report = account.report(report_id)
        if not (principal.may_act_for(account.licensee_id) or principal.may_act_for(report.filed_by)):
            raise NotFound(f"report {report_id} not found")
        return account, report

    async def distribute(self, programme_id: str, period: Period, principal: Principal) -> tuple[str, Document]:
        """Share the period's collected royalties (reports paid in full) among the licensors."""
        require_roles(principal, Role.SECRETARIAT)
        programme = await self._programme(programme_id)
        if not period.has_ended(self.clock().date()):
            raise Conflict(f"{period} has not ended yet", field="period")
        accounts = await self.repo.accounts_reporting(programme_id, period)
        lines = [c for a in accounts for r in a.reports if r.period == period and r.settled for c in r.collected]
        if not lines:
            raise Conflict(f"nothing was collected for {period} yet", field="period")
        patents = self._indexed(programme_id, await self.pool.listed_patents(programme_id))
        result = distribute(period, lines, patents, admin_fee_percent=programme.admin_fee_percent)
        distribution_id = await self.repo.add_distribution(programme_id, result)
        stored = await self.repo.distribution(distribution_id)
        assert stored is not None  # written just above
        return distribution_id, stored

    async def statements_for(
        self, principal: Principal, programme_id: str | None, cursor: str | None = None, limit: int = 50
    ) -> list[Document]:
        """Distributions: the secretariat sees every statement with its lines; a licensor its own
        share (amount, exact fraction, rounding) and the pool's published aggregates (collected,
        administration fee, distributable), without the lines: each line is a licensee's sale
        (its reference, countries and amount), another company's business. The council is no
        licensor's auditor: as any other organisation, it sees its own statement only."""
        secretariat = principal.is_secretariat
        licensor = None if secretariat else principal.org_id or ""
        docs = await self.repo.distributions_for(programme_id, licensor, cursor, limit, lines=secretariat)
        if not secretariat:
            for doc in docs:
                doc["statements"] = [
                    {**s, "lines": []} for s in doc["statements"] if s["licensor_id"] == principal.org_id
                ]
        return docs

    async def _programme(self, programme_id: str) -> Programme:
        programme = await self.pool.programme(programme_id)
        if programme is None:
            raise NotFound(f"programme {programme_id} not found")
        return programme

    async def _account_of(self, report_id: str) -> RoyaltyAccount:
        account_id, sep, _ = report_id.rpartition("~")
        account = await self.repo.account(account_id) if sep else None
        if account is None or not any(r.id == report_id for r in account.reports):
            raise NotFound(f"report {report_id} not found")
        return account
