"""The portal writes deadlines in Beijing time, as the notification mails do (pure, no browser)."""

from __future__ import annotations

from datetime import UTC, datetime

from notifications.domain.messages import moment_en, moment_zh
from portal.beijing_time import beijing
from portal.pages import registrations


def test_api_timestamps_are_shown_in_beijing_time() -> None:
    assert beijing("2026-11-29T02:00:00Z") == "2026-11-29 10:00"
    assert beijing("2026-11-29T02:00:00.123456+00:00") == "2026-11-29 10:00"
    assert beijing("2026-11-29T20:30:00") == "2026-11-30 04:30"  # naive: UTC, past midnight in Beijing
    assert beijing("2026-11-29T10:00:00+08:00") == "2026-11-29 10:00"
    assert beijing("") == "" and beijing(None) == "" and beijing("soon") == "soon"


def test_an_offer_deadline_reads_the_same_on_the_page_and_in_the_mail() -> None:
    expires = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    shown = registrations.moment(expires.isoformat().replace("+00:00", "Z"))
    en = registrations.MESSAGES.messages["en"]["offer_until"].format(at=shown)
    zh = registrations.MESSAGES.messages["zh"]["offer_until"].format(at=shown)
    assert moment_en(expires) in en and en == "Place offered until 2026-11-29 10:00 (Beijing time, UTC+8)"
    assert moment_zh(expires) in zh and zh == "名额保留至 2026-11-29 10:00（北京时间）"
    for key in ("offer_text", "offer_until", "cancel_fee_note"):
        assert "(Beijing time, UTC+8)" in registrations.MESSAGES.messages["en"][key]
        assert (
            "（北京时间）" in registrations.MESSAGES.messages["zh"][key]
            and "UTC" not in registrations.MESSAGES.messages["zh"][key]
        )
