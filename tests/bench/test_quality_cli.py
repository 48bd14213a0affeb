"""The quality benchmark end to end on a small synthetic data set with planted taste groups."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.quality import cli
from bench.quality.data import LEAKY_ITEM_COLUMNS

N_USERS = 40
N_ITEMS = 60
GROUPS = 4
ITEMS_PER_GROUP = N_ITEMS // GROUPS
MODELS = ("recommendarr", "most_popular", "itemknn", "ease", "als")
METRICS = ("ndcg@10", "recall@20", "hr@10", "coverage@10")


@dataclass(frozen=True)
class Dataset:
    ratings: Path
    items: Path


def write_planted_dataset(root: Path, seed: int = 7) -> Dataset:
    """Each user belongs to one of four equal taste groups and loves 12 of its
    15 titles; two disliked titles from other groups add noise.  The groups are
    the same size, so global popularity says nothing about a user's taste."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, int, float, int]] = []
    for user in range(N_USERS):
        group = user % GROUPS
        own = rng.choice(ITEMS_PER_GROUP, size=12, replace=False) + group * ITEMS_PER_GROUP + 1
        foreign = [i for i in range(1, N_ITEMS + 1) if (i - 1) // ITEMS_PER_GROUP != group]
        disliked = rng.choice(foreign, size=2, replace=False)
        times = 1_000_000 + rng.permutation(14) * 3_600
        for k, item in enumerate(own):
            rows.append((user + 1, int(item), float(rng.choice([4.0, 4.5, 5.0])), int(times[k])))
        for k, item in enumerate(disliked):
            rows.append((user + 1, int(item), float(rng.choice([1.0, 2.0])), int(times[12 + k])))
    ratings = root / "ratings.csv"
    with ratings.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        writer.writerows(rows)
    items = root / "items.csv"
    with items.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["movieId", "ml_title", "ml_genres", "director", *LEAKY_ITEM_COLUMNS, "top_cast"]
        )
        for movie_id in range(1, N_ITEMS + 1):
            group = (movie_id - 1) // ITEMS_PER_GROUP
            writer.writerow(
                [
                    movie_id,
                    f"Title {movie_id} ({1970 + 10 * group})",
                    f"Genre{group}|Drama",
                    f"Director {group}",
                    7.5,
                    1_000 * movie_id,  # vote_count would rank by id if it leaked
                    float(movie_id),
                    "",  # empty cells are normal
                ]
            )
    return Dataset(ratings=ratings, items=items)


def run(dataset: Dataset, out: Path, *options: str) -> int:
    argv = ["--ratings", str(dataset.ratings), "--items", str(dataset.items), "--out", str(out)]
    return cli.main([*argv, *options])


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return write_planted_dataset(tmp_path_factory.mktemp("planted"))


