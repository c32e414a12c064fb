from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr

from alliance_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "notifications"
    port: int = 8005
    # The mail relay (Mailpit locally: SMTP on 1025, its inbox on 8025).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=15.0, gt=0)
    mail_from: str = "Alliance Platform 联盟平台 <notifications@alliance.example>"
    # The right-hand side of every Message-ID this service writes.
    message_id_domain: str = "notifications.alliance.example"
    # An event older than this is not news: its mail is not sent (a new consumer group reads topics
    # from the start, and must not mail the alliance's whole history). The read models still apply it.
    max_event_age_s: float = Field(default=3 * 24 * 3600.0, gt=0)
    # An IPR call's deadline is told again this long before it, to the organisations that have not
    # answered (none for a call shorter than that); a job looks for due reminders every interval.
    ipr_reminder_before_s: float = Field(default=3 * 24 * 3600.0, gt=0)
    reminder_check_interval_s: float = Field(default=60.0, gt=0)
    # The member portal's address (e.g. http://127.0.0.1:8080): each mail links to the page where its
    # reader acts on it (the offer to the registrations page, a ballot to its project's ballot, ...).
    # Unset or empty: no links.
    portal_url: str | None = None
    # The secretariat's mailbox: told of every licence contract past its filing deadline, and of a
    # disabled webhook subscription whose machine client names no contact of its own.
    secretariat_email: str = "secretariat@alliance.example"
    secretariat_name: str = "联盟秘书处 Alliance secretariat"


@lru_cache
def get_settings() -> Settings:
    return Settings()
