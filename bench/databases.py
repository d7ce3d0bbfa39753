"""The databases a benchmark runs on: SQLite always, and PostgreSQL beside it when DANGJIAN_BENCH_PG names a server
(`postgres://user@host:port/db`; the database named is only used to create and drop fresh ones, never written).

`fresh(label)` gives the environment overrides for a child process: SQLite gets a new temporary data dir, PostgreSQL
a new empty database (and a data dir for files), dropped again afterwards, so every measurement starts from a load
the way a new installation does.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

SQLITE, POSTGRESQL = "SQLite", "PostgreSQL"


def labels() -> list[str]:
    """SQLite, and PostgreSQL when DANGJIAN_BENCH_PG is set; BENCH_DATABASES="PostgreSQL" (or "SQLite") keeps one."""
    found = [SQLITE, POSTGRESQL] if os.environ.get("DANGJIAN_BENCH_PG") else [SQLITE]
    only = [s.strip().lower() for s in os.environ.get("BENCH_DATABASES", "").split(",") if s.strip()]
    return [label for label in found if not only or label.lower() in only]


@contextmanager
def fresh(label: str, name: str = "bench") -> Iterator[dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix=f"dangjian-{name}-") as data_dir:
        if label == SQLITE:
            yield {"DANGJIAN_DATA_DIR": data_dir}
            return
        import psycopg

        server = os.environ["DANGJIAN_BENCH_PG"]
        # BENCH_DB_PREFIX keeps the databases of several people sharing one server apart (e.g. "i14_").
        db = f"{os.environ.get('BENCH_DB_PREFIX', '')}dangjian_{name}_{os.getpid()}".replace("-", "_").lower()
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
            conn.execute(f'CREATE DATABASE "{db}"')
        try:
            yield {
                "DANGJIAN_DATA_DIR": data_dir,
                "DANGJIAN_DATABASE_URL": server.rsplit("/", 1)[0] + "/" + db,
            }
        finally:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def child_env(overrides: dict[str, str], root: str) -> dict[str, str]:
    """The environment of a child process: this one's, without its own database settings, with `overrides`."""
    env = {k: v for k, v in os.environ.items() if k not in ("DANGJIAN_DATABASE_URL", "DANGJIAN_DATA_DIR")}
    env.update(overrides)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [os.path.join(root, "src"), root, env.get("PYTHONPATH", "")])
    )
    return env
