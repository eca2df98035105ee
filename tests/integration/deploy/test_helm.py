"""The Helm chart (deploy/helm/spikekit) against the stack it deploys, with the real helm.

``helm lint`` and ``helm template`` run for real (``.tools/bin/helm``, built by ``make
install``); no cluster is involved. The rendered manifests are checked against the code
the stack supervisor runs: every service of ``default_stack()`` has a workload whose
environment holds every variable ``Stack.platform_env`` gives that service, its keys
are the ones ``StackKeys.verifier_keys`` would give it, Toxiproxy has one proxy per link
that ``LinkPlan`` plans, and so on. Each check is a function returning what it finds
wrong, and each is shown to find something in a render broken on purpose.
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from spikekit.reference_platform.common.service_auth import STUDIO_PREFIX, caller_of
from spikekit.reference_platform.links import LinkPlan
from spikekit.reference_platform.spec import Backing, Profile, StackSpec, default_stack
from spikekit.reference_platform.supervisor import Stack
from spikekit.toxiproxy.client import ProxySpec

ROOT = Path(__file__).resolve().parents[3]
HELM = ROOT / ".tools" / "bin" / "helm"
CHART = ROOT / "deploy" / "helm" / "spikekit"
RELEASE = "t"
KUBE_VERSION = "1.30.0"  # the chart needs >= 1.28 (the StatefulSet pod-index label)
FULLNAME = f"{RELEASE}-spikekit"
PORT = 8080  # the chart's servicePort
WORKLOADS = ("Deployment", "StatefulSet")
# every service but the wallet: its replicas are load on PostgreSQL, scaled by hand
STATELESS = tuple(n for n in default_stack().names if n != "wallet")
# processes whose replica number names something shared in Redis (docs/kubernetes.md)
ORDINAL = ("payments-worker", "reporting", "router")

Doc = dict[str, Any]


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    if not HELM.exists():
        pytest.fail(f"{HELM} is missing: run make install (it builds helm with Go)")
    return subprocess.run(
        [str(HELM), *args], capture_output=True, text=True, timeout=120, check=False
    )


def render(*sets: str) -> list[Doc]:
    args = ["template", RELEASE, str(CHART), "--kube-version", KUBE_VERSION]
    for item in sets:
        args += ["--set", item]
    result = helm(*args)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


# -- what the supervisor would do ------------------------------------------------------


class _FakeProxies:
    """The Toxiproxy API as LinkPlan uses it: nothing is created, the plan is the point."""

    def populate(self, specs: list[ProxySpec]) -> None:
        pass


@dataclass
class _FakeToxiproxy:
    client: _FakeProxies


@dataclass(frozen=True)
class Expected:
    """The supervisor's view of a stack: each service's variables and the link names."""

    env: dict[str, set[str]]
    links: set[str]
    stack: Stack


def expected(spec: StackSpec, state_dir: Path) -> Expected:
    """Plan the stack as ``Stack.start`` does (placeholder ports, nothing started)."""
    stack = Stack(spec, state_dir)
    plan = LinkPlan(spec, _FakeToxiproxy(_FakeProxies()))  # type: ignore[arg-type]
    plan.route_backing({Backing.POSTGRES: 15432, Backing.REDIS: 16379})
    ports = {(s.name, i): 18000 + n for n, (s, i) in enumerate(_replicas(spec))}
    plan.route_services(ports)
    stack.links = plan
    env = {s.name: set(stack.platform_env(s, 0, PORT)) for s in spec.services}
    return Expected(env, {link.name for link in plan.links}, stack)


def _replicas(spec: StackSpec) -> Iterable[tuple[Any, int]]:
    return [(s, i) for s in spec.services for i in range(s.replicas)]


@pytest.fixture(scope="module")
def want(tmp_path_factory: pytest.TempPathFactory) -> Expected:
    spec = default_stack()
    assert spec.profile is Profile.RESILIENT
    return expected(spec, tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="module")
def docs() -> list[Doc]:
    return render()


# -- reading a render ------------------------------------------------------------------


def component(doc: Doc) -> str:
    return str(doc["metadata"]["labels"]["app.kubernetes.io/component"])


def workloads(docs: list[Doc]) -> dict[str, Doc]:
    return {component(d): d for d in docs if d["kind"] in WORKLOADS}


def container(doc: Doc) -> Doc:
    containers: list[Doc] = doc["spec"]["template"]["spec"]["containers"]
    return containers[0]


def env_of(doc: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in container(doc).get("env", [])}


def secret(docs: list[Doc], name: str) -> dict[str, str]:
    found = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == name]
    assert found, f"no Secret {name}"
    return {k: base64.b64decode(v).decode() for k, v in found[0]["data"].items()}


def secret_value(docs: list[Doc], var: Doc) -> str:
    if "value" in var:
        return str(var["value"])
    ref = var["valueFrom"]["secretKeyRef"]
    return secret(docs, ref["name"])[ref["key"]]


def proxies(docs: list[Doc]) -> dict[str, Doc]:
    maps = [d for d in docs if d["kind"] == "ConfigMap" and component(d) == "toxiproxy"]
    assert len(maps) <= 1, "expected one Toxiproxy ConfigMap at most"
    listed = json.loads(maps[0]["data"]["toxiproxy.json"]) if maps else []
    return {p["name"]: p for p in listed}


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


# -- the checks: each returns what is wrong --------------------------------------------


def missing_workloads(docs: list[Doc], spec: StackSpec) -> list[str]:
    return [n for n in spec.names if n not in workloads(docs)]


def missing_env(docs: list[Doc], want: Expected) -> dict[str, set[str]]:
    found = workloads(docs)
    gaps = {n: names - set(env_of(found[n])) for n, names in want.env.items() if n in found}
    return {n: gap for n, gap in gaps.items() if gap}


def wrong_values(docs: list[Doc], spec: StackSpec) -> list[str]:
    """Each service's own variables, and its command starting its own app factory."""
    problems = []
    for service in spec.services:
        doc = workloads(docs).get(service.name)
        if doc is None:
            continue
        env = env_of(doc)
        own = {"SPIKEKIT_SERVICE": service.name, "SPIKEKIT_PROFILE": spec.profile.value}
        own["SPIKEKIT_PORT"] = str(PORT)
        for key, value in own.items():
            if env.get(key, {}).get("value") != value:
                problems.append(f"{service.name}: {key} is not {value!r}")
        if service.app not in container(doc)["command"]:
            problems.append(f"{service.name}: its command does not start {service.app}")
    return problems


