"""Several hosts on one storage: 3 "hosts" x 2 workers on a 200-point study, exactly once.

A host is a ``sensitivity run --workers 2`` process with its own identity (``SENSITIVITY_HOST``),
its own ``--results-dir`` (no shared lock file) and one shared ``--storage``: a journal file,
or a fresh PostgreSQL database (no schema yet, so the hosts also race to create it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from test_sensitivity_common import REPO, write_study

from sensitivity.results import load
from sensitivity.spec import load_spec
from sensitivity.storage import open_study

TESTS = Path(__file__).resolve().parent
N_POINTS = 200  # 10 learning rates x 4 scales x 5 seeds


def slow_train(*args, **kwargs):
    """``solver.train`` after a 60 s pause: the killed host's trials are surely running."""
    from solver.train import train

    time.sleep(60)
    return train(*args, **kwargs)


def _study(tmp: Path, grace: float) -> Path:
    """200 trials of a 4-layer width-5 network, 1 Adam iteration each (~25 ms)."""
    rates = str([round(0.001 * (i + 1), 4) for i in range(10)])
    return write_study(tmp, name="hosts", iterations=1, learning_rates=rates,
                       scales="[0.01, 0.1, 0.5, 1.0]", seeds=5, heartbeat=0.3,
                       grace=grace)  # fmt: skip


def _host(study: Path, tmp: Path, i: int, storage: str, **env: str) -> subprocess.Popen:
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(TESTS)]),
                   SENSITIVITY_HOST=f"host{i}", **env)  # fmt: skip
    cmd = [sys.executable, "-m", "sensitivity", "run", str(study), "--workers", "2", "--quiet",
           "--results-dir", str(tmp / f"host{i}"), "--storage", storage]  # fmt: skip
    return subprocess.Popen(cmd, cwd=tmp, env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip


def _finish(procs: list[subprocess.Popen], timeout: float = 240) -> None:
    for p in procs:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
        assert p.returncode == 0, (p.args, p.returncode, err[-3000:])
        assert "Traceback" not in err, err[-3000:]


def _check_exactly_once(study: Path, storage: str) -> tuple:
    res = load(load_spec(study), storage=storage)
    t = res.trials
    complete = t[t["state"] == "COMPLETE"]
    assert Counter(complete["design_index"].tolist()) == Counter(range(N_POINTS))  # once each
    assert not t["state"].isin(["RUNNING", "WAITING"]).any()
    assert res.duplicates == 0
    hosts = {str(w).split(":")[0] for w in complete["worker"]}
    return t, hosts


def _storages(tmp: Path, request: pytest.FixtureRequest, kind: str) -> str:
    if kind == "journal":
        return str(tmp / "shared" / "journal.log")
    return request.getfixturevalue("pg_url")


@pytest.mark.parametrize(
    "kind", ["journal", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_three_hosts_two_workers_fresh_storage_exactly_once(
    tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    storage = _storages(tmp_path, request, kind)
    study = _study(tmp_path, grace=30.0)  # nobody dies: no trial may be declared stale
    procs = [_host(study, tmp_path, i, storage) for i in range(3)]
    _finish(procs)
    t, hosts = _check_exactly_once(study, storage)
    assert len(t) == N_POINTS  # no duplicate runs, no spurious retries
    assert len(hosts) >= 2, hosts  # the hosts really shared the design
    for i in range(3):  # each host recorded its own run
        assert (tmp_path / f"host{i}" / "hosts" / "resolved.json").exists()


def _running_of(h, host: str) -> list[int]:
    out = []
    for t in h.trials():
        hb = t.user_attrs.get("heartbeat")
        if t.state.name == "RUNNING" and isinstance(hb, list) and str(hb[1]).startswith(host):
            out.append(t.number)
    return out


@pytest.mark.parametrize(
    "kind", ["journal", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_kill_9_one_host_its_trials_are_retried_by_the_others(
    tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    storage = _storages(tmp_path, request, kind)
    study = _study(tmp_path, grace=5.0)
    victim = _host(study, tmp_path, 0, storage,
                   SENSITIVITY_TRAIN="test_sensitivity_hosts:slow_train")  # fmt: skip
    others = [_host(study, tmp_path, i, storage) for i in (1, 2)]
    spec = load_spec(study)
    end = time.monotonic() + 120
    h = None
    while time.monotonic() < end:
        if h is None:
            try:
                h = open_study(spec, url=storage, create=False)
            except Exception:  # noqa: BLE001 - not created yet
                time.sleep(0.2)
                continue
        if len(_running_of(h, "host0:")) == 2:
            break
        assert victim.poll() is None, victim.communicate()
        time.sleep(0.1)
    else:
        raise AssertionError("host0 never ran two trials")
    os.killpg(victim.pid, signal.SIGKILL)  # the host and both its workers
    victim.wait(timeout=30)
    lost = _running_of(h, "host0:")
    assert len(lost) == 2
    _finish(others)
    t, hosts = _check_exactly_once(study, storage)
    t = t.set_index("trial")
    for number in lost:  # failed as stale by another host, retried once, completed elsewhere
        assert t.loc[number, "state"] == "FAIL"
        assert "stale: no heartbeat from host0:" in t.loc[number, "reason"]
        retries = t[t["design_index"] == t.loc[number, "design_index"]]
        assert Counter(retries["state"]) == Counter({"FAIL": 1, "COMPLETE": 1})
        assert not str(retries[retries["state"] == "COMPLETE"]["worker"].iloc[0]).startswith(
            "host0:"
        )
    failed = t[t["state"] == "FAIL"]
    assert failed["reason"].str.startswith("stale: no heartbeat from").all()
    assert len(t) == N_POINTS + len(failed)  # one retry per failed trial, nothing else
    assert "host0" not in hosts
