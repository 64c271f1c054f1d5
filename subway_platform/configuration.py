"""The environment variables of the README's configuration table, checked in one place.

Every variable is checked the same way: a missing required value or a malformed one
becomes ONE line that names the variable, says what is wrong and gives an example of a
good value. A value is never echoed back (DSNs, URLs and keys may hold a password);
only harmless parts such as a URL scheme are quoted.

``check_environment`` runs when the code location loads (``resources/environment.py``),
so ``dagster dev``, ``dagster asset materialize`` and the UI show the line instead of a
failed run later. ``dagster_pg_url`` normalises ``DAGSTER_PG_URL`` for the instance
storage (``platform/instance_storage.py``). Standard library and psycopg only: this
module is imported when the code location loads and must stay light.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from psycopg.conninfo import conninfo_to_dict

from subway_platform.redact import dsn_password, remember_secrets

DAGSTER_PG_URL = "DAGSTER_PG_URL"
DAGSTER_PG_URL_EXAMPLE = "postgresql://dagster:secret@db:5432/dagster"
# dagster-postgres 0.29 is written for psycopg2; SQLAlchemy 2.1 maps a bare
# postgresql:// to psycopg 3, with which storing events fails.
DAGSTER_PG_DRIVER = "postgresql+psycopg2"

_POSTGRES_SCHEMES = ("postgresql", "postgres")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_SAIL_MODES = ("local", "local-cluster", "kubernetes-cluster")
_LOCAL_SPARK = re.compile(r"local(\[(\d+|\*)\])?")


class ConfigurationError(ValueError):
    """A configuration variable is missing or unusable; the message is one line that names
    it, says why and gives an example (never the value itself)."""


@dataclass(frozen=True)
class Setting:
    """One environment variable: what it means, a good example, and its check."""

    name: str
    meaning: str
    example: str
    check: Callable[[str], str | None]
    """Returns what is wrong with a (non-empty) value, or None when it is usable."""
    required: bool = False

    def problem(self, env: Mapping[str, str]) -> str | None:
        """What is wrong with this variable in ``env`` (one clause), or None."""
        value = env.get(self.name)
        if value is None or value == "":
            if not self.required:
                return None
            return f"{self.name} ({self.meaning}) is not set, e.g. {self.name}={self.example}"
        if value != value.strip():
            wrong: str | None = "has leading or trailing whitespace"
        else:
            wrong = self.check(value)
        if wrong is None:
            return None
        return f"{self.name} ({self.meaning}) {wrong}, e.g. {self.name}={self.example}"


# -- checks (each returns what is wrong, without the value) -------------------------------
def _split(value: str) -> SplitResult | None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        return None
    return parts


def check_location(value: str) -> str | None:
    """``s3://bucket/prefix`` (or ``s3a://``) or an absolute local directory."""
    if "://" not in value:
        return (
            None
            if value.startswith("/")
            else "is a relative path: give an absolute directory or s3://bucket/prefix"
        )
    parts = _split(value)
    if parts is None:
        return "is not a valid URL"
    if parts.scheme not in ("s3", "s3a"):
        return (
            f"has scheme '{parts.scheme}': only s3:// URLs and absolute local directories "
            "are supported"
        )
    if "@" in parts.netloc:
        return "holds credentials: give them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if not _BUCKET.fullmatch(parts.netloc):
        return "does not name a valid bucket (3-63 lowercase letters, digits, dots, hyphens)"
    if parts.query or parts.fragment:
        return "has a query or fragment"
    return None


def check_postgres_dsn(value: str) -> str | None:
    """A libpq connection string: ``postgresql://user:password@host:port/db`` or ``key=value``
    pairs."""
    if "://" in value:
        scheme = value.split("://", 1)[0]
        if scheme not in _POSTGRES_SCHEMES:
            hint = " (no +driver here)" if scheme.startswith("postgresql+") else ""
            return f"has scheme '{scheme}': it must be a postgresql:// URL{hint}"
    try:
        params = conninfo_to_dict(value)
    except Exception:  # noqa: BLE001 - libpq's message quotes the value (maybe the password)
        return "is not a valid PostgreSQL connection string (check the quoting and %-escapes)"
    port = params.get("port")
    if port is not None and not all(p.isdigit() for p in str(port).split(",")):
        return "has a port that is not a number"
    return None


