"""The course folder and its labs: where the course is, each lab read from its ``lab.toml``,
which grader this is (the instructor's or a student release), and the stub's functions in order.

Layers below use none of the grading machinery: a lab is data.
"""

from grader.course.folder import Course, CourseError, available_labs, find, find_lab
from grader.course.labs import Lab, LabError

__all__ = ["Course", "CourseError", "Lab", "LabError", "available_labs", "find", "find_lab"]
