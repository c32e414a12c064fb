"""Events that concern people, turned into what to tell whom (pure: event in, intents out).

An ``Intent`` names the kind, the audience (one person, or an organisation's people, optionally
only its member admins) and the text in Chinese and English. The service layer resolves the
audience from its directory, applies each person's preferences and sends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from urllib.parse import quote, urlencode

from alliance_common.events import IntegrationEvent
from alliance_contracts.integration import WebhookSubscriptionDisabled
from alliance_contracts.licensing import LicenceFilingOverdue
from alliance_contracts.membership import ApplicationDecided, DuesReminderDue
from alliance_contracts.standards import BallotClosed, BallotOpened, IprCallIssued
from alliance_contracts.training import CertificateIssued, RegistrationStatusChanged
from notifications.domain.model import Kind, Recipient, Text

# Times are written in Beijing time, where the alliance works (UTC+8, no daylight saving), labelled
# as the portal labels them (portal/beijing_time.py).
CST = timezone(timedelta(hours=8), "CST")
MEMBER_ADMIN = "member_admin"
# The secretariat's mailbox as a recipient (its address is the service's setting): one subject, so
# the ledger keeps one notification per event for it however many intents name it.
SECRETARIAT = "secretariat"


@dataclass(frozen=True)
class Person:
    """One person, named by the event itself (an attendee, an applicant)."""

    recipient: Recipient


@dataclass(frozen=True)
class Organisations:
    """The people of these organisations (from the directory); ``roles`` limits them (None: all)."""

    org_ids: tuple[str, ...]
    roles: frozenset[str] | None = None


Audience = Person | Organisations


@dataclass(frozen=True)
class Intent:
    kind: Kind
    audience: Audience
    text: Text


def moment_zh(value: datetime) -> str:
    """A moment in Beijing time, labelled as the portal labels it: ``2026-11-29 10:00（北京时间）``."""
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M") + "（北京时间）"


def moment_en(value: datetime) -> str:
    """``2026-11-29 10:00 (Beijing time, UTC+8)``: the portal's pages write deadlines the same way."""
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M") + " (Beijing time, UTC+8)"


def day(value: date) -> str:
    return value.isoformat()


def intents(event: IntegrationEvent, secretariat: Recipient | None = None) -> list[Intent]:
    """What ``event`` tells whom; empty for an event (or a state) that concerns nobody by mail.
    ``secretariat``: the secretariat's mailbox, for the events it is told of (None: it is not told)."""
    if isinstance(event, LicenceFilingOverdue):
        return licence_filing_overdue(event, secretariat)
    if isinstance(event, WebhookSubscriptionDisabled):
        told = webhook_disabled(event, secretariat)
        return [told] if told else []
    if isinstance(event, DuesReminderDue):
        return [dues_reminder(event)]
    if isinstance(event, ApplicationDecided):
        return [application_decision(event)]
    if isinstance(event, IprCallIssued):
        return [ipr_call(event)] if event.participants else []
    if isinstance(event, BallotOpened):
        return [ballot_opened(event)] if event.eligible else []
    if isinstance(event, BallotClosed):
        return [ballot_closed(event)] if event.eligible else []
    if isinstance(event, RegistrationStatusChanged):
        offer = waiting_list(event)
        return [offer] if offer else []
    if isinstance(event, CertificateIssued):
        return [certificate(event)]
    return []


REMINDER_ZH = {
    "before_lapse": "您的会员资格将于 {end} 到期{days}，请及时缴纳会费以保持良好会籍。",
    "grace": "您的会员资格已于 {end} 到期，现处于宽限期，请尽快缴纳会费。",
    "expired": "您的会员资格已于 {end} 终止，缴纳会费后可恢复。",
}
REMINDER_EN = {
    "before_lapse": "Your membership runs until {end}{days}; pay your dues to stay in good standing.",
    "grace": "Your membership ended on {end} and is in its grace period; please pay your dues soon.",
    "expired": "Your membership expired on {end}; paying your dues restores it.",
}


