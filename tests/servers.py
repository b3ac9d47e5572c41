"""Real database engines for the warehouse tests: a throwaway PostgreSQL cluster and a local Spark.

PostgreSQL comes from Debian's ``postgresql`` package and Java from ``openjdk-17-jre-headless``
(``.ci/run`` installs both); PySpark from the ``spark`` extra. When one is missing the tests that
need it are skipped with a reason naming the package, except when ``LLM_TCO_REQUIRE_BACKENDS``
is set (as in CI), where a missing engine is a failure rather than a silent skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PG_USER = "llmtco"
PG_PASSWORD = "s3cret-Pa55word-not-to-print"
PG_DATABASE = "logs"


def unavailable(reason: str) -> None:
    """Skip the test, or fail it where every engine is required."""
    if os.environ.get("LLM_TCO_REQUIRE_BACKENDS"):
        pytest.fail(f"{reason} (LLM_TCO_REQUIRE_BACKENDS is set)")
    pytest.skip(reason)


def _pg_bin() -> Path | None:
    """Debian installs the server binaries under /usr/lib/postgresql/<version>/bin."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Postgres:
    port: int

    def url(self, *, password: bool = True, database: str = PG_DATABASE) -> str:
        secret = f":{PG_PASSWORD}" if password else ""
        return f"postgresql://{PG_USER}{secret}@127.0.0.1:{self.port}/{database}"

    def execute(self, *statements: str, rows: list[tuple[Any, ...]] | None = None) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con:
            for sql in statements:
                if rows is not None and "%s" in sql:
                    con.cursor().executemany(sql, rows)  # type: ignore[arg-type]
                else:
                    con.execute(sql)  # type: ignore[arg-type]


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A fresh cluster on a loopback port, password authentication, removed afterwards.

    initdb refuses to run as root, so as root the cluster belongs to Debian's ``postgres``
    user (run through ``runuser``).
    """
    bindir = _pg_bin()
    if bindir is None:
        unavailable("PostgreSQL server not installed (apt-get install postgresql)")
    try:
        import psycopg
    except ImportError:
        unavailable("psycopg not installed (pip install 'llm-tco[warehouse]')")
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="llm-tco-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    data, pwfile = root / "data", root / "pw"
    pwfile.write_text(PG_PASSWORD + "\n", encoding="utf-8")
    if as_user:
        shutil.chown(pwfile, "postgres")
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    try:
        run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            PG_USER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        )
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c shared_buffers=32MB -c TimeZone=UTC"
        )
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc}\n{getattr(exc, 'stderr', b'')!r}\n{log}")
    try:
        server = Postgres(port)
        import psycopg

        with psycopg.connect(server.url(database="postgres"), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {PG_DATABASE}")  # type: ignore[arg-type]
        yield server
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def spark_session() -> Any:
    """One local Spark for the whole module: two cores, few shuffle partitions, UTC."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("Java not installed (apt-get install openjdk-17-jre-headless)")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        unavailable("PySpark not installed (pip install 'llm-tco[spark]')")
    from llm_tco.ingest.warehouse import spark_builder

    builder = spark_builder(SparkSession.builder, "local[2]")
    # Test tables have a few rows: one shuffle partition saves a task per partition per stage.
    session = builder.config("spark.sql.shuffle.partitions", "1").getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
