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
names, SIDs and e-mails and the time each was created; both are read as data.

Every entry is read once (never through a symbolic link), copied into a
staging folder as the lab's file name (a notebook as the lab's module with
``.ipynb``, graded as ``grade`` grades one), and hashed: what is graded is
exactly what was hashed. Nothing is dropped silently: what cannot be graded is a
:class:`Problem`, and a graded file whose name was not the lab's carries a note.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tokenize
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path

import yaml

from grader.grading.notebooks import NotebookError, notebook_to_source
from grader.course.labs import Lab
from grader.instructor.gradebook.store import Handin

CODE_SUFFIXES = (".py", ".ipynb")
MAX_FILE_BYTES = 8 << 20          # a lab file is kilobytes; a notebook with outputs, megabytes
MAX_ZIP_BYTES = 2 << 30           # uncompressed total of a class zip
_SKIPPED_DIRS = {"__pycache__", "__MACOSX", ".ipynb_checkpoints", ".git"}
_CANVAS = re.compile(r"^(?P<name>[a-z][a-z0-9]*?)(?P<late>_late)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+)$",
                     re.IGNORECASE)
GRADESCOPE_METADATA = "submission_metadata.yml"


@dataclass(frozen=True)
class Entry:
    """One student's submission, ready to grade."""

    student: str          # from the folder or file name
    source: Path          # the file the instructor's folder holds
    code: Path            # its staged copy (a notebook: its code cells), named as the lab's file
    content_hash: str     # sha256 of ``code``
    note: str = ""        # e.g. "graded Pytorch_Basics-1.py as pytorch_basics.py"
    text: str = ""        # the Python code (a notebook's code cells): what similarity reads
    handin: Handin = field(default_factory=Handin)


@dataclass(frozen=True)
class Problem:
    """Something in the submissions that is not graded, and why."""

    student: str
    path: Path
    kind: str             # missing | ambiguous | duplicate | empty | unreadable | ignored
    detail: str


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
        root, refused = unpack_zip(submissions, staging / "unzipped")
        roster = _discover_folder(lab, root, staging)
        roster.layout = f"zip of {roster.layout}"
        roster.problems += [Problem("", Path(name), "unreadable", f"in {submissions.name}: {why}; not extracted")
                            for name, why in refused]
        return roster
    if not submissions.is_dir():
        raise LayoutError(f"{submissions} is neither a folder of submissions nor a .zip of one")
    return _discover_folder(lab, submissions, staging)


# ------------------------------------------------------------------ layouts
def _discover_folder(lab: Lab, root: Path, staging: Path) -> Roster:
    folders, files, problems = [], [], []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.name in _SKIPPED_DIRS or path.name == GRADESCOPE_METADATA:
            continue
        if path.is_symlink():
            problems.append(Problem(path.stem, path, "unreadable", "a symbolic link: not followed"))
        elif path.is_dir():
            folders.append(path)
        elif path.suffix.lower() in CODE_SUFFIXES:
            files.append(path)
        else:
            problems.append(Problem("", path, "ignored", f"not a {'/'.join(CODE_SUFFIXES)} file or a folder"))
    groups: dict[str, list[tuple[Path, str]]] = {}   # student -> (file, the name it was handed in as)
    handins: dict[str, Handin] = gradescope_handins(root, problems)
    folder_ids = _folder_ids(folders)
    for folder in folders:
        groups.setdefault(folder_ids[folder], []).extend(
            (f, f.name) for f in _code_files(folder, problems, folder_ids[folder]))
    canvas = sum(1 for f in files if _CANVAS.match(f.name))
    for path in files:
        match = _CANVAS.match(path.name)
        student, name = (f"{match['name']}_{match['uid']}", match["file"]) if match else (path.stem, None)
        if match:
            late = handins.get(student, Handin()).late or bool(match["late"])
            handins[student] = Handin(name=match["name"], lms_id=match["uid"], late=late)
        if match is None and student in folder_ids.values():
            problems.append(Problem(student, path, "duplicate", f"{student} also has a folder; the folder is graded"))
            continue
        groups.setdefault(student, []).append((path, name if name is not None else lab.filename))
    roster = Roster(_layout_name(folders, files, canvas), problems=problems)
    for index, (student, candidates) in enumerate(sorted(groups.items())):
        chosen = _choose(lab, student, candidates, roster.problems)
        if chosen is not None:
            entry = _stage(lab, student, chosen, staging / "entries" / f"{index:05d}", roster.problems,
                           handins.get(student, Handin()))
            if entry is not None:
                roster.entries.append(entry)
    return roster


