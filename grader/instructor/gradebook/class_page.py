"""``report.html``: the class report as one self-contained page (styles, plots, script inline; opens offline).

Sections: summary, by function, common mistakes, checks hardest first (and
those skipped for everyone, apart), students (a table that sorts by any
column, each student linked to their own report), similar submissions.
Every string that comes from a student (ids, notes, code lines, messages) is
escaped with :func:`escape`; the page's Content-Security-Policy lets nothing
load and runs only its own script (by hash), so even a string that slipped
through could not fetch or execute anything.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote

from grader.instructor.gradebook import plots
from grader.instructor.gradebook.escape import html_text
from grader.instructor.gradebook.class_report import ClassReport, Mistake, StudentRow
from grader.instructor.similarity.model import MAX_CHARACTERS, Pair
from grader.results import plural

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:70em;margin:1em auto;padding:0 1em;
color:#222;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;text-align:left;vertical-align:top}
th{background:#f3f3f3;white-space:nowrap}td.n,th.n{text-align:right}tbody tr:nth-child(even){background:#fafafa}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:after{content:" ⇅";color:#aaa}
.stats td:first-child{color:#555}.bad{color:#b00}.late{color:#a60;font-weight:bold}.dim{color:#777}
pre{background:#f6f6f6;padding:4px 8px;overflow-x:auto;margin:2px 0}
ol.mistakes>li{margin-bottom:1em}.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px}.pair>div{min-width:0}
.pair pre{max-height:22em;overflow:auto;font-size:.85em}
svg{max-width:100%;height:auto}
"""

SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var down = th.getAttribute("aria-sort") !== "ascending";
      var numeric = th.classList.contains("n");
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-sort"), y = b.cells[column].getAttribute("data-sort");
        var order = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
        return down ? order : -order;
      });
      table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", down ? "ascending" : "descending");
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


NOTHING_LOADS = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"   # a page without a script
PAGE_FIELD = 1 << 16   # characters of one student field on the page (a not-graded report's text, say)

def escape(value: object) -> str:
    """HTML text (and attribute value) for anything a student controls: escaped, and inert
    (grader.instructor.gradebook.escape.html_text)."""
    return html_text("" if value is None else value, PAGE_FIELD)


def page(title: str, body: str) -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    policy = f"{NOTHING_LOADS}; script-src 'sha256-{digest}'"
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
            f"<meta http-equiv='Content-Security-Policy' content=\"{policy}\">\n"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n"
            f"<script>{SCRIPT}</script>\n</body></html>\n")


def render(report: ClassReport, pairs: list[Pair] | None = None, threshold: float = 0.0,
           cut: list[tuple[str, int]] = ()) -> str:
    """The page; ``pairs``: the similar pairs (None: no similarity section); ``cut``: (student, characters)
    of the files too long to be compared whole."""
    lab = report.lab.replace("lab", "Lab ")
    sections = [f"<h1>{escape(lab)} · {escape(report.title)}: class report</h1>",
                summary(report), functions(report), mistakes(report), checks(report), students(report)]
    if pairs is not None:
        sections.append(similarity(pairs, threshold, cut))
    return page(f"{lab} class report", "\n".join(sections))


def not_graded_page(student: str, text: str) -> str:
    return page(f"{student}: not graded", f"<p><a href='../../report.html'>← class report</a></p><pre>"
                                          f"{escape(text)}</pre>")


