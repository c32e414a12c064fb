"""Events -> what to tell whom (pure), in both languages, and the notification's identity."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from alliance_common.events import IntegrationEvent
from alliance_contracts.integration import WebhookSubscriptionDisabled
from alliance_contracts.licensing import LicenceFilingOverdue
from alliance_contracts.membership import ApplicationDecided, DuesReminderDue, MemberAdmitted
from alliance_contracts.standards import BallotClosed, BallotOpened, IprCallIssued
from alliance_contracts.training import CertificateIssued, RegistrationStatusChanged
from notifications.domain.messages import OpenCall, Organisations, Person, intents, ipr_deadline_reminder
from notifications.domain.model import Kind, Language, Notification, Preferences, Recipient, Text, notification_id

AT = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def offered(status: str = "offered") -> RegistrationStatusChanged:
    return RegistrationStatusChanged(
        session_id="s-1",
        registration_id="r-1",
        organisation_id="org-1",
        attendee_email="lin.wei@huaxing.example",
        status=status,
        offer_expires_at=datetime(2026, 11, 29, 2, 0, tzinfo=UTC) if status == "offered" else None,
        session_title="Patent pools for LED engineers",
    )


def test_a_waiting_list_offer_tells_the_attendee_its_expiry_in_china_time() -> None:
    [intent] = intents(offered())
    assert intent.kind is Kind.WAITING_LIST_OFFER
    assert intent.audience == Person(Recipient("lin.wei@huaxing.example", "lin.wei@huaxing.example"))
    # Beijing time, labelled as the portal's registrations page labels it (portal/beijing_time.py).
    assert (
        "2026-11-29 10:00（北京时间）" in intent.text.subject_zh
        and "2026-11-29 10:00（北京时间）" in intent.text.body_zh
    )
    assert "2026-11-29 10:00 (Beijing time, UTC+8)" in intent.text.subject_en
    assert "2026-11-29 10:00 (Beijing time, UTC+8)" in intent.text.body_en
    assert "UTC+8" not in intent.text.body_zh and "北京" not in intent.text.body_en
    assert "Patent pools for LED engineers" in intent.text.subject_en


@pytest.mark.parametrize("status", ["confirmed", "waitlisted", "cancelled", "pending"])
def test_other_registration_changes_tell_no_one(status: str) -> None:
    assert intents(offered(status)) == []


def test_a_lapsed_offer_is_told_too() -> None:
    [intent] = intents(offered("offer_expired"))
    assert intent.kind is Kind.WAITING_LIST_OFFER and "lapsed" in intent.text.subject_en


def test_dues_reminders_go_to_the_member_admins_only() -> None:
    event = DuesReminderDue(member_id="org-1", kind="before_lapse", period_end=date(2027, 1, 31), days_before=30)
    [intent] = intents(event)
    assert intent.kind is Kind.DUES_REMINDER
    assert intent.audience == Organisations(("org-1",), frozenset({"member_admin"}))
    assert "2027-01-31" in intent.text.body_zh and "30" in intent.text.body_en


@pytest.mark.parametrize(
    ("decision", "words"),
    [("admitted", "admitted"), ("rejected", "did not admit"), ("changes_requested", "asks for changes")],
)
def test_an_application_decision_tells_the_applicant(decision: str, words: str) -> None:
    event = ApplicationDecided(
        member_id="org-9",
        name="华兴光电",
        decision=decision,
        decided_by="council",
        reason="见附件" if decision != "admitted" else None,
        applicant="chen@huaxing.example",
        contact_name="陈丽",
        contact_email="chen.li@huaxing.example",
        decided_at=AT,
    )
    [intent] = intents(event)
    assert intent.kind is Kind.APPLICATION_DECISION
    assert intent.audience == Person(Recipient("chen@huaxing.example", "chen.li@huaxing.example", "陈丽"))
    assert words in intent.text.body_en and "华兴光电" in intent.text.subject_zh
    assert ("见附件" in intent.text.body_zh) is (decision != "admitted")


def test_ipr_calls_and_ballots_go_to_the_organisations_they_name() -> None:
    call = IprCallIssued(
        project_id="p",
        call_id="call-1",
        title="LED lumen maintenance",
        reason="pre_ballot",
        issued_at=AT,
        deadline=datetime(2026, 12, 27, 2, 0, tzinfo=UTC),
        participants=["org-1", "org-2"],
    )
    opened = BallotOpened(project_id="p", ballot=1, title="T", opened_at=AT, closes_at=AT, eligible=["org-2", "org-3"])
    closed = BallotClosed(project_id="p", ballot=1, title="T", result="failed", closed_at=AT, eligible=["org-2"])
    [c], [o], [x] = intents(call), intents(opened), intents(closed)
    assert (c.kind, c.audience) == (Kind.IPR_CALL, Organisations(("org-1", "org-2")))
    assert (
        "2026-12-27 10:00 (Beijing time, UTC+8)" in c.text.subject_en
        and "2026-12-27 10:00（北京时间）" in c.text.body_zh
    )
    assert (o.kind, o.audience) == (Kind.BALLOT, Organisations(("org-2", "org-3")))
    assert (x.kind, x.audience) == (Kind.BALLOT, Organisations(("org-2",)))
    assert "未通过" in x.text.subject_zh and "failed" in x.text.subject_en
    assert intents(BallotOpened(project_id="p", ballot=1, title="T", opened_at=AT, closes_at=AT)) == []


def test_a_certificate_tells_its_holder_the_verification_code() -> None:
    event = CertificateIssued(
        session_id="s",
        registration_id="r",
        organisation_id=None,
        attendee_name="Lin Wei",
        attendee_email="lin.wei@huaxing.example",
        verification_code="CERT-7Q2X",
        credit_hours=Decimal("6.5"),
        issued_on=date(2026, 11, 27),
        session_title="T",
    )
    [intent] = intents(event)
    assert intent.kind is Kind.CERTIFICATE and intent.audience == Person(
        Recipient("lin.wei@huaxing.example", "lin.wei@huaxing.example", "Lin Wei")
    )
    assert "CERT-7Q2X" in intent.text.body_zh and "6.5" in intent.text.body_en


def test_events_that_concern_no_one_by_mail_give_nothing() -> None:
    admitted = MemberAdmitted(
        member_id="m",
        name="n",
        membership_number="M1",
        credit_code="c",
        org_type="enterprise",
        segments=[],
        region="r",
        tier="t",
        admitted_at=AT,
    )
    assert intents(admitted) == []


def test_a_mail_is_bilingual_by_default_or_in_the_language_chosen() -> None:
    text = Text("会费提醒", "Dues reminder", "请缴纳会费。", "Please pay your dues.")
    subject, body = text.render(Language.BILINGUAL, "陈丽")
    assert subject == "会费提醒 | Dues reminder"
    assert body.index("陈丽您好") < body.index("请缴纳会费。") < body.index("Dear 陈丽") < body.index("Please pay")
    assert text.render(Language.ENGLISH, None) == ("Dues reminder", "Hello,\n\nPlease pay your dues.")
    assert text.render(Language.CHINESE, None) == ("会费提醒", "您好：\n\n请缴纳会费。")


def test_preferences_default_to_every_kind_and_keep_what_is_chosen() -> None:
    assert Preferences("a").resolved() == dict.fromkeys(Kind, True)
    chosen = Preferences("a", {Kind.BALLOT: False})
    assert not chosen.wants(Kind.BALLOT) and chosen.wants(Kind.IPR_CALL)


def test_the_notification_id_and_message_id_are_deterministic_per_event_recipient_and_kind() -> None:
    one = notification_id("e-1", "chen@x", Kind.BALLOT)
    assert one == notification_id("e-1", "chen@x", Kind.BALLOT)
    assert len({one, notification_id("e-2", "chen@x", Kind.BALLOT), notification_id("e-1", "lin@x", Kind.BALLOT)}) == 3
    assert one != notification_id("e-1", "chen@x", Kind.IPR_CALL)
    n = Notification("e-1", "t", Kind.BALLOT, Recipient("chen@x", "chen@x"), "s", "b", AT)
    assert n.id == one and n.message_id("mail.example") == f"<{one}@mail.example>"


PORTAL = "http://127.0.0.1:8080"


def test_each_mail_links_to_the_portal_page_where_its_reader_acts_on_it() -> None:
    call = IprCallIssued(
        project_id="proj 7", call_id="c", title="T", reason="pre_ballot", issued_at=AT, deadline=AT, participants=["o"]
    )
    opened = BallotOpened(project_id="p-2", ballot=1, title="T", opened_at=AT, closes_at=AT, eligible=["o"])
    closed = BallotClosed(project_id="p-2", ballot=1, title="T", result="approved", closed_at=AT, eligible=["o"])
    dues = DuesReminderDue(member_id="org-1", kind="grace", period_end=date(2027, 1, 31))
    decided = ApplicationDecided(
        member_id="org-9",
        name="n",
        decision="admitted",
        decided_by="council",
        applicant="a@x.example",
        contact_name="A",
        contact_email="a@x.example",
        decided_at=AT,
    )
    certificate = CertificateIssued(
        session_id="s",
        registration_id="r",
        organisation_id=None,
        attendee_name="Lin Wei",
        attendee_email="l@x.example",
        verification_code="CERT 7Q/2X",
        credit_hours=Decimal("6"),
        issued_on=date(2026, 11, 27),
    )
    pages: list[tuple[IntegrationEvent, str]] = [
        (offered(), "/registrations"),
        (offered("offer_expired"), "/registrations"),
        (call, "/projects/proj%207/ipr"),
        (opened, "/projects/p-2/ballot"),
        (closed, "/projects/p-2"),
        (dues, "/invoices"),
        (decided, "/organisation"),
        (certificate, "/certificates?code=CERT+7Q%2F2X"),
    ]
    for event, page in pages:
        [intent] = intents(event)
        assert intent.text.page == page, event
        _, bilingual = intent.text.render(Language.BILINGUAL, "Lin", PORTAL)
        assert f"在门户中查看：{PORTAL}{page}" in bilingual and f"On the portal: {PORTAL}{page}" in bilingual
        _, english = intent.text.render(Language.ENGLISH, "Lin", PORTAL + "/")  # a trailing slash: one slash
        assert english.endswith(f"\n\nOn the portal: {PORTAL}{page}") and "门户" not in english


def test_without_the_portal_address_a_mail_has_no_link() -> None:
    [intent] = intents(offered())
    for portal in (None, ""):
        _, body = intent.text.render(Language.BILINGUAL, "Lin", portal)
        assert "http" not in body and "在门户中查看" not in body and "On the portal:" not in body


def test_the_ipr_deadline_reminder_links_to_the_call_of_its_project() -> None:
    call = OpenCall(
        key="p-3/c-1",
        event_id="e",
        title="T",
        deadline=AT,
        remind_at=AT,
        participants=("o",),
        answered=frozenset(),
    )
    intent = ipr_deadline_reminder(call)
    assert intent.text.page == "/projects/p-3/ipr"
    assert "2026-11-27 10:00 (Beijing time, UTC+8)" in intent.text.body_en


# --- a licence contract past its filing deadline; an agency's webhook subscription disabled -------------

SECRETARIAT = Recipient("secretariat", "secretariat@alliance.example", "Secretariat")


def overdue() -> LicenceFilingOverdue:
    return LicenceFilingOverdue(
        licence_id="PL-prog-1-org-7",
        licensee_id="org-7",
        licensee_name="Xiamen Bright Lighting Ltd.",
        programme="prog-1",
        effective_on=date(2026, 7, 1),
        deadline=date(2026, 10, 1),
        noticed_at=AT,
    )


def disabled(contact: str | None = "it-desk@amr.example") -> WebhookSubscriptionDisabled:
    return WebhookSubscriptionDisabled(
        subscription_id="wh_7",
        owner_client_id="agency-fj",
        url="https://hooks.amr.example/in",
        reason="the receiver answered 410 Gone",
        disabled_at=AT,
        contact_email=contact,
        enable_path="/api/v1/integration/webhooks/subscriptions/wh_7/enable",
    )


def test_an_overdue_filing_tells_the_licensees_admins_and_the_secretariat() -> None:
    to_licensee, to_secretariat = intents(overdue(), SECRETARIAT)
    assert to_licensee.kind is to_secretariat.kind is Kind.LICENCE_FILING_OVERDUE
    assert to_licensee.audience == Organisations(("org-7",), frozenset({"member_admin"}))
    assert to_secretariat.audience == Person(SECRETARIAT)
    for intent in (to_licensee, to_secretariat):
        subject, body = intent.text.render(Language.BILINGUAL)
        assert "PL-prog-1-org-7" in subject and "Xiamen Bright Lighting Ltd." in subject
        assert "2026-10-01" in body and "2026-07-01" in body and "备案" in body and "CNIPA" in body
    assert to_licensee.text.page == "/licences/PL-prog-1-org-7"
    _, secretariat_body = to_secretariat.text.render(Language.ENGLISH)
    assert "POST /api/v1/licensing/licence-filings/PL-prog-1-org-7/filing" in secretariat_body
    # Without the secretariat's address only the licensee is told.
    assert [i.audience for i in intents(overdue())] == [to_licensee.audience]


def test_a_disabled_subscription_tells_its_clients_contact_which_why_and_how_to_enable_it() -> None:
    [intent] = intents(disabled(), SECRETARIAT)
    assert intent.kind is Kind.WEBHOOK_DISABLED
    assert intent.audience == Person(Recipient("agency:agency-fj", "it-desk@amr.example"))
    subject, body = intent.text.render(Language.BILINGUAL)
    assert "wh_7" in subject
    for words in (
        "https://hooks.amr.example/in",
        "agency-fj",
        "the receiver answered 410 Gone",
        "POST /api/v1/integration/webhooks/subscriptions/wh_7/enable",
        "2026-11-27 10:00",  # Beijing time
        "停用",
    ):
        assert words in body, words


def test_a_disabled_subscription_of_a_client_with_no_contact_tells_the_secretariat() -> None:
    [intent] = intents(disabled(contact=None), SECRETARIAT)
    assert intent.audience == Person(SECRETARIAT)
    assert intents(disabled(contact=None)) == []  # no address at all: no one to mail