def dues_reminder(event: DuesReminderDue) -> Intent:
    end = day(event.period_end)
    days_zh = f"（还有 {event.days_before} 天）" if event.days_before is not None else ""
    days_en = f" ({event.days_before} days from now)" if event.days_before is not None else ""
    zh = REMINDER_ZH.get(event.kind, REMINDER_ZH["before_lapse"]).format(end=end, days=days_zh)
    en = REMINDER_EN.get(event.kind, REMINDER_EN["before_lapse"]).format(end=end, days=days_en)
    if event.invoice_id:
        zh += f"\n发票编号：{event.invoice_id}"
        en += f"\nInvoice: {event.invoice_id}"
    return Intent(
        Kind.DUES_REMINDER,
        Organisations((event.member_id,), frozenset({MEMBER_ADMIN})),
        Text("会费提醒", "Dues reminder", zh, en, page="/invoices"),
    )


def application_decision(event: ApplicationDecided) -> Intent:
    reason_zh = f"\n理由：{event.reason}" if event.reason else ""
    reason_en = f"\nReason: {event.reason}" if event.reason else ""
    if event.decision == "admitted":
        text = Text(
            f"入会申请已获批准：{event.name}",
            f"Membership application admitted: {event.name}",
            f"理事会已批准 {event.name} 的入会申请。您现在是该组织的管理员，可以登录门户管理成员与会费。{reason_zh}",
            f"The council admitted {event.name} to the alliance. You administer the organisation on the portal "
            f"(its people and dues).{reason_en}",
        )
    elif event.decision == "changes_requested":
        text = Text(
            f"入会申请需要修改：{event.name}",
            f"Changes requested to the membership application of {event.name}",
            f"秘书处审核了 {event.name} 的入会申请，请按要求修改后重新提交。{reason_zh}",
            f"The secretariat reviewed the application of {event.name} and asks for changes before it goes "
            f"on.{reason_en}",
        )
    else:
        organ_zh = "理事会" if event.decided_by == "council" else "秘书处"
        organ_en = "council" if event.decided_by == "council" else "secretariat"
        text = Text(
            f"入会申请未获批准：{event.name}",
            f"Membership application not admitted: {event.name}",
            f"很遗憾，{organ_zh}未批准 {event.name} 的入会申请。{reason_zh}",
            f"We regret that the {organ_en} did not admit the application of {event.name}.{reason_en}",
        )
    recipient = Recipient(event.applicant, event.contact_email, event.contact_name)
    return Intent(Kind.APPLICATION_DECISION, Person(recipient), replace(text, page="/organisation"))


def ipr_call(event: IprCallIssued) -> Intent:
    stage_zh = "委员会草案" if event.reason == "committee_draft" else "投票前"
    stage_en = "committee draft" if event.reason == "committee_draft" else "pre-ballot"
    draft = f" (draft {event.draft_version})" if event.draft_version is not None else ""
    return Intent(
        Kind.IPR_CALL,
        Organisations(tuple(event.participants)),
        Text(
            f"专利披露征集：{event.title}，截止 {moment_zh(event.deadline)}",
            f"Call for IPR declarations: {event.title}, by {moment_en(event.deadline)}",
            f"标准项目《{event.title}》已发出{stage_zh}专利披露征集{draft}。请贵组织在 {moment_zh(event.deadline)} "
            "之前在门户中披露相关专利或声明不知悉相关专利。",
            f"A {stage_en} call for IPR declarations was issued on \u201c{event.title}\u201d{draft}. Please declare "
            f"your organisation's patents, or answer that it knows of none, by {moment_en(event.deadline)}.",
            page=f"/projects/{quote(event.project_id)}/ipr",
        ),
    )


