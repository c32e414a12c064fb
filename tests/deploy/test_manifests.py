"""Invariants of the production deployment (deploy/k8s, deploy/docker), checked without a cluster.

The manifests are read as YAML and compared with the code they deploy: the settings classes
(every environment variable must be a field), the topics the services use, the health
endpoints. When `kustomize` or `kubectl` is on the PATH, the overlays are also rendered
(offline) and the rendered output is checked.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
INFRA = K8S / "infra"
OVERLAYS = sorted(p for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").is_file())
DOCKER = ROOT / "deploy" / "docker"
README = ROOT / "deploy" / "README.md"

SERVICES = ("membership", "licensing", "standards", "training", "notifications", "integration")
PORTAL = "portal"  # the member portal: a process in front of the gateway, no service (no Kafka, no JWKS)
PROCESSES = (*SERVICES, "gateway", PORTAL)
UID = 10001
HTTP_PORT_NAME = "http"

Doc = dict[str, Any]


# --- loading -------------------------------------------------------------------------------------


def load_all(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def is_manifest(doc: Any) -> bool:
    return isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc and doc["kind"] != "Kustomization"


def kustomization(directory: Path) -> Doc:
    data = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert isinstance(data, dict), directory
    return data


def kustomization_dirs() -> list[Path]:
    return sorted(p.parent for p in K8S.rglob("kustomization.yaml"))


def resource_files(directory: Path) -> list[Path]:
    """The manifest files a kustomization includes, following directory resources (bases)."""
    files: list[Path] = []
    for entry in kustomization(directory).get("resources", []):
        path = (directory / entry).resolve()
        files.extend(resource_files(path) if path.is_dir() else [path])
    return files


def manifests_of(directory: Path) -> list[Doc]:
    return [doc for path in resource_files(directory) for doc in load_all(path) if is_manifest(doc)]


def one(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def generated_configmaps(directory: Path) -> dict[str, dict[str, str]]:
    """The data of every generated ConfigMap, with the bases' generators merged in as kustomize does."""
    maps: dict[str, dict[str, str]] = {}
    spec = kustomization(directory)
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            maps.update(generated_configmaps(path))
    for generator in spec.get("configMapGenerator", []):
        data: dict[str, str] = {}
        for literal in generator.get("literals", []):
            key, sep, value = literal.partition("=")
            assert sep, f"{directory}: literal without '=': {literal}"
            data[key] = value
        for entry in generator.get("files", []):
            key, _, file = entry.rpartition("=")
            data[key or Path(file).name] = (directory / file).read_text()
        name, behavior = generator["name"], generator.get("behavior", "create")
        if behavior == "merge":
            assert name in maps, f"{directory}: merges into unknown ConfigMap {name}"
            maps[name] = {**maps[name], **data}
        elif behavior == "replace":
            maps[name] = data
        else:
            assert name not in maps, f"{directory}: ConfigMap {name} generated twice"
            maps[name] = data
    return maps


# --- the code being deployed ---------------------------------------------------------------------


@cache
def settings_class(process: str) -> type:
    return importlib.import_module(f"{process}.settings").Settings  # type: ignore[no-any-return]


def env_fields(process: str) -> set[str]:
    return {name.upper() for name in settings_class(process).model_fields}


def service_name(process: str) -> str:
    return str(settings_class(process).model_fields["service_name"].default)


def expected_topics() -> set[str]:
    # ServiceSettings.topic / .dead_letter_topic
    return {f"{service_name(s)}.{suffix}" for s in SERVICES for suffix in ("events", "dlq")}


# --- pod spec helpers ----------------------------------------------------------------------------


def pod_spec(deployment: Doc) -> Doc:
    return deployment["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def container(deployment: Doc) -> Doc:
    containers = pod_spec(deployment)["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return containers[0]  # type: ignore[no-any-return]


def env_of(deployment: Doc, configmaps: dict[str, dict[str, str]]) -> dict[str, str | None]:
    """Variable name -> value (None when it comes from a Secret), ConfigMaps first as Kubernetes does."""
    c = container(deployment)
    env: dict[str, str | None] = {}
    for source in c.get("envFrom", []):
        assert "configMapRef" in source, "envFrom only from ConfigMaps; Secrets are named one by one"
        name = source["configMapRef"]["name"]
        assert name in configmaps, f"{deployment['metadata']['name']}: no ConfigMap {name}"
        env.update(configmaps[name])
    for var in c.get("env", []):
        env[var["name"]] = var.get("value")
    return env


def process_deployments(docs: list[Doc]) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] in PROCESSES}


# --- files and kustomizations --------------------------------------------------------------------