# ------------------------------------------------------------------ sections
def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def summary(report: ClassReport) -> str:
    s = report.summary
    rows = [("submissions", str(s.submissions)), ("graded", str(s.graded)), ("mean", _percent(s.mean)),
            ("median", _percent(s.median)),
            ("quartiles", f"{_percent(s.quartiles[0])} – {_percent(s.quartiles[1])}" if s.quartiles else "–"),
            ("lowest / highest", f"{_percent(s.lowest)} / {_percent(s.highest)}")]
    if report.due:
        rows.append(("due", report.due))
    table = "".join(f"<tr><td>{escape(k)}</td><td class='n'>{escape(v)}</td></tr>" for k, v in rows)
    parts = ["<h2 id='summary'>Summary</h2>", f"<table class='stats'>{table}</table>",
             plots.histogram(s.histogram)]
    if s.not_graded:
        items = "".join(f"<li><b>{escape(student)}</b> ({escape(kind)}): {escape(why)}</li>"
                        for student, kind, why in s.not_graded)
        parts.append(f"<p class='bad'>Could not be graded ({len(s.not_graded)}):</p><ul>{items}</ul>")
    if s.not_imported:
        items = "".join(f"<li><b>{escape(student)}</b>: {escape(why)}</li>" for student, why in s.not_imported)
        parts.append(f"<p class='bad'>Graded 0: the file could not be imported ({len(s.not_imported)}):</p>"
                     f"<ul>{items}</ul>")
    return "\n".join(parts)


def functions(report: ClassReport) -> str:
    head = ("<tr><th>function</th><th class='n'>points</th><th class='n'>fully right</th><th class='n'>partly</th>"
            "<th class='n'>no check passes</th><th class='n'>not started</th></tr>")
    rows = "".join(f"<tr><td><code>{escape(r.name)}</code></td><td class='n'>{r.points:g}</td>"
                   f"<td class='n'>{r.right}</td><td class='n'>{r.partly}</td><td class='n'>{r.wrong}</td>"
                   f"<td class='n'>{r.not_started}</td></tr>" for r in report.functions)
    return ("<h2 id='functions'>By function, in the lab's order</h2>\n" + plots.functions(report.functions) +
            f"\n<table>{head}{rows}</table>")


def mistakes(report: ClassReport) -> str:
    if not report.mistakes:
        return "<h2 id='mistakes'>Common mistakes</h2><p>None: every failure was a function not started yet.</p>"
    links = {row.student: row.folder for row in report.students}
    items = "".join(_mistake(m, links) for m in report.mistakes)
    return f"<h2 id='mistakes'>Common mistakes, most common first</h2>\n<ol class='mistakes'>{items}</ol>"


def _mistake(mistake: Mistake, links: dict[str, str]) -> str:
    where = ", ".join(f"<code>{escape(f)}</code>" for f in mistake.functions) or "the file"
    lines = "".join(f"<pre>{escape(line)}</pre>" for line in mistake.lines)
    hint = f"<div><b>hint given:</b> {escape(mistake.hint)}</div>" if mistake.hint else ""
    who = ", ".join(_student_link(s, links.get(s, "")) for s in mistake.students)
    return (f"<li><b>{escape(mistake.what)}</b> — {plural(len(mistake.students), 'student')}, in {where} "
            f"<span class='dim'>({plural(mistake.checks, 'check')}, {plural(mistake.points, 'point')} lost)</span>"
            f"{lines}{hint}<div class='dim'>students: {who}</div></li>")


def _student_link(student: str, folder: str) -> str:
    if not folder:
        return escape(student)
    return f"<a href='students/{escape(quote(folder))}/report.html'>{escape(student)}</a>"


def checks(report: ClassReport) -> str:
    head = ("<thead><tr><th>check</th><th>function</th><th class='n'>points</th><th class='n'>passed</th>"
            "<th class='n'>rate</th></tr></thead>")
    rows = "".join(
        f"<tr><td data-sort='{escape(r.title)}'>{escape(r.title)}</td><td data-sort='{escape(r.function)}'>"
        f"<code>{escape(r.function)}</code></td><td class='n' data-sort='{r.points:g}'>{r.points:g}</td>"
        f"<td class='n' data-sort='{r.passed}'>{r.passed}/{r.ran}"
        + (f" <span class='dim'>({r.skipped} skipped)</span>" if r.skipped else "")
        + f"</td><td class='n' data-sort='{r.rate:.4f}'>{100 * r.rate:.0f}%</td></tr>" for r in report.checks)
    parts = ["<h2 id='checks'>Checks, hardest first</h2>", plots.pass_rates(report.checks) if report.checks else "",
             f"<table class='sortable' id='checks-table'>{head}<tbody>{rows}</tbody></table>"]
    if report.skipped:
        items = "".join(f"<li>{escape(r.title)} ({plural(r.points, 'point')})</li>" for r in report.skipped)
        parts.append(f"<h3>Skipped for every student (not counted, never shown as passed)</h3>"
                     f"<ul id='skipped-checks'>{items}</ul>")
    return "\n".join(parts)