def _folder_ids(folders: list[Path]) -> dict[Path, str]:
    """Folder name → student id; GitHub Classroom's shared ``assignment-`` prefix dropped."""
    names = [f.name for f in folders]
    prefix = os.path.commonprefix(names) if len(names) > 1 else ""
    prefix = prefix[: prefix.rfind("-") + 1] if "-" in prefix else ""
    if len(prefix) < 3 or any(len(n) == len(prefix) for n in names):
        prefix = ""
    return {f: f.name[len(prefix):] for f in folders}


def _layout_name(folders: list[Path], files: list[Path], canvas: int) -> str:
    kinds = []
    if folders:
        gradescope = all(re.fullmatch(r"submission_\d+", f.name) for f in folders)
        kinds.append("Gradescope folders" if gradescope else "a folder per student")
    if canvas:
        kinds.append("Canvas files")
    if len(files) > canvas:
        kinds.append("a file per student")
    return " + ".join(kinds) or "empty"


def _code_files(folder: Path, problems: list[Problem], student: str) -> list[Path]:
    """The .py/.ipynb files anywhere in a student's folder, shallowest first; links not followed."""
    found = []
    for top, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        for name in sorted(names):
            path = Path(top) / name
            if path.suffix.lower() not in CODE_SUFFIXES:
                continue
            if path.is_symlink():
                problems.append(Problem(student, path, "unreadable", "a symbolic link: not followed"))
            else:
                found.append(path)
    return sorted(found, key=lambda p: (len(p.relative_to(folder).parts), str(p)))


# ------------------------------------------------------------------ choosing
def normal_stem(filename: str) -> str:
    """``Pytorch_Basics-1.ipynb`` → ``pytorch_basics``: case, LMS/browser copy suffixes and separators."""
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    stem = re.sub(r"\s*\(\d+\)$", "", stem.strip().lower())
    stem = re.sub(r"-\d+$", "", stem)
    return re.sub(r"[\s\-.]+", "_", stem)


def _choose(lab: Lab, student: str, candidates: list[tuple[Path, str]], problems: list[Problem]) -> tuple[Path, str] | None:
    """The one file to grade for ``student``, or None with a problem saying why."""
    exact = [c for c in candidates if c[1] == lab.filename]
    close = [c for c in candidates if normal_stem(c[1]) == lab.module and c not in exact]
    chosen = exact or close
    if not chosen and len(candidates) == 1:
        chosen = candidates
    if not chosen and not candidates and any(p.student == student for p in problems):
        return None   # its only file is already listed (a link, say): "missing" would say nothing new
    if not chosen:
        found = ", ".join(name for _, name in candidates) or "nothing"
        where = candidates[0][0].parent if candidates else Path(student)
        problems.append(Problem(student, where, "missing", f"no {lab.filename} (found: {found})"))
        return None
    best = _depth(chosen[0][0])
    tied = [c for c in chosen if _depth(c[0]) == best]
    scripts = [c for c in tied if c[0].suffix.lower() == ".py"]
    if len(scripts) > 1 or (not scripts and len(tied) > 1):
        names = ", ".join(str(c[0].name) for c in tied)
        problems.append(Problem(student, tied[0][0].parent, "ambiguous", f"several files could be {lab.filename}: {names}"))
        return None
    pick = sorted(tied, key=lambda c: c[0].suffix.lower() != ".py")[0]   # .py before .ipynb
    for other in exact + close:
        if other is not pick:
            problems.append(Problem(student, other[0], "duplicate", f"not graded: {pick[0].name} was"))
    return pick


def _depth(path: Path) -> int:
    return len(path.parts)


# ------------------------------------------------------------------ staging
def _stage(lab: Lab, student: str, chosen: tuple[Path, str], folder: Path, problems: list[Problem],
           handin: Handin = Handin()) -> Entry | None:
    path, handed_in_as = chosen
    notebook = path.suffix.lower() == ".ipynb"
    try:
        raw = read_no_follow(path)
        source = notebook_to_source(raw) if notebook else _python_text(raw)
    except (OSError, NotebookError, UnicodeDecodeError, SyntaxError) as exc:
        problems.append(Problem(student, path, "unreadable", _why(exc)))
        return None
    if not source.strip():
        problems.append(Problem(student, path, "empty", "the file has no code"))
        return None
    folder.mkdir(parents=True, exist_ok=True)
    # a notebook is graded as a notebook (its report points into its cells, as ``grade`` does)
    code = folder / (f"{lab.module}.ipynb" if notebook else lab.filename)
    data = raw if notebook else source.encode("utf-8")
    code.write_bytes(data)
    note = ""
    if notebook:
        note = f"graded the code cells of {path.name} as {lab.filename}"
    elif handed_in_as != lab.filename:
        note = f"graded {handed_in_as} as {lab.filename}"
    return Entry(student, path, code, hashlib.sha256(data).hexdigest(), note, source, handin)


