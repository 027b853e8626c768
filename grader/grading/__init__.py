"""Grading one submission: the run (:func:`grader.grading.run.grade`), the pytest plugin that
turns a suite into results, the grader's side of the worker (``session``), how the reference
is reached (``reference``: live, record, replay or memo; ``store``), and what becomes of an
exception (``outcomes``, ``hints``).
"""
