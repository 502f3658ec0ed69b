"""Storage under concurrency: 4 workers, a killed worker, SIGTERM; no lost or duplicate trial."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from test_sensitivity_common import REPO, write_study

from sensitivity.cli import main
from sensitivity.errors import StorageError
from sensitivity.results import load
from sensitivity.session import prepare
from sensitivity.spec import load_spec
from sensitivity.storage import open_study


def _exactly_one_complete_per_point(rdir: Path, total: int) -> None:
    t = load(rdir).trials
    complete = t[t["state"] == "COMPLETE"]
    assert sorted(complete["design_index"].tolist()) == list(range(total))  # none lost, no dup
    assert not t["state"].isin(["RUNNING", "WAITING"]).any()


def _worker(study: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "sensitivity", "worker", str(study), "--quiet"], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_running(study: Path, proc: subprocess.Popen, timeout: float = 60) -> int:
    """Number of the trial the worker claimed (RUNNING)."""
    h = open_study(load_spec(study), create=False)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        running = [t for t in h.trials() if t.state.name == "RUNNING"]
        if running:
            return running[0].number
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("worker never started a trial")


def test_four_concurrent_workers_on_default_storage(tmp_path: Path) -> None:
    # No worker dies here: a grace period far above any heartbeat delay on a loaded 2-core
    # machine (4 workers queue on the journal lock), so no live trial is failed as stale and
    # re-run, which would add trials that ``len(t) == 12`` rightly counts.
    study = write_study(tmp_path, iterations=1000, learning_rates="[0.001, 0.003, 0.01, 0.03]",
                        scales="[0.01, 0.1, 1.0]", heartbeat=0.5, grace=60.0)  # fmt: skip
    assert main(["run", str(study), "--workers", "4", "--quiet"]) == 0
    rdir = tmp_path / "results" / "tiny"
    _exactly_one_complete_per_point(rdir, 12)
    t = load(rdir).trials
    assert len(t) == 12  # no spurious extra trials
    assert t["worker"].nunique() >= 2  # several processes really shared the design


def test_resume_after_killed_worker(tmp_path: Path) -> None:
    study = write_study(tmp_path, iterations=2500, learning_rates="[0.001, 0.01]",
                        scales="[0.1]", heartbeat=0.2, grace=1.5)  # fmt: skip
    prepare(load_spec(study))
    proc = _worker(study)
    number = _wait_running(study, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    h = open_study(load_spec(study), create=False)
    assert h.trials()[number].state.name == "RUNNING"  # left behind by the dead worker
    assert main(["run", str(study), "--quiet"]) == 0  # waits out the grace period, re-runs
    rdir = tmp_path / "results" / "tiny"
    _exactly_one_complete_per_point(rdir, 2)
    t = load(rdir).trials.set_index("trial")
    assert t.loc[number, "state"] == "FAIL"
    assert "stale" in t.loc[number, "reason"]
    retry = t[t["design_index"] == t.loc[number, "design_index"]]
    assert Counter(retry["state"]) == Counter({"FAIL": 1, "COMPLETE": 1})


def test_sigterm_fails_running_trial_as_retryable(tmp_path: Path) -> None:
    study = write_study(tmp_path, iterations=20000, learning_rates="[0.01]", scales="[0.1]")
    prepare(load_spec(study))
    proc = _worker(study)
    number = _wait_running(study, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, (proc.returncode, err)
    assert "Traceback" not in err
    h = open_study(load_spec(study), create=False)
    trials = h.trials()
    assert trials[number].state.name == "FAIL"
    assert "interrupted by SIGTERM (retryable)" in trials[number].user_attrs["reason"]
    waiting = [t for t in trials if t.state.name == "WAITING"]
    assert [t.user_attrs["design_index"] for t in waiting] == [0]
    assert waiting[0].user_attrs["retry_of"] == number


def _state(pid: str) -> str:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "gone"
    state = next((ln for ln in status.splitlines() if ln.startswith("State:")), "State: ?")
    wchan = Path(f"/proc/{pid}/wchan").read_text() if Path(f"/proc/{pid}/wchan").exists() else ""
    return f"{state.split(':', 1)[1].strip()} wchan={wchan}"


def _alive(pid: str) -> bool:
    """Running (a zombie waiting for its reaper has exited)."""
    s = _state(pid)
    return s != "gone" and not s.startswith("Z")


def test_kill_9_of_run_stops_its_workers_and_requeues(tmp_path: Path) -> None:
    """``kill -9`` of ``sensitivity run --workers 2``: the workers notice (parent-death signal,
    getppid polling), fail and re-queue their trials and exit; none keeps training."""
    study = write_study(tmp_path, iterations=100000, learning_rates="[0.001, 0.01]",
                        scales="[0.1]", heartbeat=0.2, grace=60.0)  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(REPO))
    log = open(tmp_path / "stderr.txt", "w")  # noqa: SIM115 - the workers inherit it
    run = subprocess.Popen(
        [sys.executable, "-m", "sensitivity", "run", str(study), "--workers", "2", "--quiet"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    try:
        end = time.monotonic() + 60
        h = None
        while time.monotonic() < end:
            if h is None:  # the journal file exists a moment before the study is written in it
                with contextlib.suppress(StorageError):
                    h = open_study(load_spec(study), create=False)
            if h is not None and len([t for t in h.trials() if t.state.name == "RUNNING"]) == 2:
                break
            assert run.poll() is None, (tmp_path / "stderr.txt").read_text()
            time.sleep(0.05)
        else:
            raise AssertionError("the workers never started their trials")
        children = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
        assert len(children) == 2
        run.kill()  # SIGKILL: no chance to forward anything
        run.wait(timeout=30)
        deadline = time.monotonic() + 60  # polled: each worker fails, re-queues (journal writes
        # under the file lock) and exits; seconds when idle, more on a loaded 2-core machine
        while time.monotonic() < deadline and any(_alive(c) for c in children):
            time.sleep(0.1)
        alive = [(c, _state(c)) for c in children if _alive(c)]
        assert not alive, ("orphaned workers", alive, (tmp_path / "stderr.txt").read_text())
    finally:
        if run.poll() is None:
            run.kill()
        log.close()
    trials = open_study(load_spec(study), create=False).trials()
    running = [t.number for t in trials if t.state.name == "RUNNING"]
    assert not running, (running, (tmp_path / "stderr.txt").read_text())
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert len(failed) == 2
    assert all("interrupted by SIGTERM (retryable)" in t.user_attrs["reason"] for t in failed)
    assert sorted(t.user_attrs["retry_of"] for t in trials if t.state.name == "WAITING") == sorted(
        t.number for t in failed
    )


def test_stale_reason_names_the_worker(tmp_path: Path) -> None:
    study = write_study(tmp_path, iterations=2500, learning_rates="[0.001]", scales="[0.1]",
                        heartbeat=5.0, grace=6.0)  # fmt: skip
    prepare(load_spec(study))
    proc = _worker(study)
    number = _wait_running(study, proc)
    h = open_study(load_spec(study), create=False)
    end = time.monotonic() + 30
    while "heartbeat" not in h.trials()[number].user_attrs and time.monotonic() < end:
        time.sleep(0.01)
    t = h.trials()[number]
    assert t.user_attrs["heartbeat"][0] - t.datetime_start.timestamp() < 2.5  # at the claim
    proc.kill()
    proc.wait(timeout=30)
    from sensitivity.storage import fail_stale

    h = open_study(load_spec(study), create=False)
    assert fail_stale(h, now=time.time() + 10) == [number]  # died before its second beat
    reason = h.trials()[number].user_attrs["reason"]
    assert f":{proc.pid} " in reason and "unknown worker" not in reason
