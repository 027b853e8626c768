"""Everything that runs inside the sandbox, beside the student's code: the worker, the warm
template it may be forked from (``zygote``), Landlock, the wire codec and the trusted probes.

The trust boundary is this folder: it is staged whole into each worker's private folder and
its files are loaded there by path (``python -I -S worker.py``), so they depend on the
standard library, numpy and torch only, never on the rest of the grader.  The grader side
imports ``wire`` (to decode replies) and ``probes`` (suites' simulated devices) from here.
"""
