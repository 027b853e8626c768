"""Two submissions alike, and where: plain data the reports render (no detector here)."""

from __future__ import annotations

from dataclasses import dataclass, field

THRESHOLD = 0.5         # pairs sharing at least this much of one's own code are shown
MAX_CHARACTERS = 256 << 10   # characters of a file compared (a lab's solution: about 10 000)


@dataclass(frozen=True)
class Fragment:
    """Code the two share: where in each (first and last line), what it is (a function's name, or
    ''), how many fingerprints they share there, and lines to leave out when showing it (a docstring)."""

    a_lines: tuple[int, int]
    b_lines: tuple[int, int]
    a_name: str = ""
    b_name: str = ""
    shared: int = 0
    a_hidden: tuple[int, int] = (0, -1)
    b_hidden: tuple[int, int] = (0, -1)


@dataclass(frozen=True)
class Pair:
    """``a`` and ``b`` (student ids), how much of each one's own code (beyond the stub) the other shares."""

    a: str
    b: str
    a_share: float
    b_share: float
    fragments: list[Fragment] = field(default_factory=list)
    a_code: str = ""
    b_code: str = ""

    @property
    def score(self) -> float:
        """The larger share: a copy inside a longer file is as suspicious as a copy of a whole file."""
        return max(self.a_share, self.b_share)

    def texts(self, fragment: Fragment) -> tuple[str, str]:
        """The fragment's lines in each file (a function without its docstring)."""
        return (_lines(self.a_code, fragment.a_lines, fragment.a_hidden),
                _lines(self.b_code, fragment.b_lines, fragment.b_hidden))


def _lines(code: str, lines: tuple[int, int], hidden: tuple[int, int]) -> str:
    numbered = enumerate(code.splitlines()[lines[0] - 1:lines[1]], start=lines[0])
    return "\n".join(text for number, text in numbered if not hidden[0] <= number <= hidden[1])
