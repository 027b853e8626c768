"""Grades for the course's gradebook: Canvas's import CSV, and a plain id/score file for any other LMS.

Canvas (Grades → Import) reads a CSV with its roster columns ``Student``,
``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section`` and one column per
assignment; a second row starting with ``Points Possible`` gives each
assignment's maximum (as Canvas's own export writes it).  Canvas matches a row
to a student by ``ID`` (its user id), else by ``SIS User ID``, else by ``SIS
Login ID``: each is filled from what the layout gave (Canvas's file names
carry the user id; Gradescope's metadata the SID and e-mail: a group submission gives
each member a row of their own, with the group's score), and a student
the layout gave nothing for is named by their id alone (Canvas then shows
them unmatched, to be matched by hand); so are students whose IDs another row
also carries (Canvas would keep one grade for both).  An assignment column named
``Lab 4 (1234)`` updates Canvas's assignment 1234; another name creates one.

``scores.csv`` is ``id, score, max, percent`` (Moodle, Blackboard, a
spreadsheet).  Both hold the score after ``--late-policy`` when one is given,
and students who could not be graded get an empty score, never 0.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from grader.instructor.gradebook.escape import csv_cell
from grader.instructor.gradebook.lateness import NO_POLICY, LatePolicy, lateness
from grader.instructor.gradebook.store import Gradebook, Handin

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"
SCORE_COLUMNS = ("id", "score", "max", "percent")

def cell(value: object) -> str:
    """A cell no spreadsheet runs as a formula (OWASP CSV injection: a leading ``'``), one inert line."""
    return csv_cell(value)


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def final_scores(book: Gradebook, lab: str, policy: LatePolicy) -> list[tuple[str, str, float | None, float | None]]:
    """(student, status, score after the policy or None when not graded, max)."""
    handins, due = book.handins(lab), book.due(lab)
    rows = []
    for row in book.submissions(lab):
        graded = row.status == "graded" and row.max_score is not None
        score = policy.apply(row.score, lateness(handins.get(row.student), due), row.max_score) if graded else None
        rows.append((row.student, row.status, score, row.max_score))
    return rows


def write_canvas(book: Gradebook, lab: str, path: Path, assignment: str = "", policy: LatePolicy = NO_POLICY) -> Path:
    """Canvas's gradebook import file for ``lab``: the roster columns and one assignment column."""
    handins = book.handins(lab)
    scores = final_scores(book, lab, policy)
    title = assignment or _assignment_name(book, lab)
    maxima = Counter(m for *_, m in scores if m)      # the lab's maximum (a student's differs only by skips)
    maximum = maxima.most_common(1)[0][0] if maxima else None
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*CANVAS_COLUMNS, cell(title)])
        writer.writerow([POINTS_POSSIBLE, "", "", "", "", _number(maximum) if maximum else ""])
        people = [(student, who, score) for student, _, score, _ in scores
                  for who in _people(handins.get(student, Handin()))]
        shared = _shared_ids([(student, who) for student, who, _ in people])
        for index, (student, who, score) in enumerate(people):
            keys = _keys(who)
            if any(key in shared for key in keys):   # Canvas would give both grades to one student
                others = sorted({people[o][0] for key in keys for o in shared.get(key, ()) if o != index})
                writer.writerow([cell(f"{who.name or student} (its ID is also {', '.join(others)}'s: match by hand)"),
                                 "", "", "", "", "" if score is None else _number(score)])
                continue
            writer.writerow([cell(who.name or student), cell(who.lms_id), cell(who.sis_id), cell(who.email), "",
                             "" if score is None else _number(score)])
    return path


def _people(who: Handin) -> tuple[Handin, ...]:
    """Whom a submission's grade goes to: each member of a group submission (Canvas matches one ID a row)."""
    return who.members or (who,)


def _keys(who: Handin) -> list[tuple[str, str]]:
    """(column, value) of each ID Canvas may match the row by."""
    return [(column, value) for column, value in zip(CANVAS_COLUMNS[1:4], (who.lms_id, who.sis_id, who.email))
            if value]


def _shared_ids(people: list[tuple[str, Handin]]) -> dict[tuple[str, str], set[int]]:
    """Each Canvas ID, SIS id or e-mail that more than one row (student, person) would carry -> those rows.
    Canvas matches a row by them and keeps the last grade: a file named ``victim_99999_1_x.py`` in a folder
    of hand-ins would have put its score on student 99999 (a member of two group submissions, two grades on
    one). Such rows get no ID (matched by hand)."""
    holders: dict[tuple[str, str], set[int]] = {}
    for index, (_, who) in enumerate(people):
        for key in _keys(who):
            holders.setdefault(key, set()).add(index)
    return {key: found for key, found in holders.items() if len(found) > 1}


def write_grades(book: Gradebook, lab: str, path: Path, policy: LatePolicy = NO_POLICY) -> Path:
    """``id, score, max, percent``: one row per student (the id the layout gave)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SCORE_COLUMNS)
        for student, _, score, maximum in final_scores(book, lab, policy):
            percent = "" if score is None or not maximum else f"{100 * score / maximum:.1f}"
            writer.writerow([cell(student), "" if score is None else _number(score),
                             _number(maximum) if maximum else "", percent])
    return path


def _assignment_name(book: Gradebook, lab: str) -> str:
    """``Lab 4: PyTorch Essentials`` (the lab's title, from a graded result)."""
    for row in book.submissions(lab):
        result = row.grade_result()
        if result is not None and result.title:
            return f"{lab.replace('lab', 'Lab ')}: {result.title}"
    return lab.replace("lab", "Lab ")
