"""The gradebook: one SQLite file (``DIR/grades.db``), written one submission per transaction.

WAL mode and one transaction per submission mean a controller killed at any
moment (kill -9 included) leaves a readable gradebook that holds every
submission it finished; only those in flight are lost. A submission is
keyed by (student, lab) and remembers the content hash and grader version
it was graded with, so a rerun skips what would come out the same.

A student id is stored as :func:`grader.instructor.gradebook.escape.printable`
makes it (the layouts already hand over ids in that form; anything else is
made so here), paths too, and every other text as valid UTF-8: a file name's
undecodable bytes can neither crash the gradebook nor reach an export raw.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from grader.instructor.gradebook.escape import printable, valid

PATH_KEPT = 4096   # characters of a path (escaped) kept
from grader.results import GradeResult

SCHEMA_VERSION = 2   # 2: handin.members (a group submission's submitters)
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submission (
    student        TEXT NOT NULL,
    lab            TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    graded_at      TEXT NOT NULL,
    status         TEXT NOT NULL,      -- graded | timeout | crashed | grader problem (no worker started: no grade)
    score          REAL NOT NULL,
    max_score      REAL,
    seconds        REAL NOT NULL,
    source         TEXT NOT NULL,      -- the file the instructor's folder held
    note           TEXT NOT NULL,      -- renaming, or why it has no grade
    result         TEXT,               -- GradeResult.to_dict() as JSON, for reports
    PRIMARY KEY (student, lab)
);
CREATE TABLE IF NOT EXISTS check_result (
    student    TEXT NOT NULL,
    lab        TEXT NOT NULL,
    name       TEXT NOT NULL,
    title      TEXT NOT NULL,
    points     REAL NOT NULL,
    score      REAL NOT NULL,
    status     TEXT NOT NULL,          -- passed | failed | skipped
    visibility TEXT NOT NULL DEFAULT 'visible',
    feedback   TEXT,                   -- JSON
    output     TEXT NOT NULL,
    seconds    REAL NOT NULL,
    PRIMARY KEY (student, lab, name),
    FOREIGN KEY (student, lab) REFERENCES submission (student, lab) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS handin (   -- what the layout said besides the code: kept apart from grades
    student      TEXT NOT NULL,
    lab          TEXT NOT NULL,
    name         TEXT NOT NULL,        -- as the LMS gives it ('' when it does not)
    lms_id       TEXT NOT NULL,        -- Canvas's user id
    sis_id       TEXT NOT NULL,        -- the institution's student id (Gradescope's SID)
    email        TEXT NOT NULL,
    submitted_at TEXT NOT NULL,        -- ISO 8601 ('' when not said)
    late_mark    INTEGER NOT NULL,     -- 1: the LMS marks it late (Canvas's _late)
    code         TEXT NOT NULL,        -- the Python code graded (a notebook's code cells), for similarity
    members      TEXT NOT NULL DEFAULT '',   -- a group's submitters: JSON [[name, sis_id, email], ...]
    PRIMARY KEY (student, lab)
);
CREATE TABLE IF NOT EXISTS problem (
    lab     TEXT NOT NULL,
    student TEXT NOT NULL,
    path    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Handin:
    """What a submission's layout says besides its code ('' when it says nothing): who handed it in
    and when (grader/instructor/batch/layouts.py makes them)."""

    name: str = ""            # the student's name, as the LMS gives it ("smithjane", "Jane Smith")
    lms_id: str = ""          # Canvas's user id
    sis_id: str = ""          # the institution's student id (Gradescope's SID)
    email: str = ""
    submitted_at: str = ""    # ISO 8601, when the LMS says
    late: bool = False        # the LMS marks it late (Canvas's ``_late``)
    members: tuple[Handin, ...] = ()   # a group submission's submitters, each with their own name, SID and
    # e-mail (the fields above then hold theirs joined, for people to read): each gets the group's grade


_TABLES = {"meta", "submission", "check_result", "handin", "problem"}


class GradebookError(Exception):
    """The gradebook cannot be opened (not SQLite, newer schema)."""


@dataclass(frozen=True)
class SubmissionRow:
    student: str
    lab: str
    content_hash: str
    grader_version: str
    graded_at: str
    status: str
    score: float
    max_score: float | None
    seconds: float
    source: str
    note: str
    result: str | None

    def grade_result(self) -> GradeResult | None:
        return GradeResult.from_dict(json.loads(self.result)) if self.result else None

    @property
    def graded(self) -> bool:
        """A grade (of any score); not a submission no worker could start for (a grader problem)."""
        return self.status != "grader problem"

    @property
    def percent(self) -> float | None:
        return 100.0 * self.score / self.max_score if self.max_score and self.graded else None


class Gradebook:
    """``DIR/grades.db``; only the batch controller writes to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._refuse_foreign()
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"{path} is not a gradebook ({exc})") from None

    def _refuse_foreign(self) -> None:
        """A database holding tables a gradebook has not, a ``meta`` without a numeric schema, or a
        ``submission`` of other columns is someone else's: refused before anything is written to it (no WAL
        switch, no tables added), and never read as grades. An empty one, or one whose creation was cut
        short (some of our tables, an empty ``meta``), is made a gradebook."""
        tables = {name for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
                  if not name.startswith("sqlite_")}
        foreign = bool(tables - _TABLES)
        if "meta" in tables and not foreign:
            rows = self.db.execute("SELECT key, value FROM meta").fetchall()
            schema = dict(rows).get("schema")
            foreign = bool(rows) and not str(schema).isdigit()
        if "submission" in tables and not foreign:
            columns = {name for (_, name, *_) in self.db.execute("PRAGMA table_info(submission)")}
            foreign = not {"student", "lab", "score", "result"} <= columns
        if foreign:
            self.db.close()
            raise GradebookError(f"{self.path} is not a gradebook (an SQLite database of something else)")

    def _migrate(self) -> None:
        self.db.executescript(SCHEMA)
        row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is not None and int(row[0]) > SCHEMA_VERSION:
            raise GradebookError(f"{self.path} was written by a newer grader (schema {row[0]})")
        if "members" not in {name for (_, name, *_) in self.db.execute("PRAGMA table_info(handin)")}:   # schema 1
            self.db.execute("ALTER TABLE handin ADD COLUMN members TEXT NOT NULL DEFAULT ''")
        if row is None or int(row[0]) < SCHEMA_VERSION:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _transaction(self):
        return _Transaction(self.db)

    # ------------------------------------------------------------ writing
    def is_current(self, student: str, lab: str, content_hash: str, grader_version: str) -> bool:
        """Graded (or timed out) with this content and this grader already; crashes and grader problems
        are tried again."""
        row = self.db.execute("SELECT content_hash, grader_version FROM submission WHERE student=? AND lab=? "
                              "AND status NOT IN ('crashed', 'grader problem')", (printable(student), lab)).fetchone()
        return row == (content_hash, grader_version)

    def record(self, student: str, lab: str, content_hash: str, grader_version: str, result: GradeResult,
               *, source: str = "", note: str = "") -> None:
        """A finished grade and its checks, in one transaction."""
        student = printable(student)
        with self._transaction():
            self._replace(student, lab, content_hash, grader_version, "graded", result.score, result.max_score,
                          result.execution_time, source, note, _json(result.to_dict()))
            self.db.executemany(
                "INSERT INTO check_result VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(student, lab, c.name, c.title, c.points, c.score, c.status,
                  getattr(c, "visibility", None) or "visible",
                  json.dumps(asdict(c.feedback)) if c.feedback is not None else None, valid(c.output), c.seconds)
                 for c in result.checks])

    def record_failure(self, student: str, lab: str, content_hash: str, grader_version: str, status: str,
                       detail: str, *, seconds: float = 0.0, source: str = "", max_score: float | None = None) -> None:
        """A submission the batch gave up on (timeout, crashed grader): score 0 and why."""
        student = printable(student)
        with self._transaction():
            self._replace(student, lab, content_hash, grader_version, status, 0.0, max_score, seconds, source,
                          detail, None)

    def _replace(self, student: str, lab: str, *values: Any) -> None:
        self.db.execute("DELETE FROM check_result WHERE student=? AND lab=?", (student, lab))
        self.db.execute("DELETE FROM submission WHERE student=? AND lab=?", (student, lab))
        content_hash, version, status, score, max_score, seconds, source, note, result = values
        self.db.execute("INSERT INTO submission VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (student, lab, content_hash, version, _now(), status, score, max_score, seconds,
                         printable(source, PATH_KEPT), valid(note), result))

    def set_handins(self, lab: str, handins: Iterable[tuple[str, Handin, str]]) -> None:
        """(student, what the layout says of the submission, its Python code), in one transaction;
        written on every run, so a metadata file or a due time added later counts without grading again."""
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO handin VALUES (?,?,?,?,?,?,?,?,?,?)",
                                [(printable(student), lab, valid(h.name), valid(h.lms_id), valid(h.sis_id),
                                  valid(h.email), valid(h.submitted_at), int(h.late), valid(code),
                                  json.dumps([[valid(m.name), valid(m.sis_id), valid(m.email)] for m in h.members])
                                  if h.members else "")
                                 for student, h, code in handins])

    def set_due(self, lab: str, due: str) -> None:
        """The lab's due time (ISO 8601): a submission made after it is late."""
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"due.{lab}", due))

    def due(self, lab: str) -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (f"due.{lab}",)).fetchone()
        return row[0] if row else ""

    def set_problems(self, lab: str, problems: Iterable[tuple[str, str, str, str]]) -> None:
        """This run's (student, path, kind, detail) for entries that were not graded."""
        with self._transaction():
            self.db.execute("DELETE FROM problem WHERE lab=?", (lab,))
            self.db.executemany("INSERT INTO problem VALUES (?,?,?,?,?)",
                                [(lab, printable(student), printable(path, PATH_KEPT), valid(kind), valid(detail))
                                 for student, path, kind, detail in problems])

    # ------------------------------------------------------------ reading
    def labs(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT lab FROM submission ORDER BY lab")]

    def submissions(self, lab: str | None = None) -> list[SubmissionRow]:
        query = "SELECT * FROM submission" + (" WHERE lab=?" if lab else "") + " ORDER BY lab, student"
        return [SubmissionRow(*row) for row in self.db.execute(query, (lab,) if lab else ())]

    def checks(self, student: str, lab: str) -> list[dict[str, Any]]:
        cursor = self.db.execute("SELECT * FROM check_result WHERE student=? AND lab=? ORDER BY rowid",
                                 (printable(student), lab))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def handins(self, lab: str) -> dict[str, Handin]:
        """student -> what the layout said (students of an older gradebook have none)."""
        rows = self.db.execute("SELECT student, name, lms_id, sis_id, email, submitted_at, late_mark, members "
                               "FROM handin WHERE lab=?", (lab,))
        return {student: Handin(name, lms_id, sis_id, email, submitted_at, bool(late), _members(members))
                for student, name, lms_id, sis_id, email, submitted_at, late, members in rows}

    def codes(self, lab: str) -> dict[str, str]:
        """student -> the Python code graded (what ``grade similarity`` compares)."""
        return dict(self.db.execute("SELECT student, code FROM handin WHERE lab=? ORDER BY student", (lab,)))

    def problems(self, lab: str | None = None) -> list[dict[str, str]]:
        query = "SELECT * FROM problem" + (" WHERE lab=?" if lab else "") + " ORDER BY lab, student, path"
        cursor = self.db.execute(query, (lab,) if lab else ())
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]


def _members(text: str) -> tuple[Handin, ...]:
    """A group's submitters as :meth:`Gradebook.set_handins` wrote them; () for one submitter."""
    try:
        listed = json.loads(text) if text else []
        return tuple(Handin(name=str(name), sis_id=str(sid), email=str(email)) for name, sid, email in listed)
    except (ValueError, TypeError):   # not what set_handins writes
        return ()


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type | None, *_: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _json(data: Any) -> str:
    """JSON that loads back as valid UTF-8: a lone surrogate (JSON spells it ``\\ud800``; a report written
    from it cannot be saved) becomes U+FFFD, as :mod:`grader.inert` makes it."""
    return _SURROGATE.sub("\ufffd", json.dumps(data, ensure_ascii=False))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
