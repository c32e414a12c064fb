"""Production's Kafka (deploy/k8s/infra, rendered with kustomize) is the cluster the fault suite runs
locally: three KRaft nodes that are controllers and brokers, on three machines, at most one of them
disrupted at a time, every topic on three replicas with two in sync for a write, and no unclean
leader election."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from alliance_common.settings import ServiceSettings
from alliance_local.infra import CLUSTER_MIN_INSYNC_REPLICAS, CLUSTER_REPLICATION_FACTOR, durability_config

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "deploy" / "k8s" / "infra"

Doc = dict[str, Any]


def render(directory: Path) -> list[Doc]:
    """The manifests as kustomize renders them (offline); the listed files where no binary is installed."""
    if shutil.which("kustomize"):
        command = ["kustomize", "build", str(directory)]
    elif shutil.which("kubectl"):
        command = ["kubectl", "kustomize", str(directory)]
    else:
        kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
        docs = [d for f in kustomization["resources"] for d in yaml.safe_load_all((directory / f).read_text())]
        return [d for d in docs if isinstance(d, dict)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if isinstance(d, dict)]


@pytest.fixture(scope="module")
def docs() -> list[Doc]:
    return render(INFRA)


def the(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d.get("kind") == kind]


def test_three_combined_kraft_nodes(docs: list[Doc]) -> None:
    [kafka] = the(docs, "Kafka")
    [pool] = the(docs, "KafkaNodePool")
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert sorted(pool["spec"]["roles"]) == ["broker", "controller"]
    assert pool["spec"]["replicas"] == 3
    # Each node keeps its log on its own persistent volume, kept if the resource is deleted.
    [volume] = pool["spec"]["storage"]["volumes"]
    assert volume["type"] == "persistent-claim" and volume["deleteClaim"] is False


def test_nodes_never_share_a_machine(docs: list[Doc]) -> None:
    [kafka] = the(docs, "Kafka")
    [pool] = the(docs, "KafkaNodePool")
    rules = pool["spec"]["template"]["pod"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    [rule] = rules
    assert rule["topologyKey"] == "kubernetes.io/hostname"
    # The selector matches the labels Strimzi gives the pool's pods.
    assert rule["labelSelector"]["matchLabels"] == {
        "strimzi.io/cluster": kafka["metadata"]["name"],
        "strimzi.io/pool-name": pool["metadata"]["name"],
    }


def test_at_most_one_node_is_disrupted_at_a_time(docs: list[Doc]) -> None:
    [kafka] = the(docs, "Kafka")
    assert kafka["spec"]["kafka"]["template"]["podDisruptionBudget"]["maxUnavailable"] == 1


def test_durability_settings_match_the_local_cluster(docs: list[Doc]) -> None:
    [kafka] = the(docs, "Kafka")
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3 == CLUSTER_REPLICATION_FACTOR
    assert config["min.insync.replicas"] == 2 == CLUSTER_MIN_INSYNC_REPLICAS
    assert config["offsets.topic.replication.factor"] == 3
    assert config["transaction.state.log.replication.factor"] == 3
    assert config["transaction.state.log.min.isr"] == 2
    assert config["unclean.leader.election.enable"] is False
    # The local three-node cluster (Infra(kafka_brokers=3)) sets every one of them alike.
    local = dict(line.split("=", 1) for line in durability_config(3))
    for key in (
        "default.replication.factor",
        "min.insync.replicas",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "unclean.leader.election.enable",
    ):
        assert local[key] == str(config[key]).lower(), key


def test_every_topic_has_three_replicas_and_needs_two_in_sync(docs: list[Doc]) -> None:
    topics = the(docs, "KafkaTopic")
    assert topics
    for topic in topics:
        assert topic["spec"]["replicas"] == 3, topic["metadata"]["name"]
        assert topic["spec"]["config"]["min.insync.replicas"] == 2, topic["metadata"]["name"]
    # A service that creates its topics itself (create-if-missing at start) creates them alike.
    settings = ServiceSettings(service_name="membership", kafka_replication_factor=3)
    assert settings.topic_min_insync_replicas == 2
    assert ServiceSettings(service_name="membership").topic_min_insync_replicas is None  # one local broker