def test_every_yaml_file_parses_and_every_manifest_is_named() -> None:
    files = sorted(K8S.rglob("*.yaml"))
    assert files
    for path in files:
        for doc in load_all(path):
            assert isinstance(doc, dict), path
            if is_manifest(doc):
                assert doc["metadata"]["name"], path


def test_every_kustomization_reference_exists() -> None:
    for directory in kustomization_dirs():
        spec = kustomization(directory)
        assert spec.get("kind") == "Kustomization", directory
        for entry in spec.get("resources", []) + spec.get("components", []):
            path = directory / entry
            assert path.exists(), f"{directory}: missing resource {entry}"
            if path.is_dir():
                assert (path / "kustomization.yaml").is_file(), f"{directory}: {entry} is no kustomization"
        for patch in spec.get("patches", []):
            if "path" in patch:
                assert (directory / patch["path"]).is_file(), f"{directory}: missing patch {patch['path']}"
        for generator in spec.get("configMapGenerator", []):
            for entry in generator.get("files", []):
                assert (directory / entry.rpartition("=")[2]).is_file(), f"{directory}: missing {entry}"


def test_every_manifest_file_is_used_by_a_kustomization() -> None:
    used: set[Path] = set()
    for directory in kustomization_dirs():
        spec = kustomization(directory)
        used.update((directory / e).resolve() for e in spec.get("resources", []))
        used.update((directory / p["path"]).resolve() for p in spec.get("patches", []) if "path" in p)
        for generator in spec.get("configMapGenerator", []):
            used.update((directory / e.rpartition("=")[2]).resolve() for e in generator.get("files", []))
    for path in K8S.rglob("*.yaml"):
        if path.name != "kustomization.yaml":
            assert path.resolve() in used, f"{path.relative_to(ROOT)} is not part of any kustomization"


def test_no_secret_is_committed() -> None:
    for path in [*K8S.rglob("*"), *DOCKER.rglob("*")]:
        if path.is_file():
            text = path.read_text()
            assert "PRIVATE KEY-----" not in text, path
            for doc in load_all(path) if path.suffix == ".yaml" else []:
                assert not (is_manifest(doc) and doc["kind"] == "Secret"), f"{path}: create Secrets out of band"


# --- the processes --------------------------------------------------------------------------


def test_base_has_deployment_service_and_budget_per_process() -> None:
    docs = manifests_of(BASE)
    for process in PROCESSES:
        deployment = one(docs, "Deployment", process)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        port_names = {p["name"]: p["containerPort"] for p in container(deployment)["ports"]}
        assert HTTP_PORT_NAME in port_names

        service = one(docs, "Service", process)
        assert service["spec"]["selector"].items() <= labels.items()
        assert [p["targetPort"] for p in service["spec"]["ports"]] == [HTTP_PORT_NAME]

        budget = one(docs, "PodDisruptionBudget", process)
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert budget["spec"] == {"minAvailable": 1, "selector": budget["spec"]["selector"]}, process


def test_processes_run_their_module_with_two_or_more_replicas() -> None:
    docs = manifests_of(BASE)
    for process, deployment in process_deployments(docs).items():
        assert container(deployment)["command"] == ["python", "-m", process]
        autoscalers = [
            d
            for d in docs
            if d["kind"] == "HorizontalPodAutoscaler"
            and d["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": process}
        ]
        if autoscalers:  # the autoscaler owns the count; a fixed one would fight it on every apply
            assert "replicas" not in deployment["spec"], process
            assert autoscalers[0]["spec"]["minReplicas"] >= 2
        else:
            assert deployment["spec"]["replicas"] == 2, process
    assert any(d["kind"] == "HorizontalPodAutoscaler" and d["metadata"]["name"] == "gateway" for d in docs)


def test_processes_probe_healthz_and_readyz() -> None:
    for process, deployment in process_deployments(manifests_of(BASE)).items():
        c = container(deployment)
        for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            assert c[probe]["httpGet"] == {"path": path, "port": HTTP_PORT_NAME}, f"{process} {probe}"


def assert_hardened(deployment: Doc) -> None:
    name = deployment["metadata"]["name"]
    spec = pod_spec(deployment)
    assert spec["securityContext"]["runAsNonRoot"] is True, name
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
    assert spec.get("automountServiceAccountToken") is False, name
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for c in spec["containers"]:
        sc = c["securityContext"]
        assert sc["runAsNonRoot"] is True and sc["runAsUser"] == UID, name
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["capabilities"] == {"drop": ["ALL"]}, name
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{name}: resources.{kind}"
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert probe in c, f"{name}: {probe}"
        tmp = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
        assert tmp and "emptyDir" in volumes[tmp[0]["name"]], f"{name}: /tmp must be a writable emptyDir"


