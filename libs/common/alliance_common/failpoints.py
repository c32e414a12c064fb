"""Failpoints: named places in the code where a fault test can make this process fail on purpose.

``hit(name)`` is called at a point where a crash matters (e.g. ``consumer.after_effect``: an effect
is stored, its offset not yet committed). It does nothing unless the environment variable
``ALLIANCE_FAILPOINTS`` names that point when the process starts::

    ALLIANCE_FAILPOINTS="consumer.after_effect=kill@25;outbox.after_publish=kill@3"

Each entry is ``<name>=<action>[@<n>]``; entries are separated by ``;`` or ``,``. Actions:

- ``kill``: SIGKILL this process (no cleanup, no graceful commit: a crash) at the ``n``-th hit
  (default: the first);
- ``raise``: raise ``FailpointError`` at the ``n``-th hit (for unit tests and in-process faults).

A point fires once (at its ``n``-th hit) and is then spent. With the variable unset, ``hit`` is one
dictionary lookup on an empty dict: nothing is parsed, nothing counted.

Points in the platform:
- ``consumer.after_effect``: ``EventConsumer`` has stored a fetch's effects, before committing its offsets;
- ``outbox.after_publish``: ``OutboxRelay`` has published entries (acknowledged by Kafka), before
  removing them from the outbox.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

ENV_VAR = "ALLIANCE_FAILPOINTS"
ACTIONS = ("kill", "raise")


class FailpointError(RuntimeError):
    """Raised by a failpoint whose action is ``raise``."""


@dataclass
class Failpoint:
    action: str
    at: int
    hits: int = 0
    fired: bool = False


def parse(spec: str) -> dict[str, Failpoint]:
    """``"a=kill@3;b=raise"`` -> the failpoints it names (ValueError for a malformed entry)."""
    points: dict[str, Failpoint] = {}
    for raw in spec.replace(",", ";").split(";"):
        entry = raw.strip()
        if not entry:
            continue
        name, sep, rule = entry.partition("=")
        action, _, count = rule.strip().partition("@")
        action = action.strip()
        if not sep or not name.strip() or action not in ACTIONS:
            raise ValueError(f"{ENV_VAR}: {entry!r} is not <name>=<{'|'.join(ACTIONS)}>[@<n>]")
        try:
            at = int(count) if count.strip() else 1
        except ValueError:
            raise ValueError(f"{ENV_VAR}: {entry!r}: the hit count must be a whole number") from None
        if at < 1:
            raise ValueError(f"{ENV_VAR}: {entry!r}: the hit count starts at 1")
        points[name.strip()] = Failpoint(action, at)
    return points


_points: dict[str, Failpoint] = parse(os.environ.get(ENV_VAR, ""))


def configure(spec: str) -> None:
    """Replace the active failpoints (as if ``ALLIANCE_FAILPOINTS`` were ``spec``): for tests."""
    global _points
    _points = parse(spec)


def hit(name: str) -> None:
    """Pass the failpoint ``name``: nothing at all unless it is configured."""
    point = _points.get(name)
    if point is None or point.fired:
        return
    point.hits += 1
    if point.hits < point.at:
        return
    point.fired = True
    if point.action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise FailpointError(f"failpoint {name} fired at hit {point.hits}")


def hits(name: str) -> int:
    """How often ``name`` was passed (0 when it is not configured): for tests."""
    point = _points.get(name)
    return point.hits if point is not None else 0