def students(report: ClassReport) -> str:
    policy = report.policy.percent
    head = ("<thead><tr><th>student</th><th class='n'>score</th><th class='n'>%</th><th>status</th>"
            "<th class='n'>time</th><th>late</th>"
            + (f"<th class='n'>after the late policy ({policy:g}%/day)</th>" if policy else "")
            + "<th>note</th></tr></thead>")
    rows = "".join(_student_row(row, bool(policy)) for row in report.students)
    return (f"<h2 id='students'>Students</h2>\n<p class='dim'>Click a column's title to sort by it.</p>\n"
            f"<table class='sortable' id='students-table'>{head}<tbody>{rows}</tbody></table>")


def _student_row(row: StudentRow, policy: bool) -> str:
    score = f"{row.score:g}/{row.max_score:g}" if row.max_score else f"{row.score:g}"
    late = row.late.label()
    late_days = row.late.seconds if row.late.seconds is not None else (1 if row.late.late else 0)
    cells = [f"<td data-sort='{escape(row.student)}'>{_student_link(row.student, row.folder)}</td>",
             f"<td class='n' data-sort='{row.score:g}'>{escape(score)}</td>",
             f"<td class='n' data-sort='{row.percent if row.percent is not None else -1:.3f}'>"
             f"{_percent(row.percent)}</td>",
             f"<td data-sort='{escape(row.status)}' class='{'' if row.status == 'graded' else 'bad'}'>"
             f"{escape(row.status)}</td>",
             f"<td class='n' data-sort='{row.seconds:.3f}'>{row.seconds:.1f} s</td>",
             f"<td data-sort='{late_days}' class='late'>{escape(late)}</td>"]
    if policy:
        cells.append(f"<td class='n' data-sort='{row.final:g}'>{row.final:g}</td>")
    cells.append(f"<td data-sort='{escape(row.note)}' class='dim'>{escape(row.note)}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def similarity(pairs: list[Pair], threshold: float, cut: list[tuple[str, int]] = ()) -> str:
    parts = [f"<h2 id='similarity'>Similar submissions</h2><p class='dim'>Pairs sharing at least {threshold:.0%} "
             f"of one's own code (the stub's code left out), found by copydetect on tokenised code: variables "
             f"renamed or functions moved still match. A lead to look at, not a verdict.</p>"]
    if not pairs:
        parts.append("<p>No pair above the threshold.</p>")
    if cut:
        items = "".join(f"<li>{escape(student)}: {size:,} characters</li>" for student, size in cut)
        parts.append(f"<p class='bad' id='not-compared-whole'>Not compared whole: only the first {MAX_CHARACTERS:,} "
                     f"characters of these files were read (what follows may be a copy):</p><ul>{items}</ul>")
    for pair in pairs:
        parts.append(f"<h3>{pair.score:.0%}: {escape(pair.a)} ~ {escape(pair.b)} <span class='dim'>"
                     f"({pair.a_share:.0%} of {escape(pair.a)}'s own code, {pair.b_share:.0%} of "
                     f"{escape(pair.b)}'s)</span></h3>")
        for fragment in pair.fragments[:3]:
            left, right = pair.texts(fragment)
            parts.append(f"<div class='pair'><div><div class='dim'>{escape(pair.a)}, lines {fragment.a_lines[0]}–"
                         f"{fragment.a_lines[1]}</div><pre>{escape(left)}</pre></div><div><div class='dim'>"
                         f"{escape(pair.b)}, lines {fragment.b_lines[0]}–{fragment.b_lines[1]}</div>"
                         f"<pre>{escape(right)}</pre></div></div>")
    return "\n".join(parts)
