"""Rendering results for people: the report (terminal, text), root causes said once, the live
progress line.  Reads :mod:`grader.results` only: no worker, no torch.
"""
