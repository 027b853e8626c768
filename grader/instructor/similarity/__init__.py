"""``grade similarity``: pairs of submissions whose code is alike beyond what the stub gives everyone.

- :mod:`~grader.instructor.similarity.model`: a pair, its score and its shared fragments, as data;
- :mod:`~grader.instructor.similarity.detect`: copydetect's winnowed fingerprints of tokenised code;
- :mod:`~grader.instructor.similarity.cli`: the command.
"""
