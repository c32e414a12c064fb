"""The fault harness's count itself (pure logic, no infrastructure): it sees a lost effect, a
duplicated one and one applied out of order, so a clean fault table means something; and what it
reads from the processes' /metrics (lag and backlog to wait on, counters over a fault)."""

from __future__ import annotations

import json
import pathlib

import pytest

from alliance_local import scrape
from tests.faults import harness
from tests.faults.harness import ADMITTED, REINSTATED, SUSPENDED, Chain, Effects, Workload


def workload_of(*chains: Chain) -> Workload:
    workload = Workload("http://gateway.invalid", writes=1)
    workload.chains = list(chains)
    return workload


def clean_effects(member: str, ids: list[str], events: list[str]) -> Effects:
    actions = [harness.LICENCE_ACTION[e] for e in events]
    return Effects(
        licences={member: list(zip(actions, ids, strict=True))},
        standards={member: list(ids)},
        training={member: list(ids)},
        standings={
            f"{s}:{member}": {"in_good_standing": events[-1] != SUSPENDED, "last_event_type": events[-1]}
            for s in ("standards", "training")
        },
        archive={member: list(zip(events, ids, strict=True))},
        archive_licence={member: [harness.LICENCE_EVENTS[a] for a in actions]},
        membership={member: "suspended" if events[-1] == SUSPENDED else "current"},
        patents={member: ["CN1B"]},
        archive_patents={member: ["CN1B"]},
        registrations={member: ["r1"]},
        archive_registrations={member: ["r1"]},
        projects={member: ["p1"]},
        archive_projects={member: ["p1"]},
    )


EVENTS = [ADMITTED, SUSPENDED, REINSTATED]
IDS = ["e1", "e2", "e3"]


def chain() -> Chain:
    return Chain(
        "M Co.", org_id="m1", events=list(EVENTS), accepted=8, patent_number="CN1B", registered=True, proposed=True
    )


def test_a_clean_run_counts_every_effect_once() -> None:
    per, order = harness.tally(workload_of(chain()), clean_effects("m1", IDS, EVENTS))
    assert order == []
    assert all(found == expected and dup == 0 and lost == 0 for expected, found, dup, lost in per.values())
    assert per["licensing"] == (3, 3, 0, 0) and per["archive:patent"] == (1, 1, 0, 0)


def test_a_lost_and_a_duplicated_effect_are_counted() -> None:
    effects = clean_effects("m1", IDS, EVENTS)
    effects.training["m1"] = ["e1", "e2"]  # e3 never applied
    effects.standards["m1"] = ["e1", "e2", "e3", "e3"]  # e3 applied twice
    effects.patents["m1"] = ["CN1B", "CN1B"]  # the contribution stored twice
    per, _ = harness.tally(workload_of(chain()), effects)
    assert per["training"] == (3, 2, 0, 1)
    assert per["standards"] == (3, 3, 1, 0)
    assert per["licensing:patents"] == (1, 1, 1, 0)


def test_every_service_own_writes_are_counted_lost_or_twice() -> None:
    effects = clean_effects("m1", IDS, EVENTS)
    per, _ = harness.tally(workload_of(chain()), effects)
    assert all(per[name] == (1, 1, 0, 0) for name in harness.OWN_WRITE_EFFECTS)
    effects.projects["m1"] = ["p1", "p2"]  # a retried proposal stored as a second project
    effects.archive_registrations["m1"] = []  # the registration's event never archived
    per, _ = harness.tally(workload_of(chain()), effects)
    assert per["standards:projects"] == (1, 1, 1, 0)
    assert per["archive:registration"] == (1, 0, 0, 1)
    # A chain whose proposal was never accepted expects none.
    unproposed = chain()
    unproposed.proposed = False
    per, _ = harness.tally(workload_of(unproposed), clean_effects("m1", IDS, EVENTS))
    assert per["standards:projects"] == (0, 0, 0, 0)


def test_events_applied_out_of_order_are_reported() -> None:
    effects = clean_effects("m1", IDS, EVENTS)
    # Licensing saw the reinstatement before the suspension: restoring an active licence is a
    # no-op, so its history ends suspended.
    effects.licences["m1"] = [("granted", "e1"), ("suspended", "e2")]
    effects.standings["training:m1"]["last_event_type"] = SUSPENDED
    per, order = harness.tally(workload_of(chain()), effects)
    assert per["licensing"] == (3, 2, 0, 1)
    assert any(v.startswith("licensing m1") for v in order)
    assert any(v.startswith("training m1: last event") for v in order)


def test_a_second_archived_event_of_a_type_is_a_duplicate() -> None:
    effects = clean_effects("m1", IDS, EVENTS)
    effects.archive["m1"].append((SUSPENDED, "e9"))  # membership emitted a second suspension
    per, _ = harness.tally(workload_of(chain()), effects)
    assert per["archive"] == (3, 3, 1, 0)


