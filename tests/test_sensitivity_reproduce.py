"""The committed quickstart results are reproducible: re-running three of its trials (parameters
and seed from results/summaries/quickstart/trials.parquet) gives the stored values exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sensitivity.design import DesignPoint
from sensitivity.objective import run_trial
from sensitivity.spec import load_spec

REPO = Path(__file__).resolve().parents[1]
TRIALS = REPO / "results" / "summaries" / "quickstart" / "trials.parquet"
EXACT = ("value", "val_acc", "train_acc", "objective", "loss", "grad_norm", "n_iterations",
         "n_layers_final", "n_params", "reached_target")  # fmt: skip


def _picks() -> pd.DataFrame:
    t = pd.read_parquet(TRIALS)
    t = t[t["counted"] & t["state"].eq("COMPLETE")].sort_values("design_index")
    first = t.groupby("strategy", sort=False).head(1)  # one trial per strategy
    last = t.tail(1)  # and the last design point (other learning rate and scale)
    return pd.concat([first, last]).drop_duplicates("trial")


@pytest.mark.parametrize("row", [r for _, r in _picks().iterrows()],
                         ids=lambda r: f"trial{r['trial']}")  # fmt: skip
def test_committed_quickstart_trial_reruns_exactly(row: pd.Series) -> None:
    spec = load_spec(REPO / "studies" / "quickstart.toml")
    params = {p.name: row[f"param_{p.name}"] for p in spec.params_for(row["strategy"])}
    point = DesignPoint(int(row["design_index"]), str(row["strategy"]), int(row["seed"]), params)
    out = run_trial(spec, point)
    for key in EXACT:
        got = out.value if key == "value" else out.record[key]
        assert got == row[key], (key, got, row[key])
