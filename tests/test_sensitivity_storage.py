"""Storage integrity and opening: torn journal tails, a full disk, unreachable databases,
duplicate complete trials in older storages."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from test_sensitivity_common import REPO, cli, write_study

from sensitivity.journal import JournalFile, TornWriteWarning
from sensitivity.results import DuplicateTrialsWarning, load
from sensitivity.spec import load_spec
from sensitivity.storage import mask_url, open_study

TORN = b'{"op_code":6,"worker_id":"w","trial_id":3,"user_attr":{"heartbeat":[17'


def _records(journal: Path) -> list[dict]:
    return [json.loads(line) for line in journal.read_bytes().splitlines()]  # all must parse


def test_torn_tail_is_quarantined_on_open_and_the_study_resumes(tmp_path: Path) -> None:
    study = write_study(tmp_path)
    assert cli("run", str(study), "--quiet", "--max-trials", "2").returncode == 0
    journal = tmp_path / "results" / "tiny" / "journal.log"
    intact = journal.read_bytes()
    with open(journal, "ab") as fh:  # a record cut short: what a full disk or kill -9 leaves
        fh.write(TORN)
    with pytest.warns(TornWriteWarning, match=f"dropped {len(TORN)} bytes"):
        JournalFile(str(journal))
    assert journal.read_bytes() == intact  # truncated to the last complete record
    (backup,) = journal.parent.glob("journal.log.torn-*")
    assert backup.read_bytes() == TORN
    with open(journal, "ab") as fh:  # torn again: now the CLI meets it (one-line warning)
        fh.write(TORN)
    out = cli("run", str(study), "--quiet")
    assert out.returncode == 0, out.stderr
    assert f"sensitivity: warning: {journal}: dropped {len(TORN)} bytes" in out.stderr
    assert "Traceback" not in out.stderr
    _records(journal)
    t = load(tmp_path / "results" / "tiny").trials
    assert sorted(t[t["state"] == "COMPLETE"]["design_index"]) == list(range(6))


def test_a_torn_record_before_later_appends_is_repaired_by_the_writer(tmp_path: Path) -> None:
    """A process that opened the journal before the tear appends after repairing it."""
    journal = tmp_path / "j.log"
    backend = JournalFile(str(journal))
    backend.append_logs([{"op_code": 0, "worker_id": "a", "study_name": "s", "directions": [1]}])
    with open(journal, "ab") as fh:
        fh.write(TORN)
    with pytest.warns(TornWriteWarning):
        backend.append_logs([{"op_code": 1, "worker_id": "a", "study_id": 0}])
    assert [r["op_code"] for r in _records(journal)] == [0, 1]


def test_full_disk_fails_cleanly_and_keeps_what_was_stored(tmp_path: Path) -> None:
    study = write_study(tmp_path, iterations=15)
    assert cli("run", str(study), "--quiet", "--max-trials", "2").returncode == 0
    journal = tmp_path / "results" / "tiny" / "journal.log"
    before = journal.read_bytes()
    blocks = math.ceil(len(before) / 1024) + 1  # bash ulimit -f counts 1024-byte blocks
    out = subprocess.run(
        ["bash", "-c", f'ulimit -f {blocks}; exec "{sys.executable}" -m sensitivity run '
                       f'"{study}" --quiet'],
        cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 2, (out.returncode, out.stderr)  # a storage error: exit 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert "cannot append" in lines[0] and "File too large" in lines[0], lines[0]
    assert "every stored record is intact" in lines[0]
    after = journal.read_bytes()
    assert after.startswith(before) and after.endswith(b"\n")  # only whole records added
    _records(journal)
    assert not list(journal.parent.glob("journal.log.torn-*"))  # nothing torn was left behind
    out = cli("run", str(study), "--quiet")  # space again: the study resumes and completes
    assert out.returncode == 0, out.stderr
    t = load(tmp_path / "results" / "tiny").trials
    assert sorted(t[t["state"] == "COMPLETE"]["design_index"]) == list(range(6))


@pytest.mark.parametrize(
    ("url", "expect"),
    [
        ("postgresql+psycopg://alice:s3cret@127.0.0.1:9/study", "start the database server"),
        ("postgresql+psycopg2://alice:s3cret@127.0.0.1:9/study", "install the driver"),
        ("foo://alice:s3cret@host/x", "write an SQLAlchemy URL"),
        ("sqlite:////nonexistent-folder/x/study.db", "mkdir -p /nonexistent-folder/x"),
    ],
)
def test_unreachable_or_misconfigured_storage_is_one_line_exit_2(
    tmp_path: Path, url: str, expect: str
) -> None:
    out = cli("run", str(write_study(tmp_path)), "--storage", url, "--quiet")
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith("sensitivity: error: `--storage ") and "cannot be opened" in lines[0]
    assert "s3cret" not in lines[0] and expect in lines[0] and "Fix:" in lines[0], lines[0]
    if "alice" in url:
        assert "alice:***@" in lines[0]


def test_mask_url() -> None:
    assert mask_url("postgresql+psycopg://u:p@w@h:5/d") == "postgresql+psycopg://u:***@h:5/d"
    assert mask_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"


@pytest.mark.postgres
def test_missing_database_on_a_real_server_names_the_fix(tmp_path: Path, postgres_server) -> None:
    out = cli("run", str(write_study(tmp_path)), "--storage", postgres_server.url("nope"))
    assert out.returncode == 2, out.stderr
    assert 'database "nope" does not exist' in out.stderr and "createdb" in out.stderr


@pytest.mark.postgres
def test_many_processes_open_a_fresh_database_at_once(tmp_path: Path, pg_url: str) -> None:
    """Concurrent first opens: schema and study are created once, every opener succeeds."""
    import concurrent.futures

    study = write_study(tmp_path)
    code = (
        "from sensitivity.spec import load_spec; from sensitivity.storage import open_study; "
        f"h = open_study(load_spec({str(study)!r}), url={pg_url!r}); print(h.study_id)"
    )
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        runs = list(pool.map(lambda _: subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
            env=dict(os.environ, PYTHONPATH=str(REPO))),
            range(6)))  # fmt: skip
    assert all(r.returncode == 0 for r in runs), [r.stderr[-2000:] for r in runs]
    assert len({r.stdout.strip() for r in runs}) == 1  # one study
    assert len(optuna.get_all_study_names(pg_url)) == 1


def test_duplicate_complete_trials_of_older_storages_count_once(tmp_path: Path) -> None:
    study = write_study(tmp_path)
    assert cli("run", str(study), "--quiet").returncode == 0
    h = open_study(load_spec(study), create=False)
    first = {t.user_attrs["design_index"]: t for t in h.trials() if t.state.name == "COMPLETE"}
    for idx in (0, 0, 3):  # what uncoordinated hosts left: the same point run again
        t = first[idx]
        h.study.add_trial(optuna.trial.create_trial(
            state=optuna.trial.TrialState.COMPLETE, value=1.0, params=t.params,
            distributions=t.distributions,
            user_attrs={**t.user_attrs, "record": {**t.user_attrs["record"], "val_acc": 1.0}},
        ))  # fmt: skip
    with pytest.warns(DuplicateTrialsWarning, match="3 duplicate complete trials"):
        res = load(tmp_path / "results" / "tiny")
    assert res.duplicates == 3
    counted = res.counted()
    assert sorted(counted["design_index"]) == list(range(6))  # one per point
    assert set(counted["trial"]) == {t.number for t in first.values()}  # the first complete
    assert (counted["val_acc"] < 1.0).all()
    assert set(res.curves["trial"]) <= set(counted["trial"])
    out = cli("export", str(tmp_path / "results" / "tiny"), "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert "3 duplicate complete trials" in out.stderr

