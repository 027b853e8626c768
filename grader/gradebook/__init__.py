"""The class's grades on disk: a SQLite gradebook and what is exported from it."""

from grader.gradebook.store import Gradebook, SubmissionRow

__all__ = ["Gradebook", "SubmissionRow"]
