"""Every bad input is one line naming the file/option, the value and the fix, exit code 2, and
nothing stored is lost (the journal of an existing study is byte-identical afterwards)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from pathlib import Path

import pytest
from test_sensitivity_common import write_study

from sensitivity.cli import main as sens_main
from solver.cli import main as solver_main


@pytest.fixture(scope="module")
def done_study(tmp_path_factory) -> Path:
    """A finished tiny study (6 trials) whose storage must survive every bad command."""
    tmp = tmp_path_factory.mktemp("bad")
    study = write_study(tmp, iterations=3)
    assert sens_main(["run", str(study), "--quiet"]) == 0
    return study


def _digest(study: Path) -> str:
    journal = study.parent / "results" / "tiny" / "journal.log"
    return hashlib.sha256(journal.read_bytes()).hexdigest()


def _variant(study: Path, tmp: Path, old: str, new: str, name: str = "tiny") -> Path:
    path = tmp / f"{name}.toml"
    text = study.read_text().replace(old, new)
    path.write_text(text.replace(f'results_dir = "{study.parent / "results"}"',
                                 f'results_dir = "{tmp / "results"}"'))  # fmt: skip
    return path


def _sens_case(case: str, study: Path, tmp: Path) -> tuple[list[str], str]:
    """(argv, text the one-line error must contain)."""
    a_file = tmp / "a_file"
    a_file.write_text("x")
    if case == "binary_toml":
        b = tmp / "binary.toml"
        b.write_bytes(bytes(range(256)) * 4)
        return ["run", str(b)], "not a text file"
    if case == "results_dir_is_a_file":
        return ["run", str(study), "--results-dir", str(a_file)], "is a file"
    if case == "storage_unknown_scheme":
        return ["run", str(study), "--storage", "foo://"], "`--storage foo://` cannot be opened"
    if case == "sqlite_in_missing_folder":
        url = f"sqlite:///{tmp}/missing/db.sqlite"
        return ["run", str(study), "--storage", url], "does not exist. Fix: create it"
    if case == "export_format_xml":
        return ["export", str(study), "--format", "xml"], "`--format xml`: unknown format 'xml'"
    if case == "export_out_is_a_file":
        return ["export", str(study), "--out", str(a_file)], "`--out"
    if case == "figures_out_is_a_file":
        return ["figures", str(study), "--out", str(a_file)], "`--out"
    if case == "unsafe_study_name":
        bad = _variant(study, tmp, 'name = "tiny"', 'name = ".."', name="dots")
        return ["run", str(bad)], "must be a safe folder name"
    if case == "huge_depth_in_study":
        bad = _variant(study, tmp, "n_layers = 4", "n_layers = 1000000000", name="deep")
        return ["run", str(bad)], "GiB"
    if case == "three_sample_data_set":
        bad = _variant(study, tmp, "n_train_per_class = 20", "n_train_per_class = 1", name="few")
        return ["run", str(bad)], "training needs at least 2 per class"
    if case == "changed_spec_figures":
        bad = _variant(study, tmp, "n_layers = 4", "n_layers = 6")
        bad.write_text(bad.read_text().replace(str(tmp / "results"), str(study.parent / "results")))
        return ["figures", str(bad), "--out", str(tmp / "figs")], "made from a different design"
    if case == "changed_spec_export":
        bad = _variant(study, tmp, "n_layers = 4", "n_layers = 6")
        bad.write_text(bad.read_text().replace(str(tmp / "results"), str(study.parent / "results")))
        return ["export", str(bad), "--out", str(tmp / "exp")], "made from a different design"
    if case == "figures_without_finished_trials":
        fresh = _variant(study, tmp, "n_layers = 4", "n_layers = 4", name="fresh")
        assert sens_main(["queue", str(fresh)]) == 0
        return ["figures", str(fresh), "--out", str(tmp / "figs")], "has no finished trials"
    raise AssertionError(case)


SENS_CASES = [
    "binary_toml", "results_dir_is_a_file", "storage_unknown_scheme", "sqlite_in_missing_folder",
    "export_format_xml", "export_out_is_a_file", "figures_out_is_a_file", "unsafe_study_name",
    "huge_depth_in_study", "three_sample_data_set", "changed_spec_figures", "changed_spec_export",
    "figures_without_finished_trials",
]  # fmt: skip


@pytest.mark.parametrize("case", SENS_CASES)
def test_sensitivity_bad_input_is_one_line_exit_2(case, done_study, tmp_path, capsys) -> None:
    before = _digest(done_study)
    argv, expected = _sens_case(case, done_study, tmp_path)
    capsys.readouterr()
    code = sens_main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and expected in lines[0], err
    assert "Fix:" in lines[0] and "Traceback" not in err
    assert _digest(done_study) == before  # nothing stored lost or changed
    assert not (tmp_path / "results" / "..").resolve().joinpath("journal.log").exists()


@pytest.mark.parametrize(
    "argv, option",
    [
        (["run", "S", "--max-trials", "-1"], "--max-trials"),
        (["run", "S", "--workers", "0"], "--workers"),
        (["worker", "S", "--ranks-per-trial", "0"], "--ranks-per-trial"),
    ],
)
def test_sensitivity_bad_numbers_are_usage_errors(argv, option, done_study, capsys) -> None:
    argv = [str(done_study) if a == "S" else a for a in argv]
    with pytest.raises(SystemExit) as exc:
        sens_main(argv)
    assert exc.value.code == 2
    assert f"argument {option}: expected an integer" in capsys.readouterr().err


def test_read_only_results_folder(done_study, tmp_path, monkeypatch, capsys) -> None:
    """A results folder without write permission (simulated: tests may run as root)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if Path(p) == ro else real(p, m))
    assert sens_main(["run", str(done_study), "--results-dir", str(ro)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not writable" in err[0] and str(ro) in err[0]
    assert list(ro.iterdir()) == []


def test_permission_error_mid_way_is_one_line(done_study, monkeypatch, capsys) -> None:
    import sensitivity.figures as figures

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied", "figures/tiny/INDEX.md")

    monkeypatch.setattr(figures, "build_figures", denied)
    assert sens_main(["figures", str(done_study)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Permission denied: figures/tiny/INDEX.md" in err[0]


def test_unexpected_error_is_one_line_with_debug_hint(done_study, monkeypatch, capsys) -> None:
    import sensitivity.session as session

    def boom(*a, **k):
        raise RuntimeError("something internal")

    monkeypatch.setattr(session, "coverage", boom)
    assert sens_main(["status", str(done_study)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "RuntimeError: something internal" in err[0] and "--debug" in err[0]
    with pytest.raises(RuntimeError, match="something internal"):
        sens_main(["--debug", "status", str(done_study)])


def test_status_into_a_closed_pipe(done_study, monkeypatch) -> None:
    """``sensitivity status | head -1``: the reader leaves early; no BrokenPipeError."""

    class Closed(io.StringIO):
        def write(self, s):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            return os.open(os.devnull, os.O_WRONLY)

    monkeypatch.setattr("sys.stdout", Closed())
    assert sens_main(["status", str(done_study)]) == 0


def test_status_piped_to_head_subprocess(done_study) -> None:
    import subprocess
    import sys

    from test_sensitivity_common import REPO

    cmd = f"{sys.executable} -m sensitivity status {done_study} | head -1"
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60, cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))  # fmt: skip
    assert proc.stdout.startswith("study tiny")
    assert "BrokenPipe" not in proc.stderr and "Traceback" not in proc.stderr


# -- solver train ---------------------------------------------------------------------------
def _solver_case(case: str, tmp: Path) -> tuple[list[str], str]:
    out = ["--out", str(tmp / "out"), "--iterations", "2"]
    if case == "layers_200000":
        return ["train", "--layers", "200000", *out], "GiB"
    if case == "levels_exceed_layers":
        return ["train", "--levels", "3", "--layers", "2", *out], "`--levels 3`"
    if case == "three_samples":
        return ["train", "--data-option", "n_train_per_class=1", *out], "at least 2 per class"
    if case == "out_is_a_file":
        (tmp / "f").write_text("x")
        return ["train", "--out", str(tmp / "f"), "--iterations", "2"], "`--out"
    if case == "missing_data_file":
        return ["train", "--data", "arrays", "--data-option", f"path={tmp}/no.npz", *out], "no.npz"
    if case == "unknown_data_set":
        return ["train", "--data", "nope", *out], "'nope'"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    ["layers_200000", "levels_exceed_layers", "three_samples", "out_is_a_file",
     "missing_data_file", "unknown_data_set"],
)  # fmt: skip
def test_solver_bad_input_is_one_line_exit_2(case, tmp_path, capsys) -> None:
    argv, expected = _solver_case(case, tmp_path)
    assert solver_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0] and "Traceback" not in err[0], err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "flag, value",
    [("--layers", "1e9"), ("--print-every", "0"), ("--print-every", "-1"), ("--levels", "0"),
     ("--cf-fine", "abc"), ("--batch-size", "0"), ("--iterations", "-5")],
)  # fmt: skip
def test_solver_bad_numbers_are_usage_errors(flag, value, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        solver_main(["train", flag, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {flag}:" in err and value in err


def test_params_load_of_a_non_npz_file(tmp_path) -> None:
    from solver import Params
    from solver.errors import DataError

    bad = tmp_path / "x.npz"
    bad.write_text("hello")
    with pytest.raises(DataError, match="not an .npz archive written by Params.save") as exc:
        Params.load(bad)
    assert "allow_pickle" not in str(exc.value)


def test_solver_unexpected_error_is_one_line(monkeypatch, tmp_path, capsys) -> None:
    import solver.cli as cli

    def boom(*a, **k):
        raise RuntimeError("internal")

    monkeypatch.setattr(cli, "_train_and_save", boom)
    assert solver_main(["train", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "RuntimeError: internal" in err[0] and "--debug" in err[0]


def test_solver_help_examples_run(tmp_path) -> None:
    """Every serial example of ``python -m solver train --help`` parses and runs (shortened)."""
    import shlex

    from solver.cli import EXAMPLES

    lines = EXAMPLES.replace("\\\n", " ").splitlines()
    commands = [ln.split("#")[0] for ln in lines if ln.strip().startswith("python -m solver")]
    assert len(commands) >= 3
    for i, cmd in enumerate(commands):
        argv = shlex.split(cmd)[3:] + ["--iterations", "1", "--out", str(tmp_path / str(i))]
        assert solver_main(argv) == 0, cmd
        assert (tmp_path / str(i) / "history.csv").exists()
    shutil.rmtree(tmp_path)


def test_status_reasons_end_at_a_word() -> None:
    from sensitivity.cli import _short

    reason = "ConfigError: " + "word " * 60 + "tail"
    cut = _short(reason, 100)
    assert cut.endswith(" ...") and len(cut) <= 104
    assert cut[:-4].split()[-1] == "word"  # whole words only
    assert _short("short reason") == "short reason"


def test_worker_on_missing_study_leaves_nothing(tmp_path, capsys) -> None:
    study = write_study(tmp_path, name="ghost")
    assert sens_main(["worker", str(study)]) == 2
    assert "sensitivity queue" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_queue_verb_prepares_without_training(tmp_path, capsys) -> None:
    from sensitivity.results import load

    study = write_study(tmp_path, name="q")
    assert sens_main(["queue", str(study)]) == 0
    assert "6 trials waiting" in capsys.readouterr().err
    t = load(tmp_path / "results" / "q").trials
    assert len(t) == 6 and (t["state"] == "WAITING").all()
    assert sens_main(["worker", str(study), "--quiet"]) == 0
    assert (load(tmp_path / "results" / "q").trials["state"] == "COMPLETE").all()


def test_nested_message_says_final_level_and_total() -> None:
    from solver.cli import _iterations

    rows = [{"level": 0}] * 200 + [{"level": 1}] * 3 + [{"level": 2}] * 51
    assert _iterations(rows) == "51 iterations on the final level (254 in total over 3 levels)"
    assert _iterations([{"level": 0}] * 5) == "5 iterations"
