"""tools/mutants.py's bookkeeping around mutmut: which mutants a run tests again."""

import json

from tools import mutants


def test_again_forgets_the_survivors_the_untested_and_who_calls_what(tmp_path):
    meta = tmp_path / "mutants" / "reference" / "losses.py.meta"
    meta.parent.mkdir(parents=True)
    codes = {"killed": 1, "survived": 0, "no_tests": 33, "timeout": 36, "segfault": -11, "new": None}
    meta.write_text(json.dumps({"exit_code_by_key": codes, "hash_by_function_name": {"f": "1"}}))
    stats = tmp_path / "mutants" / "mutmut-stats.json"
    stats.write_text("{}")
    mutants.forget_survivors(tmp_path)
    assert not stats.exists(), "the record of which tests call what must be taken again"
    data = json.loads(meta.read_text())
    assert data["exit_code_by_key"] == {"killed": 1, "survived": None, "no_tests": None,
                                        "timeout": 36, "segfault": -11, "new": None}
    assert data["hash_by_function_name"] == {"f": "1"}
