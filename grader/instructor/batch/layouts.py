"""Who handed in what: the submissions of a class, from the layouts instructors get.

Understood layouts (``SUBMISSIONS`` is a folder, or a ``.zip`` of one):

- a sub-folder per student (also Gradescope's ``submission_123/`` and GitHub
  Classroom's ``lab4-alice/`` clones, whose shared prefix is dropped);
- a ``.py`` or ``.ipynb`` file per student (``alice.py``);
- Canvas flat files, ``smithjane_12345_67890_pytorch_basics-1.py``: the id is
  ``smithjane_12345`` (name and user id), the rest the file's original name;
  ``smithjane_late_12345_...`` marks a late submission.

Besides the code, a layout may say who handed it in and when (a gradebook ``Handin``):
Canvas's names give the Canvas user id and the late mark, Gradescope's
``submission_metadata.yml`` (beside ``submission_123/``) the submitters'
names, SIDs and e-mails (each member's of a group submission) and the time each was created; both are
read as data.

A student's id is made here, once, from the folder or file name (or the name
inside the zip): :func:`grader.instructor.gradebook.escape.printable`, one
printable line of valid UTF-8 in which every character that would not show as
itself is a visible escape (``Jos\\xe9``), unique in the class. The gradebook
and every export use that id; every writer escapes it again for its format.

The folder or zip is read as a tree of names (:mod:`grader.instructor.batch.trees`):
only the file chosen for each student is read (never through a symbolic
link, never more than the per-file limit), copied into a staging folder as
the lab's file name (a notebook as the lab's module with ``.ipynb``, graded as
``grade`` grades one), and hashed: what is graded is exactly what was hashed,
and a zip is never extracted. Nothing is dropped silently: what cannot be
graded is a :class:`Problem`, and a graded file whose name was not the lab's
carries a note. Whatever one student's files are, they cost that student only.
"""

from __future__ import annotations

import hashlib
import os
import re
import tokenize
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

import yaml

from grader.course.labs import Lab
from grader.grading.notebooks import NotebookError, notebook_to_source
from grader.grading.files import MAX_FILE_BYTES, Unreadable, read_no_follow
from grader.instructor.batch.trees import Node, disk_folder, disk_tree, zip_tree
from grader.instructor.gradebook.escape import printable
from grader.instructor.gradebook.store import Handin

__all__ = ["CODE_SUFFIXES", "MAX_FILE_BYTES", "Entry", "LayoutError", "Problem", "Roster", "discover",
           "handed_in", "normal_stem", "read_no_follow"]

CODE_SUFFIXES = (".py", ".ipynb")
PATH_SHOWN = 4096                 # characters of a path kept (escaped) in a problem or note
PROBLEMS_LISTED = 20              # problems listed per student; then one says how many more
NAMES_LISTED = 10                 # file names listed in one problem (the candidates found); then how many more
_SKIPPED_DIRS = {"__pycache__", "__MACOSX", ".ipynb_checkpoints", ".git"}
_CANVAS = re.compile(r"^(?P<name>[a-z][a-z0-9]*?)(?P<late>_late)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+)$",
                     re.IGNORECASE)
GRADESCOPE_METADATA = "submission_metadata.yml"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml's parser when there: 3 times as fast
_FIELD = 200                      # characters kept of one field of the metadata (a name, an SID, an e-mail)
_SUBMITTERS = 20                  # submitters read of one submission (a group is a few people)


@dataclass(frozen=True)
class Entry:
    """One student's submission, ready to grade."""

    student: str          # the id: printable, valid UTF-8, unique in the class
    source: Path          # the file the instructor's folder (or zip) holds
    code: Path            # its staged copy (a notebook: its code cells), named as the lab's file
    content_hash: str     # sha256 of ``code``
    note: str = ""        # e.g. "graded Pytorch_Basics-1.py as pytorch_basics.py"
    text: str = ""        # the Python code (a notebook's code cells): what similarity reads
    handin: Handin = field(default_factory=Handin)
    raw: str = ""         # the name the id was made from, whole, escaped as the id is


