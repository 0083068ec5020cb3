"""The grading tests: `invoke grade` runs them against a student copy (exercises/grade.py)."""
