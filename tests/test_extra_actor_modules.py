"""RECOMMENDARR_EXTRA_ACTOR_MODULES: actors declared outside recommendarr.functions."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from recommendarr.runtime import import_extra_actor_modules
from recommendarr.settings import Settings

MODULES = ("site_actors_alpha", "site_actors_beta")


@pytest.fixture
def site_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in MODULES:
        (tmp_path / f"{name}.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in MODULES:
        sys.modules.pop(name, None)


def test_every_listed_module_is_imported(
    site_modules: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECOMMENDARR_EXTRA_ACTOR_MODULES", f" {MODULES[0]}, {MODULES[1]} ,")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.extra_actor_module_names == MODULES
    assert not set(MODULES) & sys.modules.keys()
    import_extra_actor_modules(settings)
    assert set(MODULES) <= sys.modules.keys()


def test_a_missing_module_stops_the_boot() -> None:
    settings = Settings(_env_file=None, extra_actor_modules="no_such_actor_module")  # type: ignore[call-arg]
    with pytest.raises(ModuleNotFoundError, match="no_such_actor_module"):
        import_extra_actor_modules(settings)
