"""The JVM jars of the Apache Spark engine, resolved once from Maven Central into a cache.

``pom.xml`` beside this module pins them: delta-spark (and delta-storage) for Spark 4.2,
the PostgreSQL JDBC driver, hadoop-aws with the AWS SDK v2 modules S3A needs. Spark,
Scala and Hadoop's client come with pyspark's own distribution; a resolved jar whose
artifact pyspark already ships is left out, so pyspark's version is the only one on the
class path.

``resolve_jars()`` runs Maven (``mvn dependency:copy-dependencies``) once, into
``~/.cache/subway_platform/spark-jars/<pom hash>/`` (``SUBWAY_SPARK_JARS_DIR`` moves the
cache); ``cached_jars()`` only reads the cache and never downloads: that is what a server
start uses.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

POM = Path(__file__).with_name("pom.xml")
_STAMP = ".complete"
_VERSIONED = re.compile(r"^(?P<artifact>.+?)-\d[\w.\-]*\.jar$")


class SparkJarsMissing(RuntimeError):
    """The engine's jars are not in the cache yet."""


def spark_home() -> Path:
    """pyspark's own Spark distribution (``bin/``, ``jars/``)."""
    import importlib.util

    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise SparkJarsMissing("pyspark is not installed")
    return Path(spec.origin).parent


def cache_dir() -> Path:
    """The cache folder for the current ``pom.xml`` (its hash names it)."""
    root = os.environ.get("SUBWAY_SPARK_JARS_DIR") or str(
        Path.home() / ".cache" / "subway_platform" / "spark-jars"
    )
    digest = hashlib.sha1(POM.read_bytes()).hexdigest()[:12]
    return Path(root) / digest


def _artifact(jar_name: str) -> str:
    match = _VERSIONED.match(jar_name)
    return match.group("artifact") if match else jar_name


def cached_jars() -> list[Path]:
    """The resolved jars, sorted; raise SparkJarsMissing if they were never resolved."""
    folder = cache_dir()
    if not (folder / _STAMP).is_file():
        raise SparkJarsMissing(
            "the Apache Spark engine's jars are not resolved yet: run "
            "`subway-platform spark-jars` (or `make jars`) once"
        )
    return sorted(folder.glob("*.jar"))


def resolve_jars(progress: Callable[[str], None] = print) -> list[Path]:
    """Resolve the pinned jars into the cache unless they are there; return them."""
    folder = cache_dir()
    if (folder / _STAMP).is_file():
        return cached_jars()
    mvn = shutil.which("mvn")
    if mvn is None:
        raise SparkJarsMissing(
            "Maven (`mvn`) is needed once to resolve the Spark jars: apt-get install -y maven"
        )
    progress(f"resolving the Apache Spark engine's jars from Maven Central into {folder} …")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".resolve-") as tmp:
        work = Path(tmp) / "jars"
        done = subprocess.run(  # noqa: PLW1510 - checked below with Maven's own output
            [
                mvn,
                "-B",
                "-f",
                str(POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={work}",
                "-DincludeScope=runtime",
                "-Dmaven.repo.local=" + str(folder.parent / "m2"),
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            errors = [ln for ln in done.stdout.splitlines() if "ERROR" in ln][:3]
            raise SparkJarsMissing("resolving the Spark jars failed: " + " | ".join(errors))
        shipped = {_artifact(p.name) for p in (spark_home() / "jars").glob("*.jar")}
        kept = [p for p in work.glob("*.jar") if _artifact(p.name) not in shipped]
        for jar in work.glob("*.jar"):
            if jar not in kept:
                jar.unlink()
        (work / _STAMP).write_text("\n".join(sorted(p.name for p in kept)) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        work.rename(folder)
    jars = cached_jars()
    progress(f"resolved {len(jars)} jars ({sum(p.stat().st_size for p in jars) >> 20} MiB)")
    return jars
