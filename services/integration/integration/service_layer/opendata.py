"""The open-data use cases: a dataset as of today, from one scan of the archive, kept while unchanged.

A dataset depends only on the archive's content and on today's date (a patent's being in force),
so ``version`` (the archive's ``last_seq`` and the date) names its content exactly: it is the
ETag, and a request whose ``If-None-Match`` holds it is answered without scanning anything. The
last table built per dataset is kept in memory with its version, so a burst of anonymous
requests costs one scan per change of the archive, not one per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from integration.domain.folding import Period
from integration.domain.opendata import DATASETS
from integration.domain.tables import Table
from integration.service_layer.ports import Archive
from integration.service_layer.statistics import fold_archive


@dataclass(frozen=True)
class Version:
    last_seq: int
    today: date

    def tag(self, dataset: str, representation: str) -> str:
        """A strong entity tag: the same for the same bytes of one representation of one dataset."""
        return f'"{dataset}.{representation}.{self.last_seq}.{self.today:%Y%m%d}"'


class OpenData:
    def __init__(self) -> None:
        self._built: dict[str, tuple[Version, Table]] = {}

    async def version(self, archive: Archive, today: date) -> Version:
        return Version(await archive.last_seq(), today)

    async def dataset(self, archive: Archive, name: str, version: Version) -> Table:
        """Dataset ``name`` as of ``version`` (``name`` is a key of ``DATASETS``)."""
        built = self._built.get(name)
        if built is not None and built[0] == version:
            return built[1]
        period = Period(version.today)
        fold = DATASETS[name](period)
        await fold_archive(archive, [fold], period, version.last_seq)
        (table,) = fold.tables()
        self._built[name] = (version, table)
        return table
