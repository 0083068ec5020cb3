"""A bounded memo of per-network workspaces, shared by both fast paths' train_step.

A train_step keeps what it prepared for a network (kernels.cpu: a checked PreparedStep with its
workspace; kernels.cuda: a device Workspace) under a key naming that network, so the next step
of the same network reuses it and two networks never share one. `get` is a plain dict lookup, the
fast path's only cost; `remember` adds under a lock and drops the oldest entry past `size`, so a
program that trains many networks holds at most `size` workspaces.
"""

import threading


class Memo(dict):
    """key -> value, at most `size` entries, the oldest dropped first."""

    __slots__ = ("size", "_lock")

    def __init__(self, size):
        super().__init__()
        self.size = size
        self._lock = threading.Lock()

    def remember(self, key, value):
        """memo[key] = value as the newest entry; the oldest go while there are more than size."""
        with self._lock:
            self.pop(key, None)
            self[key] = value
            while len(self) > self.size:
                del self[next(iter(self))]
        return value
