"""The benchmarks' pytest set-up: the `bench` fixture (check once, then time) and the machine
description saved with every run, from bench/fixtures.py."""

from bench.fixtures import (  # noqa: F401  (pytest finds fixtures and hooks by name here)
    baseline_server,
    bench,
    pytest_benchmark_update_json,
    pytest_benchmark_update_machine_info,
    thread_counts,
)
