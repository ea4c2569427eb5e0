"""The results store: one embedded SQLite file (WAL) of runs, their per-model results and files.

Each finished cell is written in one transaction (its run row, every result row, its file
paths), so a process killed mid-write leaves either the whole cell or none of it. Only the
driver writes; executors return results. The file carries a schema version, and a store from a
newer datadistill is refused rather than guessed at.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
_HEADER = b"SQLite format 3\x00"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    grid TEXT, dataset TEXT NOT NULL, method TEXT NOT NULL, ipc INTEGER NOT NULL,
    seed INTEGER NOT NULL, settings TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')), error TEXT,
    started TEXT, finished TEXT, distill_seconds REAL, eval_seconds REAL, resumed INTEGER,
    device TEXT, host TEXT, version TEXT, torch TEXT, git_commit TEXT
);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    model TEXT NOT NULL, accs TEXT NOT NULL,
    mean REAL NOT NULL, std REAL NOT NULL, epochs INTEGER, augment TEXT, seconds_per_run REAL,
    PRIMARY KEY (run_id, model)
);
CREATE TABLE IF NOT EXISTS files (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (run_id, kind)
);
"""
RUN_COLUMNS = (
    "started",
    "finished",
    "distill_seconds",
    "eval_seconds",
    "resumed",
    "device",
    "host",
    "version",
    "torch",
    "git_commit",
)
FILTERS = ("key", "grid", "dataset", "method", "ipc", "seed", "status", "model")


class StoreError(ValueError):
    """A file that is not a results store, or one written by a newer datadistill."""


class Store:
    """A results store at ``path`` (made on first use). Use as a context manager or ``close``."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        _check_file(self.path, create)
        self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        try:
            self._prepare()
        except sqlite3.DatabaseError as e:
            self.conn.close()
            raise StoreError(f"{self.path}: not a results store ({e})") from None

    def _prepare(self) -> None:
        c = self.conn
        c.execute("PRAGMA foreign_keys = ON")
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise StoreError(f"{self.path}: an SQLite file, but not a datadistill results store")
        if "meta" in tables:
            row = c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            found = int(row[0]) if row else 0
            if found > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: results store of schema {found}, newer than this datadistill "
                    f"reads ({SCHEMA_VERSION}); upgrade datadistill"
                )
            if found < 1:
                raise StoreError(f"{self.path}: results store without a schema version")
        c.execute("PRAGMA journal_mode = WAL")
        c.execute("PRAGMA synchronous = NORMAL")
        if not tables:
            with self.transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        c.execute(statement)
                c.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All statements inside commit together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def done_keys(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT key FROM runs WHERE status='done'")}

    def record(self, spec: dict[str, Any], result: dict[str, Any]) -> None:
        """Write a finished cell (its run, results and files) in one transaction, replacing an
        earlier row of the same key (a failed attempt)."""
        with self.transaction() as c:
            run_id = self._insert_run(c, spec, "done", None, result)
            for r in result.get("results", []):
                c.execute(
                    "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id,
                        r["model"],
                        json.dumps(r["accs"]),
                        r["mean"],
                        r["std"],
                        r.get("epochs"),
                        r.get("augment"),
                        r.get("seconds_per_run"),
                    ),
                )
            for kind, path in (result.get("files") or {}).items():
                c.execute("INSERT INTO files VALUES (?, ?, ?)", (run_id, kind, str(path)))

    def record_failure(self, spec: dict[str, Any], error: BaseException | str) -> None:
        """Write a cell that raised, with its one-line error; a rerun tries it again."""
        text = " ".join(str(error).split()) or type(error).__name__
        if isinstance(error, BaseException):
            text = f"{type(error).__name__}: {text}"
        with self.transaction() as c:
            self._insert_run(c, spec, "failed", text, {})

    def _insert_run(
        self,
        c: sqlite3.Connection,
        spec: dict[str, Any],
        status: str,
        error: str | None,
        result: dict[str, Any],
    ) -> int:
        c.execute("DELETE FROM runs WHERE key = ?", (spec["key"],))
        values = {**result, "finished": result.get("finished") or _now()}
        if values.get("resumed") is not None:
            values["resumed"] = int(bool(values["resumed"]))
        extra = [values.get(k) for k in RUN_COLUMNS]
        cur = c.execute(
            f"INSERT INTO runs (key, grid, dataset, method, ipc, seed, settings, status, error, "
            f"{', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' * (9 + len(RUN_COLUMNS)))})",
            (
                spec["key"],
                spec.get("grid"),
                spec["dataset"],
                spec["method"],
                spec["ipc"],
                spec.get("seed", 0),
                json.dumps(spec, sort_keys=True, default=str),
                status,
                error,
                *extra,
            ),
        )
        return int(cur.lastrowid)

    def rows(self, where: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """One dict per (run, model) result, plus failed runs with ``model`` None;
        ``where`` filters on ``FILTERS`` columns by equality."""
        where = where or {}
        unknown = sorted(set(where) - set(FILTERS))
        if unknown:
            raise StoreError(f"cannot filter on {unknown}; known: {', '.join(FILTERS)}")
        clauses = [f"{'res' if k == 'model' else 'runs'}.{k} = ?" for k in where]
        sql = (
            "SELECT runs.*, res.model, res.accs, res.mean, res.std, res.epochs, "
            "res.augment, res.seconds_per_run FROM runs LEFT JOIN results res "
            "ON res.run_id = runs.id"
            + (" WHERE " + " AND ".join(clauses) if clauses else "")
            + " ORDER BY runs.dataset, runs.method, runs.ipc, runs.seed, res.model"
        )
        out = []
        for r in self.conn.execute(sql, list(where.values())):
            row = dict(r)
            row["settings"] = json.loads(row["settings"])
            row["accs"] = json.loads(row["accs"]) if row["accs"] else None
            out.append(row)
        return out

    def files(self) -> dict[str, dict[str, str]]:
        """Run key → {kind: path} (``set``, ``grid``) for done runs."""
        out: dict[str, dict[str, str]] = {}
        sql = "SELECT runs.key, files.kind, files.path FROM files JOIN runs ON runs.id = run_id"
        for key, kind, path in self.conn.execute(sql):
            out.setdefault(key, {})[kind] = path
        return out

    def counts(self) -> dict[str, int]:
        """Runs per status."""
        sql = "SELECT status, COUNT(*) FROM runs GROUP BY status"
        return {s: n for s, n in self.conn.execute(sql)}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _check_file(path: Path, create: bool) -> None:
    """Refuse, before SQLite touches it, a file that is not SQLite (so nothing is overwritten)."""
    if path.is_dir():
        raise StoreError(f"{path}: a folder, not a results store file")
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"results store not found: {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    with path.open("rb") as f:
        head = f.read(len(_HEADER))
    if head and head != _HEADER:
        raise StoreError(f"{path}: not a results store (not an SQLite file)")
