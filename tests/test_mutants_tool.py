"""tools/mutants.py's bookkeeping around mutmut: which mutants a run tests again."""

import json

from tools import mutants


def test_again_forgets_only_the_survivors_and_the_untested(tmp_path):
    meta = tmp_path / "mutants" / "reference" / "losses.py.meta"
    meta.parent.mkdir(parents=True)
    codes = {"killed": 1, "survived": 0, "no_tests": 33, "timeout": 36, "segfault": -11, "new": None}
    meta.write_text(json.dumps({"exit_code_by_key": codes, "hash_by_function_name": {"f": "1"}}))
    mutants.forget_survivors(tmp_path)
    data = json.loads(meta.read_text())
    assert data["exit_code_by_key"] == {"killed": 1, "survived": None, "no_tests": None,
                                        "timeout": 36, "segfault": -11, "new": None}
    assert data["hash_by_function_name"] == {"f": "1"}