def test_every_deployment_is_hardened() -> None:
    deployments = [
        d
        for path in K8S.rglob("*.yaml")
        for d in load_all(path)
        if is_manifest(d) and d["kind"] == "Deployment" and "template" in d.get("spec", {})
    ]
    assert {d["metadata"]["name"] for d in deployments} >= set(PROCESSES)
    for deployment in deployments:
        assert_hardened(deployment)


def deployed_fields(process: str) -> set[str]:
    """The variables a process may be given: its settings' fields."""
    return env_fields(process)


@pytest.mark.parametrize("directory", [BASE, *OVERLAYS], ids=lambda p: p.name)
def test_environment_variables_are_settings_fields(directory: Path) -> None:
    configmaps = generated_configmaps(directory)
    for process, deployment in process_deployments(manifests_of(BASE)).items():
        unknown = set(env_of(deployment, configmaps)) - deployed_fields(process)
        assert not unknown, f"{directory.name}/{process}: not settings of {process}: {sorted(unknown)}"


@pytest.mark.parametrize("directory", OVERLAYS, ids=lambda p: p.name)
def test_settings_accept_the_overlay_configuration(directory: Path) -> None:
    """Build each process's settings from what the overlay gives it (Secrets as stand-ins)."""
    configmaps = generated_configmaps(directory)
    stand_ins = {
        "MONGODB_URL": "mongodb://user:password@mongo-0,mongo-1,mongo-2/admin?replicaSet=rs",
        "MACHINE_CLIENTS_JSON": "{}",
        "KAFKA_SASL_PASSWORD": "stand-in-password",
        "SMTP_PASSWORD": "stand-in-password",
        "READER_CLIENT_SECRET": "stand-in-secret",
        "INTERNAL_TOKEN": "stand-in-token",
        "IDENTITY_CLIENT_SECRET": "stand-in-secret",
        "METRICS_TOKEN": "stand-in-token",
    }
    for process, deployment in process_deployments(manifests_of(BASE)).items():
        env = env_of(deployment, configmaps)
        assert {k for k, v in env.items() if v is None} <= set(stand_ins), process
        values = {k.lower(): (stand_ins[k] if v is None else v) for k, v in env.items()}
        settings = settings_class(process)(**values)  # raises on an invalid value or combination
        assert settings.environment == "production", f"{directory.name}/{process}"
        assert settings.host == "0.0.0.0"
        assert settings.port == container(deployment)["ports"][0]["containerPort"]
        if process == PORTAL:
            # People are sent to the realm that issues the tokens the gateway verifies; the portal
            # calls the gateway's Service, keeps its sessions in its own database, on https.
            assert settings.oidc_issuer == configmaps["alliance-common"]["OIDC_ISSUER"], directory.name
            assert settings.oidc_issuer.startswith("https://") and settings.secure_cookies
            assert settings.gateway_url == "http://gateway" and settings.mongodb_database == "portal"
            assert settings.reader_client_id and settings.reader_client_secret
            continue
        # Keycloak's tokens: the realm's public address as issuer, its JWKS read in-cluster.
        assert settings.oidc_issuer and settings.oidc_issuer.startswith("https://"), f"{directory.name}/{process}"
        assert settings.oidc_jwks_url and settings.jwt_public_key_file is None
        assert settings.otel_exporter_otlp_endpoint, f"{directory.name}/{process}: tracing is off"
        if process == "notifications":
            assert settings.smtp_starttls and settings.smtp_username and settings.smtp_password
        if process in ("membership", "integration"):
            # The realm's admin API, in-cluster, with the process's own confidential client.
            assert settings.identity_url == "http://keycloak.alliance-infra.svc:8080", f"{directory.name}/{process}"
            assert settings.identity_client_secret is not None
        if process in ("gateway", "integration"):
            assert settings.internal_token is not None, f"{process}: the revocation list is closed without it"
        if process == "gateway":
            assert settings.dev_login_enabled is False
            assert settings.oidc_token_url and settings.jwt_private_key_file is None  # no issuer of its own
            assert settings.upstreams == {s: f"http://{s}" for s in SERVICES}  # the Services' names
        else:
            assert settings.mongodb_database == service_name(process)


def test_production_turns_off_development_login_explicitly() -> None:
    production = K8S / "overlays" / "production"
    configmaps = generated_configmaps(production)
    gateway = process_deployments(manifests_of(BASE))["gateway"]
    env = env_of(gateway, configmaps)
    assert env["ENVIRONMENT"] == "production"
    assert env["DEV_LOGIN_ENABLED"] == "false"
    # Stated in the overlay itself, not only inherited from the base.
    literals = [lit for g in kustomization(production)["configMapGenerator"] for lit in g.get("literals", [])]
    assert "ENVIRONMENT=production" in literals and "DEV_LOGIN_ENABLED=false" in literals