def unscaled(docs: list[Doc], names: Iterable[str]) -> list[str]:
    targets = {
        (h["spec"]["scaleTargetRef"]["kind"], h["spec"]["scaleTargetRef"]["name"])
        for h in of_kind(docs, "HorizontalPodAutoscaler")
    }
    found = workloads(docs)
    return [
        n
        for n in names
        if n not in found or (found[n]["kind"], found[n]["metadata"]["name"]) not in targets
    ]


def too_few_replicas(docs: list[Doc], spec: StackSpec) -> list[str]:
    minimum = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["minReplicas"]
        for h in of_kind(docs, "HorizontalPodAutoscaler")
    }
    problems = []
    for service in spec.services:
        doc = workloads(docs).get(service.name)
        if doc is None:
            continue
        count = doc["spec"].get("replicas", minimum.get(doc["metadata"]["name"], 1))
        if count < service.replicas:
            problems.append(f"{service.name}: {count} < {service.replicas}")
    return problems


def proxy_mismatch(docs: list[Doc], links: set[str]) -> tuple[set[str], set[str]]:
    """(links without a proxy, proxies without a link)"""
    names = set(proxies(docs))
    return links - names, names - links


def miswired(docs: list[Doc], spec: StackSpec) -> list[str]:
    """Every service reaches each dependency through its own proxy, whose upstream is that
    dependency's Kubernetes Service."""
    by_port = {int(p["listen"].rsplit(":", 1)[1]): p for p in proxies(docs).values()}
    upstreams = {
        "postgres": f"{FULLNAME}-postgres:5432",
        "redis": f"{FULLNAME}-redis:6379",
    }
    problems = []
    for service in spec.services:
        doc = workloads(docs).get(service.name)
        if doc is None:
            continue
        env = env_of(doc)
        for need in service.needs:
            var = {"postgres": "SPIKEKIT_DATABASE_URL", "redis": "SPIKEKIT_REDIS_URL"}.get(
                need, f"SPIKEKIT_{need.upper().replace('-', '_')}_URLS"
            )
            if var not in env:
                problems.append(f"{service.name}: no {var}")
                continue
            address = secret_value(docs, env[var]).split("@")[-1].split("//")[-1]
            host, _, rest = address.partition(":")
            proxy = by_port.get(int(rest.split("/")[0])) if rest else None
            want_upstream = upstreams.get(need, f"{FULLNAME}-{need}:{PORT}")
            if host != f"{FULLNAME}-toxiproxy" or proxy is None:
                problems.append(f"{service.name} → {need}: {address} is not a Toxiproxy link")
            elif proxy["name"] != f"{service.name}-{need}" or proxy["upstream"] != want_upstream:
                problems.append(f"{service.name} → {need}: through {proxy}")
    return problems


