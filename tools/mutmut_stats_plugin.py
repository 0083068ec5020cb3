"""A pytest plugin for `invoke mutants` (tools/mutants.py loads it with -p): lets the tests that
run pytest in a child process (the grader's, on a student copy) work under mutmut.

mutmut first runs the tests once with MUTANT_UNDER_TEST=stats, to record which tests call which
function; a child process inherits that value, and its trampolines then look for mutmut's
configuration in the child's own folder and fail. The parent keeps the value in mutmut's own
process state, so removing it from the environment during that run only spares the children
(which then run the code unmutated, as they should there). For each mutant the variable names
the mutant, and children inherit it: the mutant runs there too.
"""

import os


def pytest_configure(config):
    if os.environ.get("MUTANT_UNDER_TEST") == "stats":
        del os.environ["MUTANT_UNDER_TEST"]
