"""Mutation score of a lab's suite: how many small bugs planted in the reference it catches.

A *mutant* is the reference solution with one small change (a ``<`` that
became ``<=``, a dropped ``axis=`` argument, a removed ``raise``...).  Each
mutant is graded by the lab's suite exactly like a student's file, against
the untouched reference; it is *killed* when it loses a point and *survives*
when it earns full marks.  A surviving mutant is either a check the suite
is missing or an *equivalent* mutant (one no correct-or-wrong distinction
the stub documents can see), recorded with its reason in
``grader/suites/labN/equivalent_mutants.toml``.

Mutations come from cosmic-ray's operators (parso trees, formatting kept),
plus three of ours that fit this course's code: dropping a keyword argument,
replacing a call by its first argument (or a method call by its receiver),
and removing a ``raise``.  See :mod:`grader.instructor.mutation.operators`.
"""