# ------------------------------------------------------------------ what the LMS says
def gradescope_handins(root: Path, problems: list[Problem]) -> dict[str, Handin]:
    """``submission_metadata.yml`` of a Gradescope export: folder name -> its submitters and time.

    Read with ``yaml.safe_load`` (data only); a file that is not what Gradescope writes is a problem,
    listed, and the submissions are graded all the same."""
    path = root / GRADESCOPE_METADATA
    if not path.is_file() or path.is_symlink():
        return {}
    try:
        data = yaml.safe_load(read_no_follow(path))
    except (OSError, yaml.YAMLError) as exc:
        problems.append(Problem("", path, "unreadable", f"not read: {str(exc).splitlines()[0]}"))
        return {}
    if not isinstance(data, dict):
        problems.append(Problem("", path, "unreadable", "not read: not a mapping of submissions"))
        return {}
    return {str(folder): _gradescope_handin(entry) for folder, entry in data.items() if isinstance(entry, dict)}


def _gradescope_handin(entry: dict) -> Handin:
    def get(mapping: dict, key: str) -> object:
        return mapping.get(f":{key}", mapping.get(key))

    submitters = [s for s in get(entry, "submitters") or [] if isinstance(s, dict)]
    def joined(key: str) -> str:   # a group submission has several submitters
        return ", ".join(str(get(s, key)) for s in submitters if get(s, key))

    return Handin(name=joined("name"), sis_id=joined("sid"), email=joined("email"),
                  submitted_at=iso_time(get(entry, "created_at")))


def iso_time(value: object) -> str:
    """A time as ISO 8601 with its offset ('' when it is not one): YAML gives datetimes, or text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return parse_time(value).isoformat()
        except ValueError:
            return ""
    return ""


def parse_time(text: str) -> datetime:
    """``2024-03-01 23:59``, ``2024-03-01T23:59:00+01:00``, Gradescope's ``2024-03-01 12:00:00.123456789 -08:00``:
    a datetime; without an offset, local time. Raises ValueError."""
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", text.strip())           # nanoseconds: Python reads microseconds
    cleaned = re.sub(r"\s+([+-]\d\d:?\d\d|Z)$", r"\1", cleaned)       # "... -08:00" -> "...-08:00"
    moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.astimezone()


def read_no_follow(path: Path) -> bytes:
    """The file's bytes, refusing symbolic links and anything that is not a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError("not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise OSError(f"too large ({info.st_size >> 20} MiB)")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)


def _python_text(raw: bytes) -> str:
    """Source bytes as text, honouring a PEP 263 coding line (default UTF-8)."""
    encoding, _ = tokenize.detect_encoding(BytesIO(raw).readline)
    return raw.decode(encoding)


def _why(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (and no coding line says otherwise)"
    if isinstance(exc, OSError) and exc.errno is not None:
        return "a symbolic link: not followed" if exc.errno == 40 else (exc.strerror or str(exc))
    return str(exc)


# ------------------------------------------------------------------ zips
def unpack_zip(archive: Path, target: Path) -> tuple[Path, list[tuple[str, str]]]:
    """Extract a class zip safely (no absolute or ``..`` paths, no links, bounded size).

    Returns the folder holding the entries (a lone top folder is entered) and
    the members refused, with why.
    """
    refused = []
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise LayoutError(f"{archive} unpacks to more than {MAX_ZIP_BYTES >> 30} GiB")
            for member in members:
                why = _extract(zipped, member, target)
                if why:
                    refused.append((member.filename, why))
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayoutError(f"{archive} is not a readable zip ({exc})") from None
    target.mkdir(parents=True, exist_ok=True)
    root = target
    while True:
        children = [c for c in root.iterdir() if not c.name.startswith(".") and c.name not in _SKIPPED_DIRS]
        if len(children) == 1 and children[0].is_dir() and not any(
                c.suffix.lower() in CODE_SUFFIXES for c in children[0].iterdir()):
            root = children[0]
        else:
            return root, refused


def _extract(zipped: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path) -> str:
    """Extract one member; returns why it was refused, or ''."""
    parts = Path(member.filename).parts
    if stat.S_ISLNK(member.external_attr >> 16):
        return "a symbolic link"
    if member.filename.startswith("/") or ".." in parts or not parts:
        return "a path outside the archive's folder"
    destination = target.joinpath(*parts)
    if member.is_dir():
        destination.mkdir(parents=True, exist_ok=True)
        return ""
    if member.file_size > MAX_FILE_BYTES:
        return f"too large ({member.file_size >> 20} MiB)"
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipped.open(member) as source, open(destination, "wb") as sink:
        sink.write(source.read(MAX_FILE_BYTES + 1))
    return ""