def test_key_files_are_mounted_from_secrets() -> None:
    configmaps = generated_configmaps(BASE)
    for process, deployment in process_deployments(manifests_of(BASE)).items():
        env = env_of(deployment, configmaps)
        volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container(deployment)["volumeMounts"]}
        for var in ("JWT_PUBLIC_KEY_FILE", "JWT_PRIVATE_KEY_FILE", "KAFKA_SSL_CAFILE"):
            if var in env:
                path = Path(str(env[var]))
                assert "secret" in mounts[str(path.parent)], f"{process}: {var} must come from a Secret"
        # Tokens are Keycloak's: no key files, the provider named to every process (the portal
        # verifies none: it signs people in at the provider and passes their tokens on).
        assert "JWT_PUBLIC_KEY_FILE" not in env and "JWT_PRIVATE_KEY_FILE" not in env, process
        assert {"OIDC_ISSUER", "OIDC_JWKS_URL"} <= set(env) or process == PORTAL, process
        assert ("OIDC_TOKEN_URL" in env) == (process == "gateway"), "only the gateway forwards token requests"


def test_keycloak_runs_on_its_own_postgresql() -> None:
    docs = manifests_of(INFRA)
    keycloak = one(docs, "Deployment", "keycloak")
    env = {e["name"]: e for e in container(keycloak)["env"]}
    database = one(docs, "StatefulSet", "keycloak-postgres")
    assert env["KC_DB_URL"]["value"] == "jdbc:postgresql://keycloak-postgres:5432/keycloak"
    assert one(docs, "Service", "keycloak-postgres")["spec"]["selector"].items() <= (
        database["spec"]["template"]["metadata"]["labels"].items()
    )
    assert "secretKeyRef" in env["KC_DB_PASSWORD"]["valueFrom"]
    assert container(keycloak)["args"] == ["start", "--optimized"]
    # The processes read the provider through its Service, at the address the base configuration names.
    common = generated_configmaps(BASE)["alliance-common"]
    port = one(docs, "Service", "keycloak")["spec"]["ports"][0]["port"]
    assert common["OIDC_JWKS_URL"].startswith(f"http://keycloak.alliance-infra.svc:{port}/realms/alliance/")


def referenced_secrets(docs: list[Doc]) -> set[str]:
    names: set[str] = set()
    for deployment in docs:
        if deployment["kind"] != "Deployment":
            continue
        names.update(v["secret"]["secretName"] for v in pod_spec(deployment).get("volumes", []) if "secret" in v)
        for c in pod_spec(deployment)["containers"]:
            names.update(
                e["valueFrom"]["secretKeyRef"]["name"]
                for e in c.get("env", [])
                if "secretKeyRef" in e.get("valueFrom", {})
            )
    return names


def test_secrets_to_create_are_documented() -> None:
    readme = README.read_text()
    infra_secrets = {
        u["passwordSecretRef"]["name"]
        for d in manifests_of(INFRA)
        if d["kind"] == "MongoDBCommunity"
        for u in d["spec"]["users"]
    }
    ingress_secrets = {t["secretName"] for d in manifests_of(BASE) if d["kind"] == "Ingress" for t in d["spec"]["tls"]}
    for name in referenced_secrets(manifests_of(BASE)) | infra_secrets | ingress_secrets:
        assert f"`{name}`" in readme or f" {name} " in readme, f"deploy/README.md does not say how to create {name}"


def documented_secrets() -> set[str]:
    """The Secrets of deploy/README.md's table "Secrets for the platform" (first column)."""
    section = README.read_text().split("### 3. Secrets for the platform", 1)[1].split("\n### ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([a-z0-9-]+)`", line.split("|")[1]))
    return names


def test_the_readme_lists_no_secret_that_nothing_reads() -> None:
    """Every Secret the table asks for is read by a process or an Ingress (no stale ones)."""
    ingress_secrets = {t["secretName"] for d in manifests_of(BASE) if d["kind"] == "Ingress" for t in d["spec"]["tls"]}
    documented = documented_secrets()
    assert documented, "the table of deploy/README.md's section 3 was not found"
    stale = documented - referenced_secrets(manifests_of(BASE)) - ingress_secrets
    assert not stale, f"deploy/README.md asks for Secrets nothing reads: {sorted(stale)}"


def secret_ref(deployment: Doc, var: str) -> tuple[str, str] | None:
    """(Secret, key) the variable comes from, None when it is not set from a Secret."""
    for e in container(deployment).get("env", []):
        if e["name"] == var and "secretKeyRef" in e.get("valueFrom", {}):
            ref = e["valueFrom"]["secretKeyRef"]
            return ref["name"], ref["key"]
    return None


