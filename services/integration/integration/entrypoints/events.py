"""Event subscriptions of the integration service: every event of every publishing service, into the archive.

One consumer group (``integration.archive``) reads the topics of every service that publishes
(``alliance_contracts.ownership.READS["integration"]``) and archives each fetch's events at once,
of every type: also types this code has no model for (a service publishing a new type is archived
from its first event, by the envelope). The consumer's checks still apply: a type a contract
declares only from its owner's topic and source, with a body its model accepts; any other type
only with the ``source`` of the topic it came on; the rest goes to ``integration.dlq``.
"""

from __future__ import annotations

from alliance_common.consumer import BatchHandler
from alliance_common.events import Envelope
from alliance_contracts.ownership import topics_read_by
from integration.domain.archive import ArchivedEvent
from integration.service_layer.ports import Archive

TOPICS: tuple[str, ...] = topics_read_by("integration")


def archived(envelope: Envelope) -> ArchivedEvent:
    """The envelope as the archive keeps it (``seq`` is the archive's to assign)."""
    return ArchivedEvent(
        id=envelope.id,
        seq=0,
        type=envelope.type,
        source=envelope.source,
        subject=envelope.subject,
        time=envelope.time,
        data=envelope.data,
    )


def archive_handler(archive: Archive) -> BatchHandler:
    async def archive_all(envelopes: list[Envelope]) -> None:
        await archive.add([archived(envelope) for envelope in envelopes])

    return archive_all
