"""Demo data: a season of training, loaded through the gateway like any client would.

- an executive salon with an early-bird price;
- an IP managers' seminar that requires approval (one approved, one rejected with a reason, one pending);
- a three-day engineers' course that has just begun: attendance per day, certificates with
  verification codes for those who came every day, credit hours sent to membership;
- a popular engineers' seminar that is full, with a group registration, a waiting list, a
  cancellation and the offered place accepted.

Members' prices follow their standing (one member has lapsed and pays the non-member price).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from alliance_local.demo_http import DemoError, Headers, Json, wait_until

if TYPE_CHECKING:  # demo.py imports this module: no import back at run time
    from alliance_local.demo import Context

TRAINING = "/api/v1/training"
# Organisations whose people attend (demo_data keys); "wujin" has lapsed: it pays the non-member price.
ATTENDING = ("huaxing", "radiant", "lumen", "wujin")
PEOPLE = {
    "huaxing": [("Lin Wei", "lin.wei"), ("Chen Jing", "chen.jing"), ("Xu Lei", "xu.lei")],
    "radiant": [("Huang Mei", "huang.mei"), ("Zhou Qiang", "zhou.qiang")],
    "lumen": [("Liu Yang", "liu.yang"), ("Sun Li", "sun.li")],
    "wujin": [("Jiang Tao", "jiang.tao"), ("Ma Rui", "ma.rui")],
}
COURSE_LEAD_S = 8.0  # the course starts this soon after it is scheduled, so that attendance can be taken now


def person(key: str, i: int) -> Json:
    name, local = PEOPLE[key][i]
    return {"attendee_name": name, "attendee_email": f"{local}@{key}.example"}


def session_body(
    title: str, audience: str, fmt: str, starts: datetime, hours: float, capacity: int, venue: str | None, **extra: Any
) -> Json:
    return {
        "title": title,
        "audience": audience,
        "format": fmt,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=hours)).isoformat(),
        "venue": venue,
        "online": venue is None,
        "capacity": capacity,
        "member_price": "800.00",
        "non_member_price": "1500.00",
        "currency": "CNY",
        **extra,
    }


def load_training(ctx: Context) -> tuple[list[Json], list[Json]]:
    gw = ctx.gw
    staff = ctx.secretariat
    start = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0) + timedelta(days=30)
    registrations: list[Json] = []

    def post(path: str, headers: Headers, body: Json) -> Json:
        return gw.post(f"{TRAINING}{path}", headers, body)

    def register(session: Json, key: str, i: int, waitlist: bool = False) -> Json:
        made = post(
            f"/sessions/{session['id']}/registrations", ctx.admin(key), {**person(key, i), "waitlist": waitlist}
        )
        registrations.append(made)
        return made

    # An executive salon with an early-bird price.
    salon = post(
        "/sessions",
        staff,
        session_body(
            "Patent pools and FRAND for executives",
            "executives",
            "salon",
            start,
            3,
            30,
            "Shenzhen Convention Centre",
            early_bird_price="600.00",
            early_bird_until=(start - timedelta(days=14)).isoformat(),
            cancellation_deadline=(start - timedelta(days=7)).isoformat(),
            cancellation_fee="200.00",
        ),
    )

    # Training learns standing from membership's events: wait until each attending member's is known.
    for key in ATTENDING:
        quote = f"{TRAINING}/sessions/{salon['id']}/quote"
        expected = bool(ctx.orgs[key]["in_good_standing"])
        admin = ctx.admin(key)

        def priced(quote: str = quote, headers: Headers = admin, expected: bool = expected) -> bool:
            return bool(gw.get(quote, headers)["member_price_applied"] == expected)

        wait_until(f"{ctx.specs[key].name}'s standing in the training service", priced)
    register(salon, "huaxing", 0)
    register(salon, "wujin", 0)  # lapsed: the early-bird price, not the member price

    # A seminar for IP managers that requires approval.
    seminar = post(
        "/sessions",
        staff,
        session_body(
            "Drafting essential claims: a seminar for IP managers",
            "ip_managers",
            "seminar",
            start + timedelta(days=7),
            7,
            20,
            "Xiamen",
            requires_approval=True,
        ),
    )
    approved = register(seminar, "radiant", 0)
    rejected = register(seminar, "lumen", 0)
    register(seminar, "huaxing", 1)  # stays pending
    post(f"/sessions/{seminar['id']}/registrations/{approved['id']}/approve", staff, {})
    post(
        f"/sessions/{seminar['id']}/registrations/{rejected['id']}/reject",
        staff,
        {"reason": "This seminar is for IP managers; the engineers' course suits Liu Yang better."},
    )

    # A popular engineers' seminar, full, with a group registration and a waiting list.
    popular = post(
        "/sessions",
        staff,
        session_body(
            "Mini-LED display patents for engineers",
            "engineers",
            "seminar",
            start + timedelta(days=10),
            4,
            4,
            None,
        ),
    )
    group = post(
        f"/sessions/{popular['id']}/group-registrations",
        ctx.admin("huaxing"),
        {"attendees": [person("huaxing", i) for i in range(3)]},
    )
    registrations.extend(group["registrations"])
    leaving = register(popular, "radiant", 1)
    first_waiting = register(popular, "lumen", 1, waitlist=True)
    register(popular, "wujin", 1, waitlist=True)
    register(popular, "radiant", 0, waitlist=True)
    post(
        f"/sessions/{popular['id']}/registrations/{leaving['id']}/cancel",
        ctx.admin("radiant"),
        {"reason": "Zhou Qiang is travelling that week."},
    )
    post(f"/sessions/{popular['id']}/registrations/{first_waiting['id']}/accept", ctx.admin("lumen"), {})

    # A three-day course that begins now: attendance per day, then certificates and credit hours.
    begins = datetime.now(UTC) + timedelta(seconds=COURSE_LEAD_S)
    course = post(
        "/sessions",
        staff,
        session_body(
            "LED patent landscape course for engineers",
            "engineers",
            "course",
            begins,
            48 + 8,
            12,
            "Suzhou Industrial Park",
            credit_hours_per_day="6.0",
        ),
    )
    attendees = [
        register(course, "huaxing", 2),
        register(course, "lumen", 1),
        register(course, "radiant", 1),
        register(course, "wujin", 0),
    ]
    ctx.say(f"training: waiting {COURSE_LEAD_S:.0f}s for the three-day course to begin, to take attendance")
    time.sleep(max(0.0, (begins - datetime.now(UTC)).total_seconds() + 0.5))
    for n, registration in enumerate(attendees):
        days = course["days"] if n < 3 else course["days"][:1]  # the last attendee came on the first day only
        for day in days:
            post(f"/sessions/{course['id']}/registrations/{registration['id']}/check-in", staff, {"day": day})
    closed = post(f"/sessions/{course['id']}/certificates", staff, {})
    ctx.say(
        f"training: {len(closed['certificates'])} certificates issued, e.g. "
        f"{TRAINING}/certificates/verify/{closed['certificates'][0]['verification_code']}"
    )

    # As they stand now (approved, rejected, offered and accepted, attended, certified).
    sessions = [gw.get(f"{TRAINING}/sessions/{s['id']}", staff) for s in (salon, seminar, popular, course)]
    final = [r for s in sessions for r in gw.get_all(f"{TRAINING}/registrations", staff, {"session_id": s["id"]})]
    if len(final) != len(registrations):
        raise DemoError(f"training: {len(registrations)} registrations made, {len(final)} listed")
    return sessions, final
