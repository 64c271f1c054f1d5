"""The deployment files in deploy/ agree with the code, the instance and the README.

They cannot run here (no container runtime), so this reads them: every Dagster service
sets exactly the variables ``configuration.py`` requires plus those the instance's
``dagster.yaml`` and the workspace read (derived from those files, not copied), the
commands are the ones the README's "Deploying it" section gives, the image is pinned and
non-root, the Helm values repeat ``dagster.yaml``'s choices, and no secret is written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import subway_platform
from subway_platform import configuration
from subway_platform.configuration import DAGSTER_PG_URL, Setting
from subway_platform.platform.services import COMPUTE_LOG_BUCKET_ENV
from subway_platform.platform.spark.jars import spark_home
from subway_platform.platform.spark.server import CONNECT_SERVER_CLASS, delta_conf, s3a_conf

REPO = Path(subway_platform.__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
IMAGE_REF = "${SUBWAY_IMAGE:-subway-platform:0.1.0}"
BASE_IMAGE = "python:3.11.7-slim-bookworm"

# What boto3 (the compute log manager's S3 client) reads besides the endpoint.
S3_CLIENT_VARS = frozenset(
    {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_EC2_METADATA_DISABLED"}
)
# The image's runtime variables that are not configuration (paths and interpreter).
IMAGE_RUNTIME_VARS = frozenset(
    {"PATH", "SUBWAY_SPARK_JARS_DIR", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "PYTHONUNBUFFERED"}
)
# The Helm chart writes the instance's dagster.yaml itself (its own storage and compute
# log settings) and sets DAGSTER_HOME.
CHART_PROVIDES = frozenset({"DAGSTER_HOME", DAGSTER_PG_URL, COMPUTE_LOG_BUCKET_ENV})
SECRET_NAME = re.compile(r"PASSWORD|SECRET|DSN|PG_URL|TOKEN|KEY", re.IGNORECASE)
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(\$\{[^}]*\}|[^@\s]+)@")


# -- what the code and the instance require ----------------------------------------------------
def setting_names() -> set[str]:
    return {s.name for s in configuration.SETTINGS}


def required_names() -> set[str]:
    return {s.name for s in configuration.SETTINGS if s.required}


def env_refs(node: Any) -> set[str]:
    """Variables a Dagster YAML file reads: ``{env: NAME}`` values and ``*_env: NAME`` keys."""
    found: set[str] = set()
    if isinstance(node, dict):
        if set(node) == {"env"} and isinstance(node["env"], str):
            return {node["env"]}
        for key, value in node.items():
            if isinstance(key, str) and key.endswith("_env") and isinstance(value, str):
                found.add(value)
            found |= env_refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= env_refs(item)
    return found


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def instance_vars() -> set[str]:
    """What every process that opens the instance needs."""
    return env_refs(_load(REPO / "dagster.yaml")) | {"DAGSTER_HOME"} | set(S3_CLIENT_VARS)


def workspace_vars() -> set[str]:
    return env_refs(_load(DEPLOY / "workspace.yaml"))


def known_names() -> set[str]:
    return setting_names() | instance_vars() | workspace_vars()


# -- the README's commands ------------------------------------------------------------------
def readme_commands() -> dict[str, str]:
    """``service -> command`` from the table of README's "## Deploying it" section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Deploying it\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    rows = re.findall(r"^\| `([\w-]+)` \| `([^`]+)`", section, flags=re.MULTILINE)
    return dict(rows)


def _words(command: Any) -> str:
    return " ".join(command) if isinstance(command, list) else " ".join(str(command).split())


def _argv_shape(argv: list[str]) -> tuple[tuple[str, ...], frozenset[tuple[str, str]]]:
    """Leading words and (option, value) pairs: the same command whatever the option order."""
    head = tuple(w for w in argv[: next((i for i, w in enumerate(argv) if w.startswith("-")), 0)])
    pairs = frozenset(zip(argv[len(head) :: 2], argv[len(head) + 1 :: 2], strict=False))
    return head, pairs


# -- the Dockerfile -----------------------------------------------------------------------------
def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instr, _, rest = line.partition(" ")
            out.append((instr.upper(), rest.strip()))
    return out


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (instr, _) in enumerate(instructions) if instr == "FROM")
    return instructions[last_from:]