@dataclass(frozen=True)
class Problem:
    """Something in the submissions that is not graded, and why."""

    student: str          # the id ('' when the entry belongs to no student)
    path: Path
    kind: str             # missing | ambiguous | duplicate | empty | unreadable | ignored
    detail: str           # one printable line


@dataclass
class Roster:
    layout: str
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class LayoutError(ValueError):
    """SUBMISSIONS cannot be read at all (one line for the instructor)."""


def discover(lab: Lab, submissions: Path, staging: Path) -> Roster:
    """Every student's entry in ``submissions`` (a folder or a .zip); copies go to ``staging``."""
    if submissions.is_symlink() and submissions.is_file():
        raise LayoutError(f"{submissions} is a symbolic link; pass the file itself")
    if submissions.is_file() and submissions.suffix.lower() == ".zip":
        return _discover_zip(lab, submissions, staging)
    if not submissions.is_dir():
        raise LayoutError(f"{submissions} is neither a folder of submissions nor a .zip of one")
    try:
        return _discover_folder(lab, disk_folder(submissions), staging)
    except OSError as exc:   # the folder itself cannot be listed (one student's cannot: their problem)
        raise LayoutError(f"{submissions} cannot be read ({exc.strerror or exc})") from None


def _discover_zip(lab: Lab, submissions: Path, staging: Path) -> Roster:
    try:
        archive = zipfile.ZipFile(submissions)
    except Exception as exc:   # BadZipFile, OSError, a member name that is not UTF-8 although flagged so...
        raise LayoutError(f"{submissions} is not a readable zip ({' '.join(str(exc).split())[:200]})") from None
    with archive:
        tree, outside = zip_tree(archive, submissions)
        roster = _discover_folder(lab, _entered(tree), staging)
    roster.layout = f"zip of {roster.layout}"
    roster.problems += bounded([Problem("", submissions / printable(name, PATH_SHOWN), "unreadable",
                                        f"in {printable(submissions.name)}: {why}") for name, why in outside])
    return roster


def _entered(root: Node) -> Node:
    """The folder holding the entries: a lone top folder (an export's wrapper) is entered."""
    while True:
        children = _listed(root)
        if len(children) != 1 or children[0].kind != "dir" or any(
                c.kind != "dir" and _is_code(c.name) for c in children[0].children()):
            return root
        root = children[0]


def _listed(folder: Node) -> list[Node]:
    """A folder's entries, without hidden ones and tool folders (``__MACOSX``, ``.git``...)."""
    return [c for c in folder.children() if not c.name.startswith(".") and c.name not in _SKIPPED_DIRS]


def _is_code(name: str) -> bool:
    return name.lower().endswith(CODE_SUFFIXES)


# ------------------------------------------------------------------ layouts
class _Ids:
    """Raw names → ids: :func:`printable`, and unique (``~2`` when two names would show alike: the same
    once cut, the same letters composed differently, ``José`` as macOS writes it and as Windows does,
    the same but for spaces around them, ``alice `` beside ``alice``, or for case, ``alice`` beside ``Alice``:
    one folder on a macOS or Windows disk, one student to an LMS that ignores case)."""

    def __init__(self) -> None:
        self.by_raw: dict[str, str] = {}
        self.taken: set[str] = set()      # how the ids made look (_look): what shows alike is taken alike

    def __call__(self, raw: str) -> str:
        if raw not in self.by_raw:
            base = printable(raw)
            made, n = base, 1
            while _look(made) in self.taken:
                n += 1
                made = f"{base}~{n}"
            self.by_raw[raw] = made
            self.taken.add(_look(made))
        return self.by_raw[raw]


def _look(student_id: str) -> str:
    """What an id is taken as: composed (NFC), without the spaces around it that no cell shows, in any case."""
    return unicodedata.normalize("NFC", student_id).strip(" ").casefold()


