"""The domain package stays pure: no database, network or broker imports."""

from __future__ import annotations

import ast
from pathlib import Path

import recommendarr.shared.domain as domain

FORBIDDEN = (
    "psycopg",
    "psycopg_pool",
    "pgvector",
    "dramatiq",
    "redis",
    "httpx",
    "starlette",
    "uvicorn",
    "socket",
    "urllib",
    "requests",
    "recommendarr.shared.store",
    "recommendarr.shared.db",
    "recommendarr.broker",
    "recommendarr.functions",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_imports_nothing_impure() -> None:
    files = sorted(Path(domain.__file__).parent.glob("*.py"))
    assert len(files) > 3
    for path in files:
        for module in imported_modules(path):
            assert not any(module == f or module.startswith(f + ".") for f in FORBIDDEN), (
                f"{path.name} imports {module}"
            )


def test_one_actor_per_module_named_after_it() -> None:
    import dramatiq

    import recommendarr.functions as functions

    modules = [p.stem for p in Path(functions.__file__).parent.glob("*.py") if p.stem != "__init__"]
    broker = dramatiq.get_broker()
    for name in modules:
        actor = broker.get_actor(name)
        assert actor.fn.__module__ == f"recommendarr.functions.{name}"
        assert actor.options.get("max_retries") is not None and actor.options["max_retries"] <= 5
        assert actor.options.get("time_limit") and actor.options.get("throws")
