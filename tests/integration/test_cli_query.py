"""The read and export commands through click's CliRunner, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from crawler.cli import cli
from storage.articles import ArticleIn, store_articles
from storage.db import make_engine, open_database
from storage.runs import finish_run, record_fetches, start_run

NOW = datetime.now(UTC).replace(microsecond=0)
FILLER = "council meeting budget schools roads parking library evening residents agreed plan " * 6
WIRE = "Ministers gathered in Geneva for summit talks on trade and tariffs. " + FILLER


def _item(source, slug, title, text, published_at, language="en") -> ArticleIn:
    url = f"https://{source}.example/{slug}"
    return ArticleIn(
        source=source, url=url, canonical_url=url, title=title, text=text, authors=("A",), published_at=published_at,
        modified_at=None, language=language, description=None, section=None, tags=(), image_url=None,
        word_count=len(text.split()), fetched_at=published_at or NOW,
    )  # fmt: skip


@pytest.fixture
def db(database_url) -> str:
    factory = open_database(database_url)
    with factory.begin() as session:
        store_articles(session, [
            _item("courier", "summit", "Summit opens in Geneva", WIRE, NOW - timedelta(days=2)),
            _item("ledger", "summit", "Trade talks: ministers meet", WIRE, NOW - timedelta(days=1)),
            _item("planet", "old", "Harbour [bold]news[/bold]", "Harbour ferries resume. " + FILLER,
                  NOW - timedelta(days=30), language="fr"),
        ])  # fmt: skip
        store_articles(session, [_item("planet", "old", "Harbour [bold]news[/bold]", "Harbour ferries halt. " + FILLER,
                                       NOW - timedelta(days=30), language="fr")])  # fmt: skip
        run_id = start_run(session, "courier")
        record_fetches(session, run_id, [
            {"url": "https://courier.example/summit", "status": 200, "bytes": 10, "outcome": "stored"},
            {"url": "https://courier.example/", "status": 200, "bytes": 10, "outcome": "not-an-article"},
            {"url": "https://courier.example/x", "status": 500, "bytes": 0, "outcome": "error"},
            {"url": "https://courier.example/y", "status": 200, "bytes": 10, "outcome": "stored"},
        ])  # fmt: skip
        finish_run(session, run_id, status="finished", counts={"stored": 2})
    factory.kw["bind"].dispose()
    return database_url


def run(db: str, *args: str) -> click.testing.Result:
    result = CliRunner().invoke(cli, ["--db", db, *args], terminal_width=160)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def ok(db: str, *args: str) -> str:
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    return result.output


def titles(db: str, *args: str) -> list[str]:
    return [row["title"] for row in json.loads(ok(db, "articles", "--format", "json", *args))]


def test_articles_filters(db):
    assert len(titles(db)) == 3
    assert titles(db, "--source", "ledger") == ["Trade talks: ministers meet"]
    assert titles(db, "--since", "7d") == ["Trade talks: ministers meet", "Summit opens in Geneva"]
    assert titles(db, "--until", "7d") == ["Harbour [bold]news[/bold]"]
    assert titles(db, "--lang", "fr") == ["Harbour [bold]news[/bold]"]
    assert titles(db, "--search", "geneva") == ["Summit opens in Geneva", "Trade talks: ministers meet"]
    assert titles(db, "--search", '"summit talks"', "--sort", "published") == [
        "Trade talks: ministers meet", "Summit opens in Geneva"]  # fmt: skip
    assert titles(db, "--search", "ferr*") == ["Harbour [bold]news[/bold]"]
    assert titles(db, "--url", "https://ledger.example/summit") == ["Trade talks: ministers meet"]
    assert titles(db, "--min-words", "1000") == []
    assert titles(db, "--unique") == ["Summit opens in Geneva", "Harbour [bold]news[/bold]"]
    assert titles(db, "--sort", "seen", "--limit", "1") == ["Trade talks: ministers meet"]
    cluster = json.loads(ok(db, "articles", "--format", "json", "--source", "ledger"))[0]["cluster_id"]
    assert len(titles(db, "--cluster", str(cluster))) == 2


def test_articles_formats(db):
    table = ok(db, "articles")
    assert "[bold]news[/bold]" in table  # titles are text, never rich markup
    assert "match" in ok(db, "articles", "--search", "ferries")
    lines = ok(db, "articles", "--format", "jsonl").splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["source"] == "ledger"
    rows = list(csv.DictReader(io.StringIO(ok(db, "articles", "--format", "csv"))))
    assert [r["source"] for r in rows] == ["ledger", "courier", "planet"]


def test_show_with_versions_diff_and_cluster_mates(db):
    text = ok(db, "show", "https://planet.example/old")
    assert "Harbour ferries halt." in text and "Versions" in text and "--diff 1 2" in text
    assert re.search(r"first_seen_at  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d UTC\n", text)  # the zone is said
    diff = ok(db, "show", "https://planet.example/old", "--diff", "1", "2")
    assert "-Harbour ferries resume." in diff and "+Harbour ferries halt." in diff
    assert run(db, "show", "https://planet.example/old", "--diff", "1", "9").exit_code == 2
    mates = ok(db, "show", "https://courier.example/summit")
    assert "Same story" in mates and "Trade talks: ministers meet" in mates
    data = json.loads(ok(db, "show", "https://courier.example/summit", "--format", "json"))
    assert data["cluster_mates"][0]["source"] == "ledger"
    assert run(db, "show", "424242").exit_code == 1


def test_clusters_shows_member_headlines_in_one_command(db):
    table = ok(db, "clusters", "--since", "7d")  # the table wraps long cells at 80 columns
    for expected in ("Summit opens", "Trade talks:", "ministers", "courier", "ledger"):
        assert expected in table
    data = json.loads(ok(db, "clusters", "--format", "json"))
    assert len(data) == 1 and data[0]["sources"] == ["courier", "ledger"]
    members = [json.loads(line) for line in ok(db, "clusters", "--format", "jsonl").splitlines()]
    assert [m["title"] for m in members] == ["Summit opens in Geneva", "Trade talks: ministers meet"]
    summary = list(csv.DictReader(io.StringIO(ok(db, "clusters", "--summary", "--format", "csv"))))
    assert summary[0]["size"] == "2"
    assert json.loads(ok(db, "clusters", "--since", "1h", "--format", "json")) == []
    shown = ok(db, "clusters", "show", str(data[0]["id"]))
    assert "Trade talks:" in shown and "2 articles from courier, ledger" in shown
    assert run(db, "clusters", "show", "999999").exit_code == 1


def test_stats_rates_and_days(db):
    data = json.loads(ok(db, "stats", "--format", "json"))
    courier = next(s for s in data["sources"] if s["source"] == "courier")
    assert (courier["fetches"], courier["error_rate"], courier["not_article_rate"]) == (4, 0.25, 0.25)
    assert courier["last_run_status"] == "finished"
    assert sum(n for _day, n in data["articles_per_day"]) == 3
    table = ok(db, "stats")
    assert "25.0%" in table and "articles per published day" in table
    ok(db, "runs")


def test_export_command(db, tmp_path):
    out = tmp_path / "corpus.out"
    ok(db, "export", "--format", "jsonl", "-o", str(out), "--source", "courier")
    assert [json.loads(line)["source"] for line in out.read_text().splitlines()] == ["courier"]
    refused = run(db, "export", "--format", "jsonl", "-o", str(out))
    assert refused.exit_code == 1 and "--force" in refused.output
    ok(db, "export", "--format", "csv", "-o", str(out), "--force")
    assert out.read_text().startswith("id,source,")
    pytest.importorskip("pyarrow")
    ok(db, "export", "--format", "parquet", "-o", str(tmp_path / "c.parquet"), "--search", "geneva")


def _schema(url: str) -> list:
    engine = make_engine(url)
    try:
        inspector = sa.inspect(engine)
        tables = sorted(inspector.get_table_names())
        with engine.connect() as conn:
            counts = [conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables]
        columns = [[c["name"] for c in inspector.get_columns(t)] for t in tables]
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                ddl = list(conn.execute(sa.text("SELECT type, name, sql FROM sqlite_master ORDER BY name")))
        else:
            ddl = [sorted(i["name"] for i in inspector.get_indexes(t)) for t in tables]
        return [tables, counts, columns, ddl]
    finally:
        engine.dispose()


HOSTILE = ["' OR 1=1 --", '" OR ""="', "'; DROP TABLE articles; --", "NEAR(a b) AND x:*", "title:*", "%", "\\",
           "\x00", "x" * (1024 * 1024), '"' * 5000, "a* " * 40]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:16]) + f"..{len(t)}")
def test_hostile_input_is_data_or_one_error_and_never_changes_the_database(db, text):
    before = _schema(db)
    for args in (["articles", "--search", text], ["articles", "--contains", text], ["articles", "--source", text],
                 ["show", text], ["articles", "--url", text, "--format", "csv"]):  # fmt: skip
        result = run(db, *args)
        assert result.exit_code in (0, 1, 2), result.output[-300:]
        if result.exit_code:
            assert result.output.count("Error:") == 1
    assert _schema(db) == before


def test_read_commands_never_create_a_database(tmp_path):
    path = tmp_path / "absent.db"
    for args in (["articles"], ["stats"], ["clusters"], ["show", "1"], ["runs"], ["reextract"],
                 ["export", "--format", "jsonl", "-o", str(tmp_path / "x.jsonl")]):  # fmt: skip
        result = run(f"sqlite:///{path}", *args)
        assert result.exit_code == 1 and f"no database at {path}" in result.output, (args, result.output)
        result = run(f"sqlite:///{tmp_path}", *args)  # a directory
        assert result.exit_code == 1 and f"{tmp_path} is a directory" in result.output, (args, result.output)
    assert not path.exists() and not (tmp_path / "x.jsonl").exists()


def test_read_commands_open_sqlite_read_only(sqlite_url, monkeypatch):
    open_database(sqlite_url).kw["bind"].dispose()
    from crawler.cli import read as cli_read

    ctx = click.Context(cli, obj=sqlite_url)
    sessions = cli_read.read_sessions_for(ctx)
    with sessions() as session, pytest.raises(sa.exc.OperationalError, match="readonly"):
        session.execute(sa.text("INSERT INTO sources (name) VALUES ('x')"))
    sessions.kw["bind"].dispose()


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")


def test_every_command_and_option_has_help_text():
    missing = []
    for name, command in _commands(cli):
        if not (command.help or "").strip():
            missing.append(name)
        for param in command.params:
            if isinstance(param, click.Option) and not param.help and param.name not in ("help", "fmt", "limit", "version"):
                missing.append(f"{name} {param.opts[0]}")
    from crawler.cli import read as cli_read

    read = {c.name for c in cli_read.READ_COMMANDS} | {"export"}
    assert read == {"articles", "show", "clusters", "stats", "runs", "export"}
    assert [m for m in missing if m.split()[0] in read] == []
