"""The operator's command line, against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dropbell.cli import app

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "worker", "migrate", "partner", "demo", "bench"):
        assert command in result.output


def test_migrate_then_partner_add_and_remove(db: str) -> None:
    result = runner.invoke(app, ["migrate", "--database-url", db])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["migrate", "--database-url", db])
    assert "up to date" in result.output
    result = runner.invoke(
        app, ["partner", "add", "nobody", "--shop-domain", "x.example", "--database-url", db]
    )
    assert result.exit_code == 1 and "No account named" in result.output

    result = runner.invoke(app, ["demo", "--database-url", db])
    assert result.exit_code == 0, result.output
    assert "shopper" in result.output and "dropbell-demo" in result.output
    result = runner.invoke(
        app,
        [
            "partner",
            "add",
            "shopper",
            "--shop-domain",
            "Shop.Example",
            "--shop-domain",
            "b.example",
            "--database-url",
            db,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "shop.example" in result.output and "b.example" in result.output
    result = runner.invoke(app, ["partner", "remove", "shopper", "--database-url", db])
    assert result.exit_code == 0 and "no longer" in result.output
    result = runner.invoke(
        app, ["partner", "add", "shopper", "--shop-domain", "https://x/", "--database-url", db]
    )
    assert result.exit_code == 1


def test_demo_can_run_twice(db: str) -> None:
    assert runner.invoke(app, ["demo", "--database-url", db]).exit_code == 0
    result = runner.invoke(app, ["demo", "--database-url", db])
    assert result.exit_code == 0, result.output
