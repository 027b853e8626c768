"""The class's grades on disk: a SQLite gradebook and what is exported from it."""

from grader.instructor.gradebook.store import Gradebook, SubmissionRow

__all__ = ["Gradebook", "SubmissionRow"]
