"""Start-up cost: lazy imports of the harness, and throttled progress counts."""

import subprocess
import sys

from test_sensitivity_common import REPO

from sensitivity.storage import CountsTicker


def test_import_sensitivity_loads_no_pandas_optuna_matplotlib():
    code = (
        "import sys, sensitivity, sensitivity.cli, sensitivity.spec; "
        "print(sorted(m for m in ('pandas', 'optuna', 'matplotlib', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    code = "import sys, sensitivity; sensitivity.load; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.stdout.strip() == "True"  # the lazy attribute still works


class _Handle:
    total = 4

    def __init__(self):
        self.reads = 0

    def trials(self):
        self.reads += 1
        return []


def test_counts_ticker_reports_at_most_once_per_interval():
    h, seen = _Handle(), []
    tick = CountsTicker(h, seen.append, interval=3600.0)
    tick(force=True)
    for _ in range(50):
        tick("point", "outcome")  # on_trial signature
    tick(force=True)
    assert h.reads == 2 and len(seen) == 2
    assert seen[0]["total"] == 4 and seen[0]["remaining"] == 4
    every = CountsTicker(h, seen.append, interval=0.0)
    every()
    every()
    assert h.reads == 4
    CountsTicker(h, None)(force=True)  # no callback: nothing read
    assert h.reads == 4