@pytest.fixture(scope="module")
def report(planted: Dataset, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("report") / "report.json"
    assert run(planted, out, "--no-tune") == 0
    loaded: dict[str, Any] = json.loads(out.read_text())
    return loaded


def test_report_has_the_documented_shape(report: dict[str, Any]) -> None:
    assert {"dataset", "protocol", "models"} <= set(report)
    assert set(report) == {"dataset", "protocol", "models", "comparison", "run"}
    assert list(report["models"]) == list(MODELS)
    for name, result in report["models"].items():
        assert set(result) == {*METRICS, "users", "cold", "params", "selection", "seconds"}, name
        for metric in METRICS:
            assert isinstance(result[metric], float), (name, metric)
            assert 0.0 <= result[metric] <= 1.0, (name, metric)
        assert {"ndcg@10", "users"} <= set(result["cold"])
        assert isinstance(result["cold"]["ndcg@10"], float)
        assert isinstance(result["params"], dict)
    assert report["run"]["tuned"] is False


def test_report_counts_are_consistent(report: dict[str, Any]) -> None:
    dataset = report["dataset"]
    assert dataset["ratings"] == N_USERS * 14
    assert dataset["users"] == N_USERS
    assert dataset["items_in_items_file"] == N_ITEMS
    assert dataset["train_ratings"] + dataset["test_ratings"] == dataset["ratings"]
    # 14 ratings each: ceil(14 / 5) = 3 held out per user.
    assert dataset["test_ratings"] == 3 * N_USERS
    assert len(dataset["cold_fold_sizes"]) == 5
    assert sum(dataset["cold_fold_sizes"]) == dataset["evaluated_users"]
    for result in report["models"].values():
        assert result["users"] == dataset["evaluated_users"]
        assert result["cold"]["users"] == dataset["evaluated_users"]
    assert report["protocol"]["excluded_item_columns"] == list(LEAKY_ITEM_COLUMNS)


def test_models_that_learn_taste_beat_popularity_on_planted_groups(
    report: dict[str, Any],
) -> None:
    models = report["models"]
    popular = models["most_popular"]
    for name in ("recommendarr", "ease"):
        assert models[name]["ndcg@10"] > popular["ndcg@10"] + 0.2, name
        assert models[name]["cold"]["ndcg@10"] > popular["cold"]["ndcg@10"] + 0.2, name
        assert models[name]["hr@10"] > popular["hr@10"], name
    diff = report["comparison"]["recommendarr_minus"]["most_popular"]["ndcg@10_diff"]
    assert diff["ci95"][0] > 0.0


def test_tuned_run_records_its_search_and_still_beats_popularity(
    planted: Dataset, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    assert run(planted, out, "--models", "recommendarr,ease,most_popular") == 0
    report = json.loads(out.read_text())

    assert list(report["models"]) == ["recommendarr", "most_popular", "ease"]
    assert report["run"]["tuned"] is True
    ease = report["models"]["ease"]
    assert ease["selection"]["trials"]
    assert ease["params"]["l2"] in cli.BASELINE_GRIDS["ease"]["l2"]
    assert report["models"]["recommendarr"]["selection"]["trials"]
    popular = report["models"]["most_popular"]["ndcg@10"]
    assert report["models"]["recommendarr"]["ndcg@10"] > popular + 0.2


def test_table_is_printed_with_one_row_per_model(
    planted: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nested" / "report.json"
    assert run(planted, out, "--no-tune", "--models", "ease,most_popular") == 0

    printed = capsys.readouterr().out
    assert out.exists()
    lines = printed.splitlines()
    assert lines[0].split()[:5] == ["model", "ndcg@10", "recall@20", "hr@10", "cov@10"]
    assert any(line.startswith("most_popular ") for line in lines)
    assert any(line.startswith("ease ") for line in lines)
    assert not any(line.startswith("als ") for line in lines)
    assert f"report: {out}" in printed


def test_runs_on_ratings_alone(planted: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    argv = ["--ratings", str(planted.ratings), "--out", str(out), "--no-tune"]
    assert cli.main([*argv, "--models", "recommendarr,most_popular"]) == 0
    dataset = json.loads(out.read_text())["dataset"]
    assert dataset["items_path"] is None
    assert dataset["content_features"] == 0


def test_a_missing_items_file_exits_2_with_a_clear_error(
    planted: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    missing = tmp_path / "no-such-items.csv"
    argv = ["--ratings", str(planted.ratings), "--items", str(missing), "--out", str(out)]

    assert cli.main(argv) == 2

    error = capsys.readouterr().err
    assert error.startswith("error:")
    assert str(missing) in error
    assert not out.exists()


def test_unknown_models_are_refused(planted: Dataset, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(planted, tmp_path / "report.json", "--models", "ease,svd")
    assert exit_info.value.code == 2


def test_recommendarr_bench_quality_help() -> None:
    entry_point = Path(sys.executable).with_name("recommendarr")
    result = subprocess.run(
        [str(entry_point), "bench", "quality", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--ratings", "--items", "--out", "--models", "--no-tune", "--seed"):
        assert option in result.stdout
