"""The instructor's tools: release (and recording, the public suite), Gradescope, ``grade check``,
batch grading, the gradebook and its exports, mutation testing.  A student release leaves this
folder out.
"""
