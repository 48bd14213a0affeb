"""`recommendarr demo --once`: the main job on the embedded default, end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def run_demo(data_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "recommendarr.cli",
            "demo",
            "--once",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def picks_by_user(output: str) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        header = re.match(r"^(\w+): top (\d+) of \d+ unseen titles$", line)
        if header:
            current = header.group(1)
            users[current] = []
        elif current and re.match(r"^\s+\d+\. ", line):
            users[current].append(line.split(". ", 1)[1].split("  score")[0])
    return users


def test_three_users_get_different_explained_picks(tmp_path: Path) -> None:
    output = run_demo(tmp_path / "demo")
    users = picks_by_user(output)
    assert set(users) == {"Maya", "Sam", "Lee"}
    assert all(len(picks) == 10 for picks in users.values())
    maya, sam, lee = (set(users[n]) for n in ("Maya", "Sam", "Lee"))
    assert not maya & sam and not sam & lee
    explanations = [line.strip() for line in output.splitlines() if line.startswith("      ")]
    assert len(explanations) == 30
    assert all(
        e.startswith(("Because you", "Directed by", "With ", "Matches")) for e in explanations
    )

    # A second run replays the same webhooks: deduplicated, so the same picks come back.
    again = picks_by_user(run_demo(tmp_path / "demo"))
    assert again == users
