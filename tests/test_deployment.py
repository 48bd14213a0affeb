"""compose.yaml and the Dockerfile (no Docker engine here: parse and cross-check them)."""

from __future__ import annotations

from pathlib import Path

import yaml

from recommendarr.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict[str, dict[str, dict[str, object]]]:
    loaded: dict[str, dict[str, dict[str, object]]] = yaml.safe_load(
        (ROOT / "compose.yaml").read_text()
    )
    return loaded


def test_services_exist() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "serve", "worker", "clock"} <= set(services)
    assert "pgvector" in str(services["postgres"]["image"])
    assert any("/var/lib/postgresql" in str(v) for v in services["postgres"]["volumes"])  # type: ignore[attr-defined]


def test_app_commands_are_real_cli_commands() -> None:
    services = compose()["services"]
    parser = build_parser()
    for name in ("serve", "worker", "clock"):
        command = services[name]["command"]
        assert isinstance(command, list) and command[0] == "recommendarr"
        parsed = parser.parse_args(command[1:])
        assert parsed.command == name


def test_app_services_share_the_database_and_broker() -> None:
    services = compose()["services"]
    for name in ("serve", "worker", "clock"):
        environment = services[name]["environment"]
        assert isinstance(environment, dict)
        assert "postgres:5432" in environment["DATABASE_URL"]
        assert environment["REDIS_URL"].startswith("redis://redis:")
        assert services[name]["build"]["dockerfile"] == "infra/Dockerfile"  # type: ignore[index]
    assert services["clock"]["deploy"]["replicas"] == 1  # type: ignore[index]


def test_dockerfile_installs_the_package_and_schema() -> None:
    dockerfile = (ROOT / "infra" / "Dockerfile").read_text()
    assert (
        "schema.sql" in dockerfile and "pip install" in dockerfile and "recommendarr" in dockerfile
    )
    for path in ("pyproject.toml", "README.md", "schema.sql", "recommendarr"):
        assert (ROOT / path).exists()