def image_env() -> set[str]:
    names: set[str] = set()
    for instr, rest in final_stage():
        if instr == "ENV":
            names |= set(re.findall(r"(?:^|\s)([A-Z_][A-Z0-9_]*)=", rest))
    return names


def image_cmd() -> list[str]:
    cmds = [rest for instr, rest in final_stage() if instr == "CMD"]
    assert len(cmds) == 1, "the image has one default command, in exec form"
    return json.loads(cmds[0])


# -- compose ------------------------------------------------------------------------------------
def compose_services() -> dict[str, dict[str, Any]]:
    return _load(DEPLOY / "compose.yaml")["services"]


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def effective_compose_env(service: dict[str, Any]) -> set[str]:
    """The service's variables plus the configuration the image itself sets."""
    names = set(compose_env(service))
    if service.get("image") == IMAGE_REF:
        names |= image_env() - IMAGE_RUNTIME_VARS
    return names


# -- Helm ---------------------------------------------------------------------------------------
def helm_values() -> dict[str, Any]:
    return _load(DEPLOY / "helm" / "values.yaml")


def helm_secret_keys() -> dict[str, set[str]]:
    docs = yaml.safe_load_all((DEPLOY / "helm" / "secret.example.yaml").read_text("utf-8"))
    return {d["metadata"]["name"]: set(d["stringData"]) for d in docs if d}


def helm_env(component: dict[str, Any]) -> set[str]:
    names = {e["name"] for e in component.get("env") or []}
    secrets = helm_secret_keys()
    for ref in component.get("envSecrets") or []:
        names |= secrets[ref["name"]]
    return names


def user_deployment() -> dict[str, Any]:
    deployments = helm_values()["dagster-user-deployments"]["deployments"]
    assert len(deployments) == 1
    return deployments[0]


# -- tests: variables ---------------------------------------------------------------------------
def _diff(actual: set[str], expected: set[str]) -> dict[str, list[str]]:
    return {"missing": sorted(expected - actual), "unexpected": sorted(actual - expected)}


NO_DIFF = {"missing": [], "unexpected": []}


def test_derived_sets_are_what_the_platform_reads() -> None:
    assert {"SUBWAY_LANDING_URL", "SUBWAY_MART_DSN"} <= required_names()
    assert {DAGSTER_PG_URL, COMPUTE_LOG_BUCKET_ENV, "AWS_ENDPOINT_URL"} <= instance_vars()
    assert S3_CLIENT_VARS <= setting_names()
    assert workspace_vars() == {"SUBWAY_CODE_SERVER_HOST", "SUBWAY_CODE_SERVER_PORT"}


def test_compose_dagster_services_set_exactly_what_they_need() -> None:
    services = compose_services()
    code_expected = required_names() | instance_vars() | {"SPARK_REMOTE"}
    assert _diff(effective_compose_env(services["code-server"]), code_expected) == NO_DIFF
    for name in ("dagster-webserver", "dagster-daemon"):
        expected = instance_vars() | workspace_vars()
        assert _diff(effective_compose_env(services[name]), expected) == NO_DIFF, name
    assert _diff(effective_compose_env(services["dagster-init"]), instance_vars()) == NO_DIFF
    for name, service in services.items():
        if service.get("image") == IMAGE_REF and name.startswith(("dagster", "code")):
            assert effective_compose_env(service) <= known_names(), name


def test_helm_components_set_exactly_what_they_need() -> None:
    values = helm_values()
    instance = instance_vars() - CHART_PROVIDES
    code_expected = required_names() | instance | {"SUBWAY_SPARK_MASTER"}
    assert "SUBWAY_SPARK_MASTER" in setting_names()
    assert _diff(helm_env(user_deployment()), code_expected) == NO_DIFF
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert user_deployment()["includeConfigInLaunchedRuns"]["enabled"] is True
    assert helm_env(launcher) | helm_env(user_deployment()) == code_expected
    for name in ("dagsterWebserver", "dagsterDaemon"):
        assert _diff(helm_env(values[name]), instance) == NO_DIFF, name