def _discover_folder(lab: Lab, root: Node, staging: Path) -> Roster:
    folders, files, problems = [], [], []
    for node in _listed(root):
        if node.name == GRADESCOPE_METADATA:
            continue
        if node.kind == "refused":
            problems.append((node.name.rsplit(".", 1)[0] if _is_code(node.name) else node.name, node))
        elif node.kind == "dir":
            folders.append(node)
        elif _is_code(node.name):
            files.append(node)
        else:
            problems.append(("", node))
    ids = _Ids()
    folder_ids = {id(f): ids(raw) for f, raw in _folder_names(folders)}
    roster = Roster(_layout_name(folders, files))
    for raw, node in problems:
        kind, why = ("ignored", f"not a {'/'.join(CODE_SUFFIXES)} file or a folder") if not raw else \
            (node.problem, node.why)
        roster.problems.append(_problem(ids(raw) if raw else "", node, kind, why))
    groups: dict[str, list[tuple[Node, str]]] = {}   # id -> (file, the name it was handed in as)
    raws: dict[str, str] = {}
    handins = {printable(folder): handin for folder, handin in gradescope_handins(root, roster.problems).items()}
    for folder in folders:
        student = folder_ids[id(folder)]
        raws[student] = folder.name
        try:
            found = _code_files(folder, roster.problems, student)
        except Exception as exc:   # a folder that cannot be walked costs its student only
            roster.problems.append(_problem(student, folder, "unreadable", f"cannot be read: {_why(exc)}"))
            continue
        groups.setdefault(student, []).extend((f, f.name) for f in found)
    for node in files:
        match = _CANVAS.match(node.name)
        raw, name = (f"{match['name']}_{match['uid']}", match["file"]) if match else \
            (node.name.rsplit(".", 1)[0], None)
        student = ids(raw)
        if match:
            late = handins.get(student, Handin()).late or bool(match["late"])
            handins[student] = Handin(name=match["name"], lms_id=match["uid"], late=late)
        if match is None and student in folder_ids.values():
            roster.problems.append(_problem(student, node, "duplicate",
                                            f"{student} also has a folder; the folder is graded"))
            continue
        raws.setdefault(student, node.name)
        groups.setdefault(student, []).append((node, name if name is not None else lab.filename))
    for index, (student, candidates) in enumerate(sorted(groups.items())):
        chosen = _choose(lab, student, candidates, roster.problems)
        if chosen is not None:
            entry = _stage(lab, student, raws[student], chosen, staging / "entries" / f"{index:05d}",
                           roster.problems, handins.get(student, Handin()))
            if entry is not None:
                roster.entries.append(entry)
    roster.problems = bounded(roster.problems)
    return roster


def bounded(problems: list[Problem], each: int = PROBLEMS_LISTED) -> list[Problem]:
    """At most ``each`` problems per student (and as many of no student's), in their order, then one per
    student saying how many more there are: a folder of 100 000 copies costs its student a few lines,
    not 100 000 in the summary, the gradebook and the class report."""
    kept: list[Problem] = []
    listed: Counter = Counter()
    more: dict[str, list[Problem]] = {}
    for problem in problems:
        if listed[problem.student] < each:
            listed[problem.student] += 1
            kept.append(problem)
        else:
            more.setdefault(problem.student, []).append(problem)
    for student, dropped in more.items():
        kinds = Counter(p.kind for p in dropped).most_common()
        said = ", ".join(f"{count} {kind}" for kind, count in kinds)
        kept.append(Problem(student, dropped[0].path.parent, kinds[0][0],
                            f"and {len(dropped)} more not listed ({said})"))
    return kept


