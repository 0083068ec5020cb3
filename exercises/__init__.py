"""Graded exercises for a student of the lecture: `invoke exercises --folder DIR` writes a copy of
`reference/` with the bodies of the functions a student should derive replaced by
`raise NotImplementedError` (docstrings kept), and `invoke grade --folder DIR` runs the project's
torch-pinned tests of each exercise against that copy.

    catalog.py        the exercises in the slides' order: function, slide, the tests that grade it
    student_copy.py   writes the student copy
    grade.py          runs the tests against a copy and prints one line per exercise
"""
