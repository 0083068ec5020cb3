"""Graded exercises for a student of the lecture: `invoke exercises --folder DIR` writes a copy of
`reference/` with the bodies of the functions a student should derive replaced by
`raise NotImplementedError` (their docstrings keep the equation to start from, not the result),
and `invoke grade --folder DIR` checks each against torch.autograd and says what is wrong.

    catalog.py        the exercises in the slides' order: function, slide, notebook, hint, grading tests
    student_copy.py   writes the student copy
    grade.py          runs the grading tests against a copy and prints one line per exercise
    grading/          the grading tests: the cases where mistakes show, one line per failure
    diagnose.py       that line: the quantity that differs, by how much, the likely mistake
    isolate.py        one exercise at a time: the project's versions stand in for the others
"""