def handed_in(lab: Lab, folder: Path) -> tuple[Path, list[str]]:
    """The file to grade in one student's ``folder`` (what the Gradescope autograder finds in
    ``/autograder/submission``), chosen as a batch chooses it in a student's folder: the lab's file
    (or its renamed copy, or the only code file) anywhere below, shallowest first, a script before its
    notebook, never through a link. Returns it and what to tell the student (a renaming, files not
    graded); LayoutError, one line, when there is none to grade or several could be it."""
    problems: list[Problem] = []
    root = disk_tree(folder)
    if root.kind != "dir":
        raise LayoutError(f"{printable(str(folder), PATH_SHOWN)}: {root.why or 'not a folder'}")
    found = _code_files(root, problems, "")
    chosen = _choose(lab, "", [(node, node.name) for node in found], problems)

    def shown(path: Path) -> str:
        return printable(str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path), PATH_SHOWN)

    said = [f"{shown(p.path)}: {p.detail}" for p in bounded(problems)]   # 3000 copies: 21 lines, not 3000
    if chosen is None:
        raise LayoutError("; ".join(said) or f"no {lab.filename}")
    node = chosen[0]
    if node.name != lab.filename or node.where.parent != folder:
        said.insert(0, f"graded {shown(node.where)} as {lab.filename}")
    return node.where, said


def _stage(lab: Lab, student: str, raw: str, chosen: tuple[Node, str], folder: Path,
           problems: list[Problem], handin: Handin = Handin()) -> Entry | None:
    """:func:`_copy`, and whatever goes wrong with one student's file a problem of theirs only."""
    try:
        return _copy(lab, student, raw, chosen, folder, problems, handin)
    except Exception as exc:
        problems.append(_problem(student, chosen[0], "unreadable", f"cannot be read: {type(exc).__name__}: {exc}"))
        return None


def _folder_names(folders: list[Node]) -> list[tuple[Node, str]]:
    """(folder, the raw name its id is made from): GitHub Classroom's shared ``assignment-`` prefix dropped."""
    names = [f.name for f in folders]
    prefix = os.path.commonprefix(names) if len(names) > 1 else ""
    prefix = prefix[: prefix.rfind("-") + 1] if "-" in prefix else ""
    if len(prefix) < 3 or any(len(n) == len(prefix) for n in names):
        prefix = ""
    return [(f, f.name[len(prefix):]) for f in folders]


def _layout_name(folders: list[Node], files: list[Node]) -> str:
    canvas = sum(1 for f in files if _CANVAS.match(f.name))
    kinds = []
    if folders:
        gradescope = all(re.fullmatch(r"submission_\d+", f.name) for f in folders)
        kinds.append("Gradescope folders" if gradescope else "a folder per student")
    if canvas:
        kinds.append("Canvas files")
    if len(files) > canvas:
        kinds.append("a file per student")
    return " + ".join(kinds) or "empty"


def _code_files(folder: Node, problems: list[Problem], student: str) -> list[Node]:
    """The .py/.ipynb files anywhere in a student's folder, shallowest first; links and other
    refused entries listed, never read."""
    found: list[tuple[int, str, Node]] = []
    pending = [(folder, 1)]
    while pending:
        current, depth = pending.pop()
        for node in current.children():
            if node.name.startswith(".") or node.name in _SKIPPED_DIRS:
                continue
            if node.kind == "dir":
                pending.append((node, depth + 1))
            elif _is_code(node.name) and node.kind == "refused":
                problems.append(_problem(student, node, node.problem, node.why))
            elif _is_code(node.name):
                found.append((depth, str(node.where), node))
    return [node for _, _, node in sorted(found, key=lambda t: (t[0], t[1]))]


def _problem(student: str, node: Node, kind: str, detail: str) -> Problem:
    return Problem(student, node.where, kind, printable(detail, PATH_SHOWN))


# ------------------------------------------------------------------ choosing
def normal_stem(filename: str) -> str:
    """``Pytorch_Basics-1.ipynb`` → ``pytorch_basics``: case, LMS/browser copy suffixes and separators."""
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    stem = re.sub(r"\s*\(\d+\)$", "", stem.strip().lower())
    stem = re.sub(r"-\d+$", "", stem)
    return re.sub(r"[\s\-.]+", "_", stem)


