"""The class report and a student's report, opened in a real browser (headless Chromium, driven by Playwright).

Checks what a person would: the pages render without a console error, every
student's link opens their report, the students table sorts, and text from
students (ids, messages, printed output, code) shows as text: no markup of
theirs becomes an element, no script of theirs runs, no dialog opens.

Playwright drives the distribution's Chromium (``apt-get install chromium``,
/usr/bin/chromium: ``playwright install`` downloads nothing here).  Where it
is missing the tests are skipped, except in CI (``$CI``), where they fail.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from grader.instructor.gradebook import Gradebook
from grader.instructor.gradebook.exports import ExportOptions, export, student_folders
from tests.test_class_report import CLASS, cuda_student, failed, lab4, passed

CHROMIUM = os.environ.get("GRADE_CHROMIUM", "/usr/bin/chromium")
ARGUMENTS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run"]
HOSTILE = "<img src=x onerror=\"window.pwned=1;alert(1)\">"
SCRIPT = "<script>window.pwned=2;document.title='pwned'</script>"

pytestmark = pytest.mark.browser


def _missing() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return "" if shutil.which(CHROMIUM) else f"no Chromium at {CHROMIUM} (apt-get install chromium)"


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must open the reports in a browser: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGUMENTS)
        yield chromium
        chromium.close()


class Watched:
    """A page and what it said: console errors and warnings, uncaught errors, dialogs, requests."""

    def __init__(self, browser) -> None:
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.console: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda error: self.console.append(f"uncaught: {error}"))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.on("request", lambda request: self.requests.append(request.url))

    def quiet(self) -> None:
        assert self.console == [] and self.dialogs == []
        assert all(url.startswith(("file://", "data:")) for url in self.requests), self.requests
        assert self.page.evaluate("window.pwned") is None


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """A class with a hostile student: markup as their id, a script in their error message and output."""
    out = tmp_path_factory.mktemp("export")
    raised = {"type": "ValueError", "message": SCRIPT, "frames": [
        {"file": "pytorch_basics.py", "line": 7, "function": "to_unet_input", "code": f"raise ValueError('{SCRIPT}')"}]}
    hostile = lab4(HOSTILE, [failed("test_unet", "to_unet_input", 2, summary=f"to_unet_input: {SCRIPT}", error=raised,
                                    output=f"{SCRIPT}\n"),
                             failed("test_unet_2", "to_unet_input", 1, error=raised),
                             passed("test_device", "select_device", 3)])
    with Gradebook(out / "grades.db") as book:
        for student, result in {**CLASS, HOSTILE: hostile, "late_kid": cuda_student("late_kid", 3, "x.cuda()")}.items():
            book.record(student, "lab4", "h", "v", result, source=f"subs/{student}/pytorch_basics.py")
        book.record_failure("zoe", "lab4", "hz", "v", "timeout", f"took too long {SCRIPT}")
        export(book, out, options=ExportOptions(stubs={"lab4": ""}))
        folders = student_folders(book, "lab4")
    (out / "folders.txt").write_text("\n".join(f"{k}\t{v}" for k, v in folders.items()))
    return out


def folders_of(out: Path) -> dict[str, str]:
    return dict(line.split("\t") for line in (out / "folders.txt").read_text().splitlines())


def test_the_class_report_renders_quietly_and_student_text_stays_text(browser, exported):
    watched = Watched(browser)
    page = watched.page
    page.goto((exported / "report.html").as_uri())
    assert page.title() == "Lab 4 class report"
    for heading in ("Summary", "By function, in the lab's order", "Common mistakes, most common first",
                    "Checks, hardest first", "Students", "Similar submissions"):
        assert page.get_by_role("heading", name=heading).is_visible(), heading
    assert page.locator("svg").count() == 3
    assert page.locator("img").count() == 0 and page.locator("script").count() == 1
    body = page.locator("body").inner_text()
    assert HOSTILE in body and SCRIPT in body                   # shown as the characters they are
    assert "Torch not compiled with CUDA enabled" in body.split("Common mistakes")[1].split("\n")[1]
    skipped = page.locator("#skipped-checks").inner_text()
    assert "audio_to_tensor on a real GPU" in skipped
    assert "audio_to_tensor on a real GPU" not in page.locator("#checks-table").inner_text()
    watched.quiet()
    page.close()


def test_every_students_link_opens_their_report(browser, exported):
    watched = Watched(browser)
    page = watched.page
    page.goto((exported / "report.html").as_uri())
    links = page.locator("#students-table a")
    folders = folders_of(exported)
    assert links.count() == len(folders)
    for index in range(links.count()):
        page.goto((exported / "report.html").as_uri())
        link = page.locator("#students-table a").nth(index)
        student = link.inner_text()
        link.click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/students/{folders[student]}/report.html"), (student, page.url)
        text = page.locator("body").inner_text()
        assert "Lab 4 · PyTorch Essentials" in text or "not graded" in text, student
        assert student in page.title()
    watched.quiet()
    page.close()


def test_the_hostile_students_report_shows_their_text_as_text(browser, exported):
    watched = Watched(browser)
    page = watched.page
    page.goto((exported / "students" / folders_of(exported)[HOSTILE] / "report.html").as_uri())
    text = page.locator("body").inner_text()
    assert SCRIPT in text and "Score 3/" in text
    assert page.locator("img").count() == 0 and page.locator("script").count() == 0
    assert page.title() == f"{HOSTILE}: report"
    page.get_by_text("← class report").click()
    page.wait_for_load_state()
    assert page.url.endswith("/report.html") and page.title() == "Lab 4 class report"
    watched.quiet()
    page.close()


def test_the_students_table_sorts_by_a_column(browser, exported):
    watched = Watched(browser)
    page = watched.page
    page.goto((exported / "report.html").as_uri())

    def column(index: int) -> list[str]:
        return page.locator("#students-table tbody tr").evaluate_all(
            f"rows => rows.map(r => r.cells[{index}].getAttribute('data-sort'))")

    page.locator("#students-table th", has_text="score").click()
    scores = [float(v) for v in column(1)]
    assert scores == sorted(scores)
    page.locator("#students-table th", has_text="score").click()
    assert [float(v) for v in column(1)] == sorted(scores, reverse=True)
    page.locator("#students-table th", has_text="student").click()
    names = column(0)
    assert names == sorted(names, key=str.lower) or names == sorted(names)   # the browser's collation
    watched.quiet()
    page.close()


def test_a_students_report_holds_what_their_report_txt_says(browser, exported):
    """The HTML export is the same report as the text (one renderer): the same lines, in the same order."""
    watched = Watched(browser)
    page = watched.page
    folder = exported / "students" / folders_of(exported)["bob"]
    page.goto((folder / "report.html").as_uri())
    def lines(text: str) -> list[str]:   # the score bar's empty part is drawn in colour only
        return [line.rstrip().rstrip("━") if line.startswith("Score ") else line.rstrip()
                for line in text.splitlines() if line.strip()]

    shown = lines(page.locator("pre").first.inner_text())
    assert shown == lines((folder / "report.txt").read_text()) and len(shown) > 10
    watched.quiet()
    page.close()