def wrong_keys(docs: list[Doc], want: Expected) -> list[str]:
    """Each service holds the keys the supervisor would give it, and no other: it accepts
    the callers ``StackKeys.verifier_keys`` names, signs with its identity's key, which its
    callees accept (current first), and only studios and the wallet hold studio secrets."""
    keys = want.stack.keys
    found = {n: env_of(d) for n, d in workloads(docs).items() if n in want.env}
    signing: dict[str, set[str]] = {}  # identity -> the keys its services sign with
    for name, env in found.items():
        own = secret_value(docs, env["SPIKEKIT_CALLER_KEY"])
        if own:
            signing.setdefault(caller_of(name), set()).add(own)
    problems = [f"{c} signs with {len(k)} keys" for c, k in signing.items() if len(k) != 1]
    if len({min(k) for k in signing.values()}) != len(signing):
        problems.append("two callers share a key")
    for name, env in found.items():
        accepted = json.loads(secret_value(docs, env["SPIKEKIT_CALLER_KEYS"]))
        if set(accepted) != set(keys.verifier_keys(name)):
            problems.append(f"{name} accepts {sorted(accepted)}")
        for caller, held in accepted.items():
            if caller in signing and held[:1] != sorted(signing[caller])[:1]:
                problems.append(f"{name} does not hold {caller}'s current key first")
        if (caller_of(name) in keys.callers) != (caller_of(name) in signing):
            problems.append(f"{name}: its own key is wrongly set or empty")
        studio_vars = {"SPIKEKIT_PROVIDER_WALLET_SECRET", "SPIKEKIT_PROVIDER_SESSION_SECRET"}
        if name.startswith(STUDIO_PREFIX) != (studio_vars <= set(env)):
            problems.append(f"{name}: studio secrets where they do not belong")
        if (name == "wallet") != ("SPIKEKIT_WALLET_PROVIDER_SECRETS" in env):
            problems.append(f"{name}: the studios' wallet secrets where they do not belong")
    return problems


def master_target(docs: list[Doc]) -> tuple[str, int] | None:
    """Where the Locust workers connect, when that is a Service selecting the master."""
    workers = workloads(docs).get("locust-worker")
    if workers is None or workers["kind"] != "Deployment":
        return None
    argv = container(workers)["command"]
    if argv[:2] != ["spikekit", "worker"] or "--master" not in argv:
        return None
    host = argv[argv.index("--master") + 1]
    port = int(argv[argv.index("--master-port") + 1]) if "--master-port" in argv else 5557
    master_pods = [
        d["spec"]["template"]["metadata"]["labels"]
        for d in of_kind(docs, "Job")
        if component(d) == "locust-master"
    ]
    for service in of_kind(docs, "Service"):
        if service["metadata"]["name"] != host:
            continue
        ports = {p["port"] for p in service["spec"]["ports"]}
        selector = service["spec"]["selector"].items()
        if port in ports and any(selector <= labels.items() for labels in master_pods):
            return host, port
    return None


# -- the tests -------------------------------------------------------------------------


def test_helm_lint_passes() -> None:
    result = helm("lint", "--strict", str(CHART))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_template_renders_the_whole_platform(docs: list[Doc]) -> None:
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "StatefulSet", "Service", "HorizontalPodAutoscaler"} <= kinds
    assert {"Secret", "ConfigMap", "Job"} <= kinds
    assert missing_workloads(docs, default_stack()) == []
    assert too_few_replicas(docs, default_stack()) == []


def test_every_service_gets_the_supervisors_variables(docs: list[Doc], want: Expected) -> None:
    assert want.env["gateway"] >= {"SPIKEKIT_PAYMENTS_URLS", "SPIKEKIT_CALLER_KEY"}
    assert missing_env(docs, want) == {}
    assert wrong_values(docs, default_stack()) == []
    assert miswired(docs, default_stack()) == []


def test_every_service_holds_only_its_keys(docs: list[Doc], want: Expected) -> None:
    assert wrong_keys(docs, want) == []


def test_the_stateless_services_are_autoscaled(docs: list[Doc]) -> None:
    assert unscaled(docs, STATELESS) == []
    assert unscaled(docs, ["wallet"]) == ["wallet"]


def test_shared_replica_names_come_from_the_pod_index(docs: list[Doc]) -> None:
    for name in ORDINAL:
        doc = workloads(docs)[name]
        assert doc["kind"] == "StatefulSet"
        field = env_of(doc)["SPIKEKIT_REPLICA"]["valueFrom"]["fieldRef"]["fieldPath"]
        assert field == "metadata.labels['apps.kubernetes.io/pod-index']"