def check_spark_remote(value: str) -> str | None:
    """A Spark Connect URL ``sc://host:port`` (``/;param=value`` allowed) or ``local[N]``."""
    if _LOCAL_SPARK.fullmatch(value):
        return None
    parts = _split(value)
    if parts is None or parts.scheme != "sc":
        return "is not a Spark Connect URL (sc://host:port)"
    if not parts.hostname:
        return "has no host"
    return None


def check_spark_master(value: str) -> str | None:
    """A classic Spark master: ``spark://host:port``, ``k8s://https://host:port`` or
    ``local[N]``."""
    if _LOCAL_SPARK.fullmatch(value):
        return None
    if value.startswith("k8s://"):
        inner = value[len("k8s://") :]
        parts = _split(inner if "://" in inner else f"https://{inner}")
        if parts is None or not parts.hostname or parts.scheme not in ("http", "https"):
            return "is not a Kubernetes API URL (k8s://https://host:port)"
        return None
    parts = _split(value)
    if parts is None or parts.scheme != "spark":
        return "is not a Spark master (spark://host:port, k8s://https://host:port or local[N])"
    if not parts.hostname or parts.port is None:
        return "has no host and port (spark://host:port)"
    return None


def check_sail_mode(value: str) -> str | None:
    return None if value in _SAIL_MODES else f"is not one of {', '.join(_SAIL_MODES)}"


def check_mart_sink(value: str) -> str | None:
    return None if value in ("copy", "jdbc") else "is neither copy nor jdbc"


def check_endpoint(value: str) -> str | None:
    """``http(s)://host[:port]`` of an S3 API."""
    parts = _split(value)
    if parts is None or parts.scheme not in ("http", "https"):
        return "is not an http:// or https:// URL"
    if not parts.hostname:
        return "has no host"
    if "@" in parts.netloc:
        return "holds credentials: give them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    return None


def check_region(value: str) -> str | None:
    if len(value) <= 32 and _REGION.fullmatch(value):
        return None
    return "is not a region name (lowercase letters, digits and hyphens)"


def check_no_whitespace(value: str) -> str | None:
    return "contains whitespace" if any(ch.isspace() for ch in value) else None


def check_true(value: str) -> str | None:
    return (
        None if value.lower() == "true" else "must be true (no AWS client may probe cloud metadata)"
    )


def check_absolute_dir(value: str) -> str | None:
    if not os.path.isabs(value):
        return "is not an absolute path"
    return None if os.path.isdir(value) else "is not an existing directory"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SUBWAY_LANDING_URL",
        "where raw CSVs arrive",
        "s3://datalake/datasource",
        check_location,
        required=True,
    ),
    Setting(
        "SUBWAY_ARCHIVE_URL",
        "where ingested CSVs are moved",
        "s3://datalake/archive",
        check_location,
        required=True,
    ),
    Setting(
        "SUBWAY_LAKE_URL",
        "root of the Delta tables",
        "s3://datalake/lake",
        check_location,
        required=True,
    ),
    Setting(
        "SUBWAY_MART_DSN",
        "PostgreSQL of the mart and the ELT log",
        "postgresql://etl:secret@db:5432/mart",
        check_postgres_dsn,
        required=True,
    ),
    Setting(
        "SPARK_REMOTE",
        "Spark Connect URL; unset = embedded Sail",
        "sc://spark-connect:15002",
        check_spark_remote,
    ),
    Setting(
        "SUBWAY_SPARK_MASTER",
        "classic Spark master (driver in the run worker); unset = Spark Connect",
        "spark://spark-master:7077",
        check_spark_master,
    ),
    Setting("SAIL_MODE", "how embedded Sail runs", "local-cluster", check_sail_mode),
    Setting(
        "SUBWAY_MART_SINK", "how the engine loads the mart (copy or jdbc)", "jdbc", check_mart_sink
    ),
    Setting("AWS_ENDPOINT_URL", "S3 / MinIO endpoint", "http://minio:9000", check_endpoint),
    Setting("AWS_REGION", "S3 region", "us-east-1", check_region),
    Setting("AWS_DEFAULT_REGION", "S3 region when AWS_REGION is unset", "us-east-1", check_region),
    Setting("AWS_ACCESS_KEY_ID", "S3 access key id", "minioadmin", check_no_whitespace),
    Setting("AWS_SECRET_ACCESS_KEY", "S3 secret key", "<the key's secret>", check_no_whitespace),
    Setting(
        "AWS_EC2_METADATA_DISABLED",
        "keeps AWS clients off the metadata address",
        "true",
        check_true,
    ),
    Setting(
        "DAGSTER_HOME",
        "Dagster instance directory holding dagster.yaml",
        "/opt/dagster/home",
        check_absolute_dir,
    ),
)


