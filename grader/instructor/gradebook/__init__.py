"""The class's grades on disk: a SQLite gradebook and what is exported from it."""

from grader.instructor.gradebook.store import Gradebook, SubmissionRow

# what ``grade export --format`` writes (grader/instructor/gradebook/exports.py; here so the command line
# knows them without importing the writers and their plotting libraries)
FORMATS = ("csv", "json", "reports", "junit", "html", "canvas", "grades")

__all__ = ["FORMATS", "Gradebook", "SubmissionRow"]