def test_the_size_is_ci_size_unless_a_total_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(harness.EVENTS_ENV, raising=False)
    assert harness.fault_writes(None) == harness.CI_WRITES
    assert harness.fault_events(None) is None
    monkeypatch.setenv(harness.EVENTS_ENV, "100000")
    share = harness.fault_events(None)
    assert share is not None and share * harness.SIZED_FAULTS >= 100000
    # enough workload writes to publish the share
    assert harness.fault_writes(None) * harness.WORKLOAD_EVENTS_PER_WRITE >= share


def test_the_table_has_the_issues_columns() -> None:
    result = harness.FaultResult("f", 3, 10, 40, 40, 0, 0, [], {}, {}, 0, 0, [], 0, 1.0)
    read = harness.FaultResult(
        "g", 1, 10, 40, 40, 0, 0, [], {}, {}, 0, 0, [], 0, 1.0, events=19, redeliveries_skipped_metrics=7
    )
    lines = harness.table([result, read]).splitlines()
    assert [c.strip() for c in lines[0].split("|")] == [
        "fault",
        "faults injected",
        "writes accepted",
        "events published",
        "effects expected",
        "found",
        "duplicated",
        "lost",
        "redeliveries skipped (metrics)",
    ]
    assert [c.strip() for c in lines[2].split("|")] == ["f", "3", "10", "-", "40", "40", "0", "0", "-"]
    assert [c.strip() for c in lines[3].split("|")][3] == "19"
    assert [c.strip() for c in lines[3].split("|")][-1] == "7"


def exposition(started: float, duplicates: int, lag: dict[str, int], backlog: int = 0) -> scrape.Scrape:
    """A service process's /metrics as Prometheus text (the series the harness reads)."""
    group = 'messaging_consumer_group_name="{}",messaging_system="kafka"'
    lines = [
        "# TYPE process_start_time_seconds gauge",
        f"process_start_time_seconds {started}",
        "# TYPE alliance_consumer_duplicates_total counter",
        f"alliance_consumer_duplicates_total{{{group.format('licensing.main')}}} {duplicates}",
        "# TYPE alliance_consumer_lag gauge",
        *(
            f'alliance_consumer_lag{{{group.format(g)},messaging_destination_partition_id="{i}"}} {n}'
            for i, (g, n) in enumerate(lag.items())
        ),
        "# TYPE alliance_outbox_backlog gauge",
        f"alliance_outbox_backlog {backlog}",
    ]
    return scrape.parse("\n".join(lines) + "\n")


def test_metrics_settle_only_when_every_process_shows_lag_0_and_no_backlog() -> None:
    drained = {"licensing": exposition(1.0, 0, {"licensing.main": 0}), "membership": exposition(1.0, 0, {})}
    assert harness.metrics_unsettled(drained, []) == ""
    behind = {**drained, "licensing-2": exposition(1.0, 0, {"licensing.main": 2, "licensing.patents": 0})}
    assert harness.metrics_unsettled(behind, []) == "licensing-2: lag {'licensing.main': 2}"
    backlog = {**drained, "membership": exposition(1.0, 0, {}, backlog=3)}
    assert harness.metrics_unsettled(backlog, []) == "membership: outbox backlog 3"
    assert harness.metrics_unsettled(drained, ["training-2"]) == "training-2: no answer"
    unsettled = harness.FaultResult(
        "f", 1, 1, 1, 1, 0, 0, [], {}, {}, 0, 0, [], 0, 1.0, metrics_unsettled="x: no answer"
    )
    assert not unsettled.clean and "never showed lag 0" in unsettled.describe()
    assert harness.FaultResult("f", 1, 1, 1, 1, 0, 0, [], {}, {}, 0, 0, [], 0, 1.0, metrics_unsettled="").clean


def test_counters_over_a_fault_count_a_restarted_process_from_its_start() -> None:
    before = {"licensing": exposition(100.0, 5, {}), "licensing-2": exposition(100.0, 9, {})}
    after = {
        "licensing": exposition(100.0, 8, {}),  # the same process: 3 during the fault
        "licensing-2": exposition(250.0, 2, {}),  # killed and restarted: its 9 (and any since) are gone; 2 since
        "licensing-3": exposition(300.0, 1, {}),  # joined during the fault
    }
    assert harness.counted_during(before, after, "alliance_consumer_duplicates_total") == 3 + 2 + 1
    assert harness.counted_during({}, {}, "alliance_consumer_duplicates_total") == 0


def test_each_result_is_written_to_the_results_file_when_counted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "results.jsonl"
    monkeypatch.setenv("FAULT_RESULTS_FILE", str(path))
    monkeypatch.setattr(harness, "RESULTS", [])
    harness.record(harness.FaultResult("clean", 1, 9, 14, 14, 0, 0, [], {}, {}, 0, 0, [], 0, 1.0, events=14))
    harness.record(harness.FaultResult("lossy", 1, 9, 14, 13, 0, 1, [], {}, {}, 0, 0, [], 0, 1.0))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["fault"], r["found"], r["lost"], r["events"], r["clean"]) for r in lines] == [
        ("clean", 14, 0, 14, True),
        ("lossy", 13, 1, None, False),
    ]
    assert [r.fault for r in harness.RESULTS] == ["clean", "lossy"]