def _key_pair_problem(env: Mapping[str, str]) -> str | None:
    """S3 keys come as a pair: one without the other is a half-done configuration."""
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if bool(key) == bool(secret):
        return None
    missing = "AWS_SECRET_ACCESS_KEY" if key else "AWS_ACCESS_KEY_ID"
    given = "AWS_ACCESS_KEY_ID" if key else "AWS_SECRET_ACCESS_KEY"
    return (
        f"{missing} is not set but {given} is (S3 keys come as a pair), "
        f"e.g. {missing}=<the key's {'secret' if key else 'id'}>"
    )


def environment_problems(env: Mapping[str, str] | None = None) -> list[str]:
    """Every problem with the configuration in ``env`` (default: ``os.environ``), one clause
    each."""
    env = os.environ if env is None else env
    problems = [p for p in (s.problem(env) for s in SETTINGS) if p]
    pair = _key_pair_problem(env)
    if pair:
        problems.append(pair)
    if env.get("SUBWAY_SPARK_MASTER") and env.get("SPARK_REMOTE"):
        problems.append(
            "SUBWAY_SPARK_MASTER and SPARK_REMOTE are both set (a classic session or "
            "Spark Connect, not both), e.g. unset SPARK_REMOTE"
        )
    return problems


SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PGPASSWORD")
"""Variables whose values are secrets (``redact`` replaces them wherever they appear)."""
DSN_VARIABLES = ("SUBWAY_MART_DSN", "DAGSTER_PG_URL")
"""Variables holding a DSN whose password is a secret."""


def remember_environment_secrets(env: Mapping[str, str] | None = None) -> None:
    """Let ``redact`` replace the secrets of ``env`` (default: ``os.environ``) in this
    process: called by the composition root and the command-line entry points."""
    env = os.environ if env is None else env
    remember_secrets(
        [env.get(name) for name in SECRET_VARIABLES]
        + [dsn_password(env.get(name) or "") for name in DSN_VARIABLES]
    )


def check_environment(env: Mapping[str, str] | None = None) -> None:
    """Raise ``ConfigurationError`` (one line naming every bad variable) if any is unusable."""
    problems = environment_problems(env)
    if problems:
        raise ConfigurationError("configuration: " + "; ".join(problems))


def dagster_pg_url(value: str | None, name: str = DAGSTER_PG_URL) -> str:
    """``value`` as the SQLAlchemy URL dagster-postgres works with (``postgresql+psycopg2://``).

    Accepts ``postgresql://``, ``postgres://`` and ``postgresql+<driver>://`` URLs; raises
    ``ConfigurationError`` naming ``name`` for anything else.
    """
    example = (
        f"e.g. {name}={DAGSTER_PG_URL_EXAMPLE}"
        if name.isidentifier()
        else f"e.g. {DAGSTER_PG_URL_EXAMPLE}"
    )
    meaning = "PostgreSQL of the Dagster instance"
    if not value:
        raise ConfigurationError(f"configuration: {name} ({meaning}) is not set, {example}")
    scheme, sep, rest = value.partition("://")
    base = scheme.split("+", 1)[0]
    if not sep or base not in _POSTGRES_SCHEMES:
        shown = (
            f"has scheme '{scheme}'"
            if sep and re.fullmatch(r"[A-Za-z0-9+.\-]{1,30}", scheme)
            else "is not a URL"
        )
        raise ConfigurationError(
            f"configuration: {name} ({meaning}) {shown}: it must be a postgresql:// URL, {example}"
        )
    parts = _split(f"postgresql://{rest}")
    problem = None
    if parts is None:
        problem = "is not a valid URL (check the port and %-escapes)"
    elif not parts.hostname and "host=" not in parts.query:
        problem = "has no host"
    elif not parts.path.strip("/"):
        problem = "names no database"
    if problem:
        raise ConfigurationError(f"configuration: {name} ({meaning}) {problem}, {example}")
    return f"{DAGSTER_PG_DRIVER}://{rest}"