def test_the_shared_and_the_identity_secrets_are_wired() -> None:
    deployments = process_deployments(manifests_of(BASE))
    configmaps = generated_configmaps(BASE)
    # One internal token, from one Secret, in the gateway and in integration.
    internal = {p: secret_ref(deployments[p], "INTERNAL_TOKEN") for p in ("gateway", "integration")}
    assert None not in internal.values() and len(set(internal.values())) == 1, internal
    assert all(secret_ref(d, "INTERNAL_TOKEN") is None for p, d in deployments.items() if p not in internal)
    # Membership and integration manage the realm through their own confidential clients.
    for process in ("membership", "integration"):
        env = env_of(deployments[process], configmaps)
        assert env.get("IDENTITY_URL"), process
        ref = secret_ref(deployments[process], "IDENTITY_CLIENT_SECRET")
        assert ref is not None and ref[0] == f"{process}-identity", process
    # The gateway's and the portal's /metrics want a bearer token: one Secret for both.
    metrics = {p: secret_ref(deployments[p], "METRICS_TOKEN") for p in ("gateway", PORTAL)}
    assert None not in metrics.values() and len(set(metrics.values())) == 1, metrics


def assert_two_replicas_spread_and_scraped(deployment: Doc) -> None:
    """Anti-affinity by node for its own pods, and Prometheus's scrape annotations on its own port."""
    name = deployment["metadata"]["name"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    terms = pod_spec(deployment)["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert any(
        t["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        and t["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= labels.items()
        and t["podAffinityTerm"]["labelSelector"]["matchLabels"].get("app.kubernetes.io/name") == name
        for t in terms
    ), f"{name}: no preferred anti-affinity by hostname for its own pods"
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    port = {p["name"]: p["containerPort"] for p in container(deployment)["ports"]}[HTTP_PORT_NAME]
    assert annotations.get("prometheus.io/scrape") == "true", name
    assert annotations.get("prometheus.io/port") == str(port), name
    assert annotations.get("prometheus.io/path") == "/metrics", name


def test_every_process_has_two_replicas_apart_a_budget_and_a_scrape() -> None:
    docs = manifests_of(BASE)
    deployments = process_deployments(docs)
    assert set(deployments) == set(PROCESSES)
    for process, deployment in deployments.items():
        assert_two_replicas_spread_and_scraped(deployment)
        budgets = [
            d
            for d in docs
            if d["kind"] == "PodDisruptionBudget"
            and d["spec"]["selector"]["matchLabels"].items()
            <= deployment["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert [b["spec"].get("minAvailable") for b in budgets] == [1], f"{process}: one budget, minAvailable 1"


def test_prometheus_may_scrape_the_services() -> None:
    """The services' port admits only the gateway, and Prometheus (for /metrics)."""
    policy = one(manifests_of(BASE), "NetworkPolicy", "services-allow-gateway-only")
    sources = [(peer, rule["ports"]) for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert any(
        peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") == "prometheus"
        and "namespaceSelector" in peer
        and {"protocol": "TCP", "port": 8080} in ports
        for peer, ports in sources
    ), "Prometheus cannot reach the services' /metrics"


def test_only_the_gateway_reaches_the_services() -> None:
    docs = manifests_of(BASE)
    deployments = process_deployments(docs)
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    assert len(policies) == 1
    policy = policies[0]["spec"]
    selected = {
        name
        for name, d in deployments.items()
        if policy["podSelector"]["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
    }
    assert selected == set(SERVICES)
    assert policy["policyTypes"] == ["Ingress"]
    # The gateway's rule, then Prometheus's (test_prometheus_may_scrape_the_services): nothing else.
    rule, scrape = policy["ingress"]
    [peer] = rule["from"]
    [scraper] = scrape["from"]
    assert set(scraper) == {"namespaceSelector", "podSelector"} and all(m["matchLabels"] for m in scraper.values())
    gateway_labels = deployments["gateway"]["spec"]["template"]["metadata"]["labels"]
    assert set(peer) == {"podSelector"} and peer["podSelector"]["matchLabels"].items() <= gateway_labels.items()
    ports = {p["containerPort"] for s in SERVICES for p in container(deployments[s])["ports"]}
    assert [p["port"] for p in rule["ports"]] == sorted(ports)


def test_gateway_is_exposed_by_ingress_and_autoscaled() -> None:
    docs = manifests_of(BASE)
    ingress = one(docs, "Ingress", "gateway")
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            assert path["backend"]["service"] == {"name": "gateway", "port": {"name": HTTP_PORT_NAME}}
    hpa = one(docs, "HorizontalPodAutoscaler", "gateway")
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"] >= 2
    for overlay in OVERLAYS:
        hosts = {
            str(p["value"])
            for patch in kustomization(overlay).get("patches", [])
            if "patch" in patch and patch["target"]["kind"] == "Ingress" and patch["target"]["name"] == "gateway"
            for p in yaml.safe_load(patch["patch"])
        }
        assert hosts and "api.alliance.example" not in hosts, f"{overlay.name} must set its host"


def test_portal_is_exposed_by_its_own_ingress_at_its_public_address() -> None:
    docs = manifests_of(BASE)
    ingress = one(docs, "Ingress", PORTAL)
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            assert path["backend"]["service"] == {"name": PORTAL, "port": {"name": HTTP_PORT_NAME}}
    # a royalty CSV of the largest size the portal takes (1 MiB) passes the ingress
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] == "2m"
    for overlay in OVERLAYS:
        hosts = {
            str(p["value"])
            for patch in kustomization(overlay).get("patches", [])
            if "patch" in patch and patch["target"]["kind"] == "Ingress" and patch["target"]["name"] == PORTAL
            for p in yaml.safe_load(patch["patch"])
        }
        public_url = generated_configmaps(overlay)["portal-config"]["PUBLIC_URL"]
        assert hosts == {public_url.removeprefix("https://").rstrip("/")}, overlay.name


def test_overlays_pin_every_image() -> None:
    for overlay in OVERLAYS:
        images = {i["name"]: i for i in kustomization(overlay)["images"]}
        assert set(images) == {f"alliance/{p}" for p in PROCESSES}, overlay.name
        for image in images.values():
            assert image.get("digest") or image.get("newTag") not in (None, "", "latest"), image


# --- infrastructure ------------------------------------------------------------------------------


def test_kafka_is_kraft_with_three_replicas_and_two_in_sync() -> None:
    docs = manifests_of(INFRA)
    [kafka] = [d for d in docs if d["kind"] == "Kafka"]
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert "zookeeper" not in kafka["spec"]
    pools = [d for d in docs if d["kind"] == "KafkaNodePool"]
    assert all(p["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"] for p in pools)
    controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    assert controllers == 3 and brokers == 3
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3

    # The services' bootstrap address is this cluster's bootstrap Service.
    [listener] = [x for x in kafka["spec"]["kafka"]["listeners"] if x["type"] == "internal"]
    namespace = kustomization(INFRA)["namespace"]
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap.{namespace}.svc:{listener['port']}"
    assert generated_configmaps(BASE)["alliance-services"]["KAFKA_BOOTSTRAP_SERVERS"] == bootstrap


def test_kafka_topics_are_the_services_topics() -> None:
    docs = manifests_of(INFRA)
    [kafka] = [d for d in docs if d["kind"] == "Kafka"]
    topics = [d for d in docs if d["kind"] == "KafkaTopic"]
    names = [t["spec"].get("topicName", t["metadata"]["name"]) for t in topics]
    assert sorted(names) == sorted(expected_topics()) and len(names) == 2 * len(SERVICES)
    services_config = generated_configmaps(BASE)["alliance-services"]
    for topic in topics:
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert topic["spec"]["partitions"] == 6 == int(services_config["KAFKA_TOPIC_PARTITIONS"])
        assert topic["spec"]["replicas"] == 3 == int(services_config["KAFKA_REPLICATION_FACTOR"])


def test_kafka_authenticates_every_client_and_each_service_writes_only_its_topics() -> None:
    """The KafkaUsers' ACLs are the plan the local secured broker applies (from the contracts)."""
    from alliance_local.kafka_security import acl_plan

    docs = manifests_of(INFRA)
    [kafka] = [d for d in docs if d["kind"] == "Kafka"]
    listeners = kafka["spec"]["kafka"]["listeners"]
    assert all(x["authentication"]["type"] == "scram-sha-512" and x["tls"] for x in listeners)
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert "userOperator" in kafka["spec"]["entityOperator"]
    operations = {3: "Read", 4: "Write", 5: "Create", 8: "Describe"}
    expected = set()
    for acl in acl_plan(SERVICES):  # the services deployed here
        kind = "topic" if acl.resource_type == 2 else "group"
        pattern = "literal" if acl.pattern == 3 else "prefix"
        expected.add((acl.principal.removeprefix("User:"), kind, acl.name, pattern, operations[acl.operation]))
    users = [d for d in docs if d["kind"] == "KafkaUser"]
    assert sorted(u["metadata"]["name"] for u in users) == sorted(service_name(s) for s in SERVICES)
    granted = set()
    for user in users:
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        for acl in user["spec"]["authorization"]["acls"]:
            r = acl["resource"]
            for op in acl["operations"]:
                granted.add((user["metadata"]["name"], r["type"], r["name"], r["patternType"], op))
    assert granted == expected
    writes = {(u, name) for u, kind, name, _, op in granted if op == "Write"}
    assert writes == {(u, f"{u}.{x}") for u in {w for w, _ in writes} for x in ("events", "dlq")}
    config = generated_configmaps(BASE)
    assert config["alliance-services"]["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    for process, deployment in process_deployments(manifests_of(BASE)).items():
        if process in SERVICES:
            env = env_of(deployment, config)
            assert env["KAFKA_SASL_USERNAME"] == service_name(process)
            assert "KAFKA_SASL_PASSWORD" in env and env["KAFKA_SASL_PASSWORD"] is None  # from a Secret


def test_mongodb_replica_set_has_one_user_per_service_database() -> None:
    [mongo] = [d for d in manifests_of(INFRA) if d["kind"] == "MongoDBCommunity"]
    assert mongo["spec"]["type"] == "ReplicaSet" and mongo["spec"]["members"] == 3
    assert str(mongo["spec"]["version"]).startswith("7.")
    configmaps = generated_configmaps(BASE)
    users = {u["name"]: u for u in mongo["spec"]["users"]}
    # The gateway's user: its replicas' shared rate-limit counters.
    assert set(users) == {*SERVICES, PORTAL, "gateway"}
    for service in (*SERVICES, PORTAL, "gateway"):
        database = configmaps[f"{service}-config"]["MONGODB_DATABASE"]
        assert users[service]["roles"] == [{"name": "readWrite", "db": database}], "least privilege"


def test_tracing_goes_to_the_collector_over_otlp_http() -> None:
    docs = manifests_of(INFRA)
    collector = one(docs, "Deployment", "otel-collector")
    service = one(docs, "Service", "otel-collector")
    config = yaml.safe_load(generated_configmaps(INFRA)["otel-collector"]["config.yaml"])
    http = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    port = int(http.rpartition(":")[2])
    assert port in {p["containerPort"] for p in container(collector)["ports"]}
    [service_port] = service["spec"]["ports"]
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"] and all(e in config["exporters"] for e in pipeline["exporters"])
    assert all(p in config["processors"] for p in pipeline["processors"])
    namespace = kustomization(INFRA)["namespace"]
    endpoint = f"http://{service['metadata']['name']}.{namespace}.svc:{service_port['port']}"
    for overlay in OVERLAYS:
        # A base URL: the exporter appends /v1/traces itself.
        assert generated_configmaps(overlay)["alliance-common"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == endpoint


# --- rendered with kustomize (offline), when a binary is available -------------------------------


def kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@pytest.mark.parametrize("directory", [BASE, INFRA, *OVERLAYS], ids=lambda p: p.name)
def test_kustomize_renders(directory: Path) -> None:
    command = kustomize_command()
    if command is None:
        pytest.skip("neither kustomize nor kubectl is installed")
    result = subprocess.run([*command, str(directory)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert all(d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace")
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    for deployment in (d for d in docs if d["kind"] == "Deployment"):
        assert_hardened(deployment)
        name = deployment["metadata"]["name"]
        for volume in pod_spec(deployment).get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in configmaps, f"{name}: {volume['configMap']['name']}"
        if name in PROCESSES:
            env = env_of(deployment, configmaps)  # every envFrom resolves to a rendered ConfigMap
            assert set(env) <= deployed_fields(name)
            assert_two_replicas_spread_and_scraped(deployment)
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            budgets = [
                d
                for d in docs
                if d["kind"] == "PodDisruptionBudget" and d["spec"]["selector"]["matchLabels"].items() <= labels.items()
            ]
            assert [b["spec"].get("minAvailable") for b in budgets] == [1], f"{directory.name}/{name}"
            scalers = [
                d
                for d in docs
                if d["kind"] == "HorizontalPodAutoscaler" and d["spec"]["scaleTargetRef"]["name"] == name
            ]
            replicas = scalers[0]["spec"]["minReplicas"] if scalers else deployment["spec"]["replicas"]
            assert replicas >= 2, f"{directory.name}/{name}: {replicas} replicas"
            if directory == BASE:
                assert replicas == 2, name
            if directory in OVERLAYS:
                image = container(deployment)["image"]
                assert re.search(r"(:[\w.-]+|@sha256:[0-9a-f]{64})$", image) and not image.endswith(":latest")
                assert env["ENVIRONMENT"] == "production"
                if name == "gateway":
                    assert env["DEV_LOGIN_ENABLED"] == "false"


# --- the image -----------------------------------------------------------------------------------


def dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text()


def test_dockerfile_builds_every_process_as_non_root() -> None:
    text = dockerfile()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert re.search(rf"^USER {UID}:{UID}$", text, re.M)
    for process in PROCESSES:
        assert f'FROM runtime AS app-{process}\nCMD ["python", "-m", "{process}"]' in text
    assert text.rstrip().endswith("FROM app-${SERVICE}")
    # No secret-looking build arguments or environment variables.
    for name in re.findall(r"^(?:ARG|ENV)\s+(\w+)", text, re.M):
        assert not re.search(r"SECRET|PASSWORD|TOKEN|KEY|MONGODB_URL", name), name


def test_dockerignore_is_an_allow_list() -> None:
    lines = [
        line
        for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    assert {"!uv.lock", "!pyproject.toml", "!libs", "!services", "!gateway", "!portal"} <= set(lines)
    assert "**/tests" in lines


def lock() -> Doc:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def lock_closure(packages: dict[str, Doc], root: str) -> set[str]:
    """Every package that installing `root` from uv.lock brings in (extras followed, markers ignored)."""
    seen: set[str] = set()
    stack: list[tuple[str, tuple[str, ...]]] = [(root, ())]
    while stack:
        name, extras = stack.pop()
        package = packages[name]
        deps = list(package.get("dependencies", []))
        for extra in extras:
            deps.extend(package.get("optional-dependencies", {}).get(extra, []))
        if name in seen and not extras:
            continue
        seen.add(name)
        stack.extend((dep["name"], tuple(dep.get("extra", []))) for dep in deps)
    return seen


def imported_modules(directory: Path) -> set[str]:
    """Top-level names of the absolute imports in a package's code (tests left out)."""
    names: set[str] = set()
    for file in directory.rglob("*.py"):
        if "tests" in file.relative_to(directory).parts:
            continue
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__"}


def workspace_members() -> dict[str, Path]:
    """Package name -> folder, for every installable workspace member in uv.lock."""
    return {p["name"]: ROOT / p["source"]["editable"] for p in lock()["package"] if "editable" in p.get("source", {})}


def test_the_dockerfile_installs_one_process_from_the_lock_without_dev_tools() -> None:
    text = dockerfile()
    installs = re.findall(r"uv sync ([^\n\\]*)", text)
    assert len(installs) == 2, installs  # the dependencies' layer, then the workspace packages
    for flags in installs:
        assert {"--frozen", "--no-dev", '--package "alliance-$SERVICE"'} <= set(
            re.findall(r'--package "[^"]+"|--[\w-]+', flags)
        ), flags
    assert "--no-install-workspace" in installs[0] and "--no-editable" in installs[1]
    assert "pip install --no-deps" not in text and "requirements" not in text
    # One pinned uv for the workspace: the one scripts/setup installs.
    pinned = re.search(r"^UV_VERSION=(\S+)$", (ROOT / "scripts" / "setup").read_text(), re.M)
    assert pinned and f"ARG UV_VERSION={pinned.group(1)}\n" in text


def test_every_package_declares_what_it_imports() -> None:
    """Each package lists what its code imports as a direct dependency (so an image built with
    `uv sync --package` has it); and no process's image gets the dev group (test and lint tools)."""
    packages = {p["name"]: p for p in lock()["package"]}
    distributions = {
        module: {canonicalize_name(d) for d in dists}
        for module, dists in importlib.metadata.packages_distributions().items()
    }
    members = workspace_members()
    assert {f"alliance-{p}" for p in PROCESSES} <= set(members)
    for name, folder in members.items():
        direct = {dep["name"] for dep in packages[name].get("dependencies", [])}
        sources = [d for d in folder.iterdir() if (d / "__init__.py").is_file() and d.name != "tests"]
        assert sources, f"{name}: no package in {folder}"
        own = {d.name for d in sources}
        for module in set().union(*(imported_modules(d) for d in sources)) - own:
            assert module in distributions, f"{name} imports {module}, which no installed distribution provides"
            assert distributions[module] & direct, f"{name} imports {module} but does not list it in its pyproject.toml"
    dev = {canonicalize_name(r["name"]) for r in packages["alliance-platform"]["dev-dependencies"]["dev"]}
    dev -= {"packaging"}  # the tests import it, and OpenTelemetry's instrumentation needs it at run time
    assert {"pytest", "mypy", "ruff"} <= dev
    for process in PROCESSES:
        bundled = lock_closure(packages, f"alliance-{process}") & dev
        assert not bundled, f"the {process} image would carry dev tools: {sorted(bundled)}"
