"""The submissions as one tree of names, whether a folder on disk or a class zip, read in place.

Finding who handed in what needs names only; a file's bytes are read when it
is chosen for grading, through :meth:`Node.read`, within :data:`MAX_FILE_BYTES`.
So a zip is never extracted: only the files that are graded leave it, straight
into the staging folder, and a member no grade needs (data, a nested zip, a
second copy) costs nothing, whatever its size.

A node is a folder, a file, or *refused*: something that is there but will
never be read, with why (a symbolic link, a member that is encrypted,
compressed with a method this Python cannot read, named twice in the zip,
declared too large). The layouts turn a refused node into a listed problem
wherever they would have read it. Nothing here follows a symbolic link.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from grader.grading.files import LINK, MAX_FILE_BYTES, Unreadable, read_no_follow

MAX_DEPTH = 32   # folders: a class zip's hand-in sits a few deep; a deeper member is listed, never walked
_READABLE_METHODS = {zipfile.ZIP_STORED: "", zipfile.ZIP_DEFLATED: "zlib", zipfile.ZIP_BZIP2: "bz2",
                     zipfile.ZIP_LZMA: "lzma"}


@dataclass
class Node:
    """One entry of the submissions: ``kind`` is ``dir``, ``file`` or ``refused``."""

    name: str                       # as the file system or the zip names it (undecodable bytes as surrogates)
    where: Path                     # shown to the instructor
    kind: str
    why: str = ""                   # refused: why it is not read
    problem: str = "unreadable"     # refused: the kind of problem it is (unreadable | duplicate)
    reader: Callable[[], bytes] | None = None
    entries: dict[str, "Node"] | None = None          # a zip's folder: its children, built up front
    lister: Callable[[], list["Node"]] | None = field(default=None, repr=False)

    def children(self) -> list["Node"]:
        """A folder's entries, sorted by name."""
        if self.entries is not None:
            return [self.entries[name] for name in sorted(self.entries)]
        return sorted(self.lister(), key=lambda n: n.name) if self.lister else []

    def read(self) -> bytes:
        """A file's bytes (at most MAX_FILE_BYTES), or Unreadable."""
        if self.kind != "file" or self.reader is None:
            raise Unreadable(self.why or "not a file")
        return self.reader()


# ------------------------------------------------------------------ a folder on disk
def disk_folder(path: Path) -> Node:
    """The folder the instructor named (reached as they named it), its entries looked at without
    following links."""
    return Node(path.name, path, "dir", lister=lambda: [_disk_child(path / name) for name in os.listdir(path)])


def disk_tree(path: Path) -> Node:
    """``path`` (a folder) and everything under it, looked at without following links."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return Node(path.name, path, "refused", LINK)
    if stat.S_ISDIR(info.st_mode):
        return Node(path.name, path, "dir", lister=lambda: [_disk_child(path / name) for name in os.listdir(path)])
    if stat.S_ISREG(info.st_mode):
        return Node(path.name, path, "file", reader=lambda: read_no_follow(path))
    return Node(path.name, path, "refused", "not a regular file")


def _disk_child(path: Path) -> Node:
    try:
        return disk_tree(path)
    except OSError as exc:
        return Node(path.name, path, "refused", exc.strerror or "cannot be read")


# ------------------------------------------------------------------ a class zip
def zip_tree(archive: zipfile.ZipFile, shown: Path) -> tuple[Node, list[tuple[str, str]]]:
    """The members of an open zip as a tree, and the members that have no place in it
    (an absolute or ``..`` path), with why. ``shown`` is the zip's path, for the instructor."""
    root = Node(shown.name, shown, "dir", entries={})
    outside: list[tuple[str, str]] = []
    counts: dict[str, int] = {}
    for member in archive.infolist():
        name = _member_name(member)
        parts = _parts(name)
        if parts is None:
            outside.append((name, "a path outside the archive's folder; not read"))
            continue
        if len(parts) > MAX_DEPTH:   # making its folders, each named by its whole path, is quadratic in depth
            outside.append((name, f"{len(parts) - 1} folders deep (at most {MAX_DEPTH}); not read"))
            continue
        is_dir = member.is_dir() or name.endswith("\\")
        folder = _folder(root, parts[:-1] if not is_dir else parts, shown)
        if folder is None:
            outside.append((name, "a file and a folder share its path; not read"))
            continue
        if is_dir:
            continue
        key = "/".join(parts)
        counts[key] = counts.get(key, 0) + 1
        if parts[-1] in folder.entries and folder.entries[parts[-1]].kind == "dir":
            outside.append((name, "a file and a folder share its path; not read"))
            continue
        node = _member_node(archive, member, parts[-1], shown.joinpath(*parts))
        if counts[key] > 1:
            node = Node(parts[-1], node.where, "refused",
                        f"appears {counts[key]} times in the zip; no copy is graded", problem="duplicate")
        folder.entries[parts[-1]] = node
    return root, outside