def _choose(lab: Lab, student: str, candidates: list[tuple[Node, str]],
            problems: list[Problem]) -> tuple[Node, str] | None:
    """The one file to grade for ``student``, or None with a problem saying why."""
    exact = [c for c in candidates if c[1] == lab.filename]
    close = [c for c in candidates if c[1] != lab.filename and normal_stem(c[1]) == lab.module]
    chosen = exact or close
    if not chosen and len(candidates) == 1:
        chosen = candidates
    if not chosen and not candidates and any(p.student == student for p in problems):
        return None   # its only file is already listed (a link, say): "missing" would say nothing new
    if not chosen:
        found = _listing([printable(name) for _, name in candidates]) or "nothing"
        where = candidates[0][0].where.parent if candidates else Path(student)
        problems.append(Problem(student, where, "missing", f"no {lab.filename} (found: {found})"))
        return None
    best = _depth(chosen[0][0])
    tied = [c for c in chosen if _depth(c[0]) == best]
    scripts = [c for c in tied if c[0].name.lower().endswith(".py")]
    if len(scripts) > 1 or (not scripts and len(tied) > 1):
        names = _listing([printable(c[0].name) for c in tied])
        problems.append(Problem(student, tied[0][0].where.parent, "ambiguous",
                                f"several files could be {lab.filename}: {names}"))
        return None
    pick = sorted(tied, key=lambda c: not c[0].name.lower().endswith(".py"))[0]   # .py before .ipynb
    for other in exact + close:
        if other is not pick:
            problems.append(Problem(student, other[0].where, "duplicate", f"not graded: {printable(pick[0].name)} was"))
    return pick


def _listing(names: list[str], shown: int = NAMES_LISTED) -> str:
    """``a, b, c`` — at most ``shown`` names, then how many more: a folder of 3000 candidates is one
    short line, not 80 KB in a report."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _depth(node: Node) -> int:
    return len(node.where.parts)


# ------------------------------------------------------------------ staging
def _copy(lab: Lab, student: str, raw: str, chosen: tuple[Node, str], folder: Path,
          problems: list[Problem], handin: Handin) -> Entry | None:
    """The chosen file read, converted (a notebook) and staged as the lab's file, or a problem."""
    node, handed_in_as = chosen
    notebook = node.name.lower().endswith(".ipynb")
    try:
        data = node.read()
        source = notebook_to_source(data) if notebook else _python_text(data)
        staged = data   # as handed in: a file whose coding line says latin-1 is still read as latin-1
        source.encode("utf-8")   # a notebook's text too: a lone surrogate in a cell is not code
    except (Unreadable, NotebookError, UnicodeError, SyntaxError, LookupError) as exc:
        problems.append(_problem(student, node, "unreadable", _why(exc)))
        return None
    if not source.strip():
        problems.append(_problem(student, node, "empty", "the file has no code"))
        return None
    folder.mkdir(parents=True, exist_ok=True)
    # a notebook is graded as a notebook (its report points into its cells, as ``grade`` does)
    code = folder / (f"{lab.module}.ipynb" if notebook else lab.filename)
    code.write_bytes(staged)
    note = ""
    if notebook:
        note = f"graded the code cells of {printable(node.name)} as {lab.filename}"
    elif handed_in_as != lab.filename:
        note = f"graded {printable(handed_in_as)} as {lab.filename}"
    return Entry(student, node.where, code, hashlib.sha256(staged).hexdigest(), note, source, handin,
                 printable(raw, PATH_SHOWN))


