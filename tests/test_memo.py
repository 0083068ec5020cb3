"""kernels/memo.py: the bounded memo both fast paths keep their per-network workspaces in."""

import threading

from kernels.memo import Memo


def test_it_keeps_the_newest_entries_up_to_its_size():
    memo = Memo(3)
    for key in "abcde":
        assert memo.remember(key, key.upper()) == key.upper()
    assert memo.size == 3 and list(memo.items()) == [("c", "C"), ("d", "D"), ("e", "E")]


def test_remembering_a_key_again_makes_it_the_newest():
    memo = Memo(3)
    for key in "abc":
        memo.remember(key, 1)
    memo.remember("a", 2)  # now the newest: "b" is the oldest and goes first
    memo.remember("d", 1)
    assert list(memo) == ["c", "a", "d"] and memo["a"] == 2


def test_threads_remembering_at_once_leave_it_within_its_size():
    memo = Memo(4)
    start = threading.Barrier(4)

    def fill(t):
        start.wait()
        for i in range(500):
            memo.remember((t, i), i)

    threads = [threading.Thread(target=fill, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(memo) == 4
    assert memo._lock.acquire(blocking=False)  # a lock, not left held
    memo._lock.release()