def _member_name(member: zipfile.ZipInfo) -> str:
    """The member's name as the student wrote it. Without the UTF-8 flag zipfile reads the bytes as cp437, as
    the format says; but macOS's Archive Utility and Windows's Explorer write UTF-8 without setting it
    (``José`` read as ``Jos├⌐``): bytes that are valid UTF-8 and not ASCII are read as UTF-8, as
    ``unzip`` and 7-Zip do; anything else stays cp437."""
    if member.flag_bits & 0x800:
        return member.filename
    try:
        return member.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return member.filename


def _parts(name: str) -> tuple[str, ...] | None:
    """The path of a member as its parts; None when it would land outside the folder. A backslash separates
    folders too (Windows PowerShell's Compress-Archive writes ``alice\\lab.py``; zipfile makes it ``/`` on
    Windows only, so a grade would depend on the system)."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    parts = tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", "."))
    return None if not parts or ".." in parts else parts


def _folder(root: Node, parts: tuple[str, ...], shown: Path) -> Node | None:
    """The folder node at ``parts``, made as needed; None when a file holds one of those names."""
    node = root
    for depth, part in enumerate(parts, start=1):
        child = node.entries.get(part)
        if child is None:
            child = node.entries[part] = Node(part, shown.joinpath(*parts[:depth]), "dir", entries={})
        if child.kind != "dir":
            return None
        node = child
    return node


def _member_node(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, where: Path) -> Node:
    if stat.S_ISLNK(member.external_attr >> 16):
        return Node(name, where, "refused", LINK)
    if member.flag_bits & 0x1:
        return Node(name, where, "refused", "encrypted: it cannot be read without a password")
    module = _READABLE_METHODS.get(member.compress_type)
    if module is None or (module and not _importable(module)):
        return Node(name, where, "refused", f"compressed with compression method {member.compress_type}, "
                                            f"which this Python cannot read")
    if member.file_size > MAX_FILE_BYTES:
        return Node(name, where, "refused", f"too large ({member.file_size >> 20} MiB; at most "
                                            f"{MAX_FILE_BYTES >> 20} MiB)")
    return Node(name, where, "file", reader=lambda: _read_member(archive, member))


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    """The member's bytes, checked against its declared size and CRC, never more than the limit."""
    try:
        with archive.open(member) as source:
            data = source.read(MAX_FILE_BYTES + 1)   # to its end, where zipfile checks the CRC
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        raise Unreadable(f"the zip cannot give it back ({_one_line(exc)})") from None
    except Exception as exc:  # zlib.error, lzma.LZMAError, ...: a damaged member
        raise Unreadable(f"the zip cannot give it back ({type(exc).__name__}: {_one_line(exc)})") from None
    if len(data) != member.file_size:
        raise Unreadable(f"it holds {'more' if len(data) > member.file_size else 'less'} than the "
                         f"{member.file_size} bytes the zip says")
    return data


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