def test_a_new_required_setting_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The expected sets follow configuration.py: a new required variable the files lack
    makes the comparisons above fail."""
    extra = Setting("SUBWAY_NEW_REQUIRED", "a new one", "x", lambda _: None, required=True)
    monkeypatch.setattr(configuration, "SETTINGS", (*configuration.SETTINGS, extra))
    code_expected = required_names() | instance_vars() | {"SPARK_REMOTE"}
    found = _diff(effective_compose_env(compose_services()["code-server"]), code_expected)
    assert found["missing"] == ["SUBWAY_NEW_REQUIRED"]


# -- tests: commands ----------------------------------------------------------------------------
def test_compose_commands_are_the_readme_commands() -> None:
    readme = readme_commands()
    services = compose_services()
    exact = ("code-server", "dagster-webserver", "dagster-daemon", "dagster-init")
    for name in (*exact, "superset-dashboard"):
        assert _words(services[name]["command"]) == readme[name], name
    spark = _words(services["spark-connect"]["command"])
    assert spark.startswith(readme["spark-connect"])
    assert CONNECT_SERVER_CLASS in readme["spark-connect"]


def test_image_and_helm_run_the_readme_code_server() -> None:
    readme = readme_commands()["code-server"]
    assert " ".join(image_cmd()) == readme
    deployment = user_deployment()
    chart_argv = [
        "dagster",
        "code-server",
        "start",
        "-h",
        "0.0.0.0",
        "-p",
        str(deployment["port"]),
        *deployment["codeServerArgs"],
    ]
    assert _argv_shape(chart_argv) == _argv_shape(readme.split())


def test_the_workspace_points_at_the_code_server_of_the_readme() -> None:
    services = compose_services()
    readme = readme_commands()["code-server"].split()
    port = readme[readme.index("-p") + 1]
    for name in ("dagster-webserver", "dagster-daemon"):
        env = compose_env(services[name])
        assert (env["SUBWAY_CODE_SERVER_HOST"], env["SUBWAY_CODE_SERVER_PORT"]) == (
            "code-server",
            port,
        )
        workspace = readme_commands()[name].split()[-1]
        assert workspace.endswith("deploy/workspace.yaml")
    copied = [rest for instr, rest in final_stage() if instr == "COPY"]
    assert any(c.startswith("deploy/workspace.yaml ") and c.endswith(workspace) for c in copied)


def test_spark_connect_service_has_the_platform_spark_conf() -> None:
    service = compose_services()["spark-connect"]
    argv = service["command"]
    conf = dict(argv[i + 1].split("=", 1) for i, w in enumerate(argv) if w == "--conf")
    env = compose_env(service)
    assert conf.items() >= delta_conf().items()
    assert conf.items() >= s3a_conf(env).items()
    assert conf["spark.connect.grpc.binding.address"] == "0.0.0.0"
    port = conf["spark.connect.grpc.binding.port"]
    code_env = compose_env(compose_services()["code-server"])
    assert code_env["SPARK_REMOTE"] == f"sc://spark-connect:{port}"
    connect_jar = Path(argv[-1]).name
    assert (spark_home() / "jars" / connect_jar).is_file(), connect_jar
    assert argv[argv.index("--jars") + 1].startswith("/opt/spark-jars/")


# -- tests: the image -----------------------------------------------------------------------------
def test_image_is_pinned_non_root_and_bakes_the_spark_jars() -> None:
    instructions = dockerfile_instructions()
    bases = [rest.split()[0] for instr, rest in instructions if instr == "FROM"]
    assert bases and all(b == BASE_IMAGE for b in bases), bases
    users = [rest for instr, rest in final_stage() if instr == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    runs = " ".join(rest for instr, rest in instructions if instr == "RUN")
    assert "--constraint deploy/constraints.txt" in runs
    assert "subway-platform spark-jars" in runs
    assert "openjdk-17" in runs
    copied = [rest for instr, rest in final_stage() if instr == "COPY"]
    assert any("/opt/spark-jars" in c and "--from=build" in c for c in copied)
    constraints = (DEPLOY / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pins = [line for line in constraints if line and not line.startswith("#")]
    assert pins and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.+!-]+", p) for p in pins)
    pinned = {p.split("==")[0].lower().replace("_", "-") for p in pins}
    assert {"dagster", "dagster-aws", "dagster-pyspark", "pyspark", "delta-spark"} <= pinned


def test_other_compose_images_and_helm_image_are_pinned() -> None:
    for name, service in compose_services().items():
        image = service.get("image")
        if image is None:
            assert "build" in service, name
            continue
        if image == IMAGE_REF:
            continue
        tag = image.rsplit(":", 1)[-1]
        assert ":" in image and tag != "latest" and re.search(r"\d", tag), (name, image)
    superset = (DEPLOY / "superset" / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/superset:\d+\.\d+\.\d+$", superset, flags=re.MULTILINE)
    values = helm_values()
    for image in (values["dagsterWebserver"]["image"], user_deployment()["image"]):
        assert image["tag"] != "latest" and re.search(r"\d", str(image["tag"]))
    assert values["dagsterWebserver"]["image"] == user_deployment()["image"]
    assert user_deployment()["podSecurityContext"]["runAsNonRoot"] is True


# -- tests: Helm repeats dagster.yaml -------------------------------------------------------------
def test_helm_values_repeat_the_instance_choices() -> None:
    instance = _load(REPO / "dagster.yaml")
    values = helm_values()
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    daemon = values["dagsterDaemon"]
    limits = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]
    assert limits == instance["run_coordinator"]["config"]["tag_concurrency_limits"]
    queue = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert (
        queue["dequeueIntervalSeconds"]
        == instance["run_coordinator"]["config"]["dequeue_interval_seconds"]
    )
    retries, monitoring = instance["run_retries"], instance["run_monitoring"]
    assert daemon["runRetries"] == {
        "enabled": retries["enabled"],
        "maxRetries": retries["max_retries"],
        "retryOnAssetOrOpFailure": retries["retry_on_asset_or_op_failure"],
    }
    assert daemon["runMonitoring"]["enabled"] is monitoring["enabled"] is True
    assert daemon["runMonitoring"]["pollIntervalSeconds"] == monitoring["poll_interval_seconds"]
    logs = values["computeLogManager"]
    config = instance["compute_logs"]["config"]
    assert logs["type"] == instance["compute_logs"]["class"]
    assert logs["config"]["s3ComputeLogManager"]["prefix"] == config["prefix"]
    retention = values["retention"]
    assert (
        retention["schedule"]["purgeAfterDays"]
        == (instance["retention"]["schedule"]["purge_after_days"])
    )
    assert (
        retention["sensor"]["purgeAfterDays"]
        == (instance["retention"]["sensor"]["purge_after_days"])
    )
    assert values["postgresql"]["enabled"] is False
    assert values["generatePostgresqlPasswordSecret"] is False


# -- tests: no secret written ---------------------------------------------------------------------
def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def test_no_literal_secret_in_the_deployment_files() -> None:
    for name, service in compose_services().items():
        for var, value in compose_env(service).items():
            if SECRET_NAME.search(var):
                assert "${" in value, (name, var)
        for text in _strings(service):
            for password in URL_PASSWORD.findall(text):
                assert password.startswith("${"), (name, "a password written in a URL")
    for instr, rest in dockerfile_instructions():
        if instr in ("ENV", "ARG"):
            assert not SECRET_NAME.search(rest), rest
    values = helm_values()
    for component in (values["dagsterWebserver"], values["dagsterDaemon"], user_deployment()):
        for entry in component.get("env") or []:
            assert not SECRET_NAME.search(entry["name"]), entry["name"]
    assert "postgresqlPassword" not in values["postgresql"]
    for text in _strings(values):
        assert not URL_PASSWORD.search(text), "a password written in a Helm value"
    docs = yaml.safe_load_all((DEPLOY / "helm" / "secret.example.yaml").read_text("utf-8"))
    for doc in docs:
        for key, value in (doc or {}).get("stringData", {}).items():
            assert value.startswith("<") and value.endswith(">"), key
    for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            assert line.endswith("="), f"deploy/env.example gives a value: {line.split('=')[0]}"
    ignored = (DEPLOY / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored
