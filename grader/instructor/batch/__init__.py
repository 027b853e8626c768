"""Batch grading: a whole class, in parallel, resumable, into a gradebook.

``layouts`` finds who handed in what; ``controller`` feeds the submissions
to a scheduler (``local`` grader processes, or ``dask`` on a cluster) and
writes each result to :mod:`grader.instructor.gradebook` as it arrives.
"""