# ------------------------------------------------------------------ what the LMS says
def gradescope_handins(root: Node, problems: list[Problem]) -> dict[str, Handin]:
    """``submission_metadata.yml`` of a Gradescope export: folder name -> its submitters and time.

    Read with YAML's safe loader (data only), from the folder or the zip alike and never through a
    link. Only scalars are read from it (:func:`_text`, :func:`iso_time`), each of bounded length: an
    alias is never expanded into text (a billion laughs stays a few references). A file that is not
    what Gradescope writes, or that YAML cannot make values of, is a listed problem, and the
    submissions are graded all the same."""
    node = next((c for c in root.children() if c.name == GRADESCOPE_METADATA), None)
    if node is None:
        return {}
    try:
        data = yaml.load(node.read(), Loader=_YAML_LOADER)   # noqa: S506 (a safe loader, C or Python)
    except Exception as exc:   # YAMLError, and what its constructors raise: ValueError (a 5000-digit int,
        # a 13th month), AttributeError (a tagged timestamp that is not one), RecursionError
        problems.append(_problem("", node, "unreadable", f"not read: {(str(exc).splitlines() or [''])[0]}"))
        return {}
    if not isinstance(data, dict):
        problems.append(_problem("", node, "unreadable", "not read: not a mapping of submissions"))
        return {}
    return {key: _gradescope_handin(entry) for key, entry in ((_text(folder), entry) for folder, entry in data.items())
            if key and isinstance(entry, dict)}


def _gradescope_handin(entry: dict) -> Handin:
    def get(mapping: dict, key: str) -> object:
        return mapping.get(f":{key}", mapping.get(key))

    listed = get(entry, "submitters")
    submitters = [s for s in listed[:_SUBMITTERS] if isinstance(s, dict)] if isinstance(listed, list) else []

    def joined(key: str) -> str:   # a group submission has several submitters
        return ", ".join(t for t in (_text(get(s, key)) for s in submitters) if t)[:_SUBMITTERS * _FIELD]

    members = tuple(dict.fromkeys(Handin(name=_text(get(s, "name")), sis_id=_text(get(s, "sid")),
                                         email=_text(get(s, "email"))) for s in submitters))
    return Handin(name=joined("name"), sis_id=joined("sid"), email=joined("email"),
                  submitted_at=iso_time(get(entry, "created_at")), members=members if len(members) > 1 else ())


def _text(value: object) -> str:
    """A YAML scalar as text, at most :data:`_FIELD` characters; '' for anything else: a list or a
    mapping (whose text an alias could make gigabytes long), a time, or an int too long to write."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    try:
        return str(value)[:_FIELD]
    except ValueError:   # an int of more than 4300 digits
        return ""


def iso_time(value: object) -> str:
    """A time as ISO 8601 with its offset ('' when it is not one): YAML gives datetimes (without a zone:
    UTC, as YAML's spec says), or text (without an offset: local time, as ``--due``)."""
    try:
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
        if isinstance(value, str) and len(value) <= _FIELD:
            return parse_time(value).isoformat()
    except (ValueError, OverflowError):   # no such time, or none this machine's clock can say
        return ""
    return ""


def parse_time(text: str) -> datetime:
    """``2024-03-01 23:59``, ``2024-03-01T23:59:00+01:00``, Gradescope's ``2024-03-01 12:00:00.123456789 -08:00``:
    a datetime; without an offset, local time. Raises ValueError."""
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", text.strip())           # nanoseconds: Python reads microseconds
    cleaned = re.sub(r"\s+([+-]\d\d:?\d\d|Z)$", r"\1", cleaned)       # "... -08:00" -> "...-08:00"
    moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.astimezone()


def _python_text(raw: bytes) -> str:
    """Source bytes as text, honouring a PEP 263 coding line (default UTF-8)."""
    encoding, _ = tokenize.detect_encoding(BytesIO(raw).readline)
    return raw.decode(encoding)


def _why(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (and no coding line says otherwise)"
    if isinstance(exc, UnicodeError):
        return "it holds text that is not valid Unicode (a lone surrogate)"
    if isinstance(exc, LookupError):
        return f"its coding line names an encoding Python does not know ({exc})"
    return str(exc)