def test_locust_workers_join_the_master_service(docs: list[Doc]) -> None:
    assert master_target(docs) == (f"{FULLNAME}-locust-master", 5557)


def test_toxiproxy_has_a_proxy_per_link(docs: list[Doc], want: Expected) -> None:
    assert len(want.links) > 20
    assert proxy_mismatch(docs, want.links) == (set(), set())
    toxiproxy = workloads(docs)["toxiproxy"]
    assert toxiproxy["kind"] == "Deployment"
    ports = {p["containerPort"] for p in container(toxiproxy)["ports"]}
    assert {int(p["listen"].rsplit(":", 1)[1]) for p in proxies(docs).values()} <= ports


def test_external_postgres_replaces_the_statefulset(docs: list[Doc]) -> None:
    assert "postgres" in workloads(docs)
    url = "postgresql://app:pw@db.example.com:5433/spikekit"
    external = render(f"postgres.external.url={url}")
    assert "postgres" not in workloads(external)
    assert "redis" in workloads(external)
    assert proxies(external)["wallet-postgres"]["upstream"] == "db.example.com:5433"
    wallet = env_of(workloads(external)["wallet"])
    dsn = secret_value(external, wallet["SPIKEKIT_DATABASE_URL"])
    assert dsn.startswith("postgresql://app:pw@") and dsn.endswith("/spikekit")


def test_given_keys_are_used_for_a_rotation() -> None:
    docs = render(
        "serviceKeys.callers.gateway.sign=new",
        "serviceKeys.callers.gateway.accept={new,old}",
    )
    wallet, gateway = env_of(workloads(docs)["wallet"]), env_of(workloads(docs)["gateway"])
    assert json.loads(secret_value(docs, wallet["SPIKEKIT_CALLER_KEYS"]))["gateway"] == [
        "new",
        "old",
    ]
    assert secret_value(docs, gateway["SPIKEKIT_CALLER_KEY"]) == "new"


# -- each check finds what a broken render gets wrong ----------------------------------


def test_the_checks_notice_a_dropped_service(want: Expected) -> None:
    broken = render("services.reporting.enabled=false")
    assert missing_workloads(broken, default_stack()) == ["reporting"]
    assert unscaled(broken, STATELESS) == ["reporting"]
    assert proxy_mismatch(broken, want.links) == ({"reporting-postgres", "reporting-redis"}, set())


def test_the_checks_notice_a_missing_variable(want: Expected) -> None:
    broken = render("services.gateway.needs={redis,auth,wallet,router}")
    assert missing_env(broken, want) == {"gateway": {"SPIKEKIT_PAYMENTS_URLS"}}
    assert proxy_mismatch(broken, want.links) == ({"gateway-payments"}, set())
    assert miswired(broken, default_stack()) == ["gateway: no SPIKEKIT_PAYMENTS_URLS"]


def test_the_checks_notice_wrong_values_and_wiring(docs: list[Doc]) -> None:
    broken = render("profile=fragile", "toxiproxy.enabled=false")
    assert "gateway: SPIKEKIT_PROFILE is not 'resilient'" in wrong_values(broken, default_stack())
    assert any(p.startswith("wallet → postgres") for p in miswired(broken, default_stack()))
    assert proxy_mismatch(broken, {"wallet-postgres"}) == ({"wallet-postgres"}, set())
    swapped = copy.deepcopy(docs)
    command = container(workloads(swapped)["auth"])["command"]
    command[-1] = default_stack().service("wallet").app
    assert wrong_values(swapped, default_stack()) == [
        "auth: its command does not start spikekit.reference_platform.auth.entrypoints.app:"
        "create_app"
    ]


def test_the_checks_notice_wrong_keys_and_autoscaling(want: Expected) -> None:
    broken = render("services.wallet.accepts={gateway}", "services.auth.autoscaling.enabled=false")
    assert wrong_keys(broken, want) == ["wallet accepts ['gateway']"]
    assert unscaled(broken, STATELESS) == ["auth"]
    assert too_few_replicas(render("services.payments-worker.replicas=1"), default_stack()) == [
        "payments-worker: 1 < 2"
    ]
    leaked = render("services.payments.studio=aurora")
    assert wrong_keys(leaked, want) == ["payments: studio secrets where they do not belong"]


def test_the_check_notices_workers_pointed_elsewhere(docs: list[Doc]) -> None:
    broken = copy.deepcopy(docs)
    argv = container(workloads(broken)["locust-worker"])["command"]
    argv[argv.index("--master") + 1] = f"{FULLNAME}-gateway"
    assert master_target(broken) is None
    assert master_target(render("locust.master.enabled=false")) is None