@dataclass(frozen=True)
class OpenCall:
    """An IPR call whose deadline reminder is still to be sent (kept from the standards events)."""

    key: str  # "<project id>/<call id>"
    event_id: str  # the call's issuing event: the reminder's notifications are keyed on it
    title: str
    deadline: datetime
    remind_at: datetime
    participants: tuple[str, ...]
    answered: frozenset[str]

    @property
    def project_id(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def unanswered(self) -> tuple[str, ...]:
        return tuple(p for p in self.participants if p not in self.answered)


def remind_at(issued_at: datetime, deadline: datetime, before: timedelta) -> datetime | None:
    """When to remind of a call's deadline; None when the whole call is shorter than ``before``."""
    at = deadline - before
    return at if at > issued_at else None


def ipr_deadline_reminder(call: OpenCall) -> Intent:
    return Intent(
        Kind.IPR_CALL,
        Organisations(call.unanswered),
        Text(
            f"专利披露征集即将截止：{call.title}，{moment_zh(call.deadline)}",
            f"IPR call closing: {call.title}, by {moment_en(call.deadline)}",
            f"标准项目《{call.title}》的专利披露征集将于 {moment_zh(call.deadline)} 截止，贵组织尚未答复。"
            "请在门户中披露相关专利或声明不知悉相关专利。",
            f"The call for IPR declarations on \u201c{call.title}\u201d closes on {moment_en(call.deadline)} and your "
            "organisation has not answered yet. Please declare its patents, or answer that it knows of none.",
            page=f"/projects/{quote(call.project_id)}/ipr",
        ),
    )


def ballot_opened(event: BallotOpened) -> Intent:
    return Intent(
        Kind.BALLOT,
        Organisations(tuple(event.eligible)),
        Text(
            f"投票开始：{event.title}（第 {event.ballot} 轮）",
            f"Ballot open: {event.title} (ballot {event.ballot})",
            f"标准项目《{event.title}》第 {event.ballot} 轮投票已开始，截止 {moment_zh(event.closes_at)}。"
            "贵组织有投票资格，请在门户中投票。",
            f"Ballot {event.ballot} on \u201c{event.title}\u201d is open until {moment_en(event.closes_at)}. "
            "Your organisation is eligible to vote on the portal.",
            page=f"/projects/{quote(event.project_id)}/ballot",
        ),
    )


RESULT_ZH = {"approved": "通过", "failed": "未通过", "repeated": "已由新一轮投票取代"}


def ballot_closed(event: BallotClosed) -> Intent:
    result_zh = RESULT_ZH.get(event.result, event.result)
    result_en = "replaced by a new ballot" if event.result == "repeated" else event.result
    return Intent(
        Kind.BALLOT,
        Organisations(tuple(event.eligible)),
        Text(
            f"投票结束：{event.title}（{result_zh}）",
            f"Ballot closed: {event.title} ({result_en})",
            f"标准项目《{event.title}》第 {event.ballot} 轮投票已于 {moment_zh(event.closed_at)} 结束，"
            f"结果：{result_zh}。",
            f"Ballot {event.ballot} on \u201c{event.title}\u201d closed on {moment_en(event.closed_at)}: {result_en}.",
            page=f"/projects/{quote(event.project_id)}",
        ),
    )


def waiting_list(event: RegistrationStatusChanged) -> Intent | None:
    title = event.session_title or event.session_id
    attendee = Person(Recipient(event.attendee_email, event.attendee_email))
    if event.status == "offered" and event.offer_expires_at is not None:
        expires_zh, expires_en = moment_zh(event.offer_expires_at), moment_en(event.offer_expires_at)
        return Intent(
            Kind.WAITING_LIST_OFFER,
            attendee,
            Text(
                f"候补名额：{title}，请在 {expires_zh} 前接受",
                f"A place is offered to you: {title}, accept by {expires_en}",
                f"培训《{title}》有名额空出，现提供给您。请在 {expires_zh} 之前在门户中接受，"
                "逾期名额将转给下一位候补者。",
                f"A place in \u201c{title}\u201d has come free and is offered to you. Accept it on the portal by "
                f"{expires_en}; after that it goes to the next person on the waiting list.",
                page="/registrations",
            ),
        )
    if event.status == "offer_expired":
        return Intent(
            Kind.WAITING_LIST_OFFER,
            attendee,
            Text(
                f"候补名额已过期：{title}",
                f"Your offered place has lapsed: {title}",
                f"您未在期限内接受培训《{title}》的候补名额，该名额已转给下一位候补者。",
                f"The place offered to you in \u201c{title}\u201d was not accepted in time and went to the next "
                "person on the waiting list.",
                page="/registrations",
            ),
        )
    return None


def certificate(event: CertificateIssued) -> Intent:
    title = event.session_title or event.session_id
    return Intent(
        Kind.CERTIFICATE,
        Person(Recipient(event.attendee_email, event.attendee_email, event.attendee_name)),
        Text(
            f"培训证书：{title}",
            f"Your training certificate: {title}",
            f"您已完成培训《{title}》，获得证书（{event.credit_hours} 学时）。证书验证码：{event.verification_code}。",
            f"You completed \u201c{title}\u201d and hold its certificate ({event.credit_hours} credit hours). "
            f"Verification code: {event.verification_code}.",
            page="/certificates?" + urlencode({"code": event.verification_code}),
        ),
    )


def licence_filing_overdue(event: LicenceFilingOverdue, secretariat: Recipient | None) -> list[Intent]:
    """The licensee's administrators (its people, when the directory knows them: a member licensee)
    and the secretariat (which files the contract) are told a licence contract passed its deadline."""
    licensee = event.licensee_name or event.licensee_id
    deadline, effective = day(event.deadline), day(event.effective_on)
    to_licensee = Text(
        f"许可合同备案已逾期：{licensee}（{event.licence_id}）",
        f"Licence contract filing overdue: {licensee} ({event.licence_id})",
        f"专利池许可合同 {event.licence_id}（项目 {event.programme}）自 {effective} 生效，"
        f"应于 {deadline} 前向国家知识产权局备案，至今尚未备案。秘书处将办理备案，如需贵组织提供材料，将与您联系。",
        f"The pool's licence contract {event.licence_id} (programme {event.programme}) took effect on {effective} "
        f"and was due to be filed with the patent office (CNIPA) by {deadline}; it is not filed yet. The "
        "secretariat files it and will ask you for anything it needs.",
        page=f"/licences/{quote(event.licence_id)}",
    )
    told = [
        Intent(Kind.LICENCE_FILING_OVERDUE, Organisations((event.licensee_id,), frozenset({MEMBER_ADMIN})), to_licensee)
    ]
    if secretariat is not None:
        to_secretariat = Text(
            f"许可合同备案已逾期：{licensee}（{event.licence_id}）",
            f"Licence contract filing overdue: {licensee} ({event.licence_id})",
            f"被许可方 {licensee}（{event.licensee_id}）的许可合同 {event.licence_id}（项目 {event.programme}）"
            f"自 {effective} 生效，备案期限 {deadline} 已过，尚未备案。"
            "请向国家知识产权局办理备案，并记录备案号与备案日期"
            f"（POST /api/v1/licensing/licence-filings/{event.licence_id}/filing）。",
            f"Licence contract {event.licence_id} of {licensee} ({event.licensee_id}), programme {event.programme}, "
            f"took effect on {effective}; its filing deadline {deadline} has passed and it is not filed. Please file "
            "it with the patent office (CNIPA) and record the filing number and date "
            f"(POST /api/v1/licensing/licence-filings/{event.licence_id}/filing).",
        )
        told.append(Intent(Kind.LICENCE_FILING_OVERDUE, Person(secretariat), to_secretariat))
    return told


def webhook_disabled(event: WebhookSubscriptionDisabled, secretariat: Recipient | None) -> Intent | None:
    """The owning client's contact (else the secretariat) is told which subscription stopped, why, and
    how to enable it again."""
    if event.contact_email:
        recipient = Recipient(f"agency:{event.owner_client_id}", event.contact_email)
    elif secretariat is not None:
        recipient = secretariat
    else:
        return None
    at_zh, at_en = moment_zh(event.disabled_at), moment_en(event.disabled_at)
    path = event.enable_path or f"/api/v1/integration/webhooks/subscriptions/{event.subscription_id}/enable"
    route = f"POST {path}"
    return Intent(
        Kind.WEBHOOK_DISABLED,
        Person(recipient),
        Text(
            f"Webhook 订阅已停用：{event.subscription_id}",
            f"Webhook subscription disabled: {event.subscription_id}",
            f"机器客户端 {event.owner_client_id} 的 Webhook 订阅 {event.subscription_id}（{event.url}）"
            f"已于 {at_zh} 被平台自动停用。原因：{event.reason}\n\n停用期间的事件仍会保留。"
            f"修复接收端后，请用该客户端的令牌（webhooks:manage）调用 {route} 重新启用；"
            "停用期间的事件可通过该订阅的 replay 补发。",
            f"The webhook subscription {event.subscription_id} of the machine client {event.owner_client_id} "
            f"({event.url}) was disabled by the platform at {at_en}. Why: {event.reason}\n\nNo event is lost "
            f"meanwhile. Once the receiver is fixed, enable it again with the client's token (webhooks:manage): "
            f"{route}; the events of the time it was disabled can be sent again with the subscription's replay.",
        ),
    )
