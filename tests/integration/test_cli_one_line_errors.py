"""Every bad value a user can give newsdesk is one line on stderr and a non-zero exit, never a traceback.

Each case here was a traceback (or a hang, or exit 0 with nothing stored) before: settings out of
range, spans and dates that overflow, integers past SQL's range, broken sources files.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from storage import runs as run_log
from storage.db import open_database, upgrade


def one_line_error(args: list[str], **invoke) -> str:
    """Runs newsdesk with ``args`` and returns its one stderr line, asserting that it failed cleanly."""
    result = CliRunner().invoke(cli, args, **invoke)
    assert result.exit_code not in (0, None), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def db(sqlite_url) -> str:
    upgrade(sqlite_url)
    return sqlite_url


# -- settings ---------------------------------------------------------------------------------

BAD_SETTINGS = [
    "CONCURRENT_REQUESTS_PER_DOMAIN=0",
    "CONCURRENT_REQUESTS=0",
    "DOWNLOAD_DELAY=inf",
    "DOWNLOAD_DELAY=-1",
    "NEWSDESK_FRONTIER_BATCH=0",
    "DOWNLOAD_TIMEOUT=nan",
    "DOWNLOAD_TIMEOUT=-1",
    "DOWNLOAD_MAXSIZE=-1",
    "LOG_LEVEL=BOGUS",
    "AUTOTHROTTLE_ENABLED=maybe",
    "NEWSDESK_RECRAWL_AFTER=soon",
]


@pytest.mark.parametrize("override", BAD_SETTINGS)
def test_a_bad_setting_on_the_command_line_names_it(db, override):
    name = override.partition("=")[0]
    line = one_line_error(["--db", db, "crawl", "--url", "http://127.0.0.1:9/", "-s", override])
    assert name in line


@pytest.mark.parametrize("override", ["DOWNLOAD_DELAY=inf", "CONCURRENT_REQUESTS_PER_DOMAIN=0"])
def test_a_bad_setting_for_the_scheduler_names_it(db, tmp_path, override):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "a"\nstart_urls = ["https://a.example/"]\nschedule = "0 * * * *"\n')
    line = one_line_error(["--db", db, "schedule", "--list", "--sources", str(sources), "-s", override])
    assert override.partition("=")[0] in line


@pytest.mark.parametrize(
    "setting", ["DOWNLOAD_DELAY = inf", "CONCURRENT_REQUESTS_PER_DOMAIN = 0", "DOWNLOAD_TIMEOUT = nan",
                "DOWNLOAD_MAXSIZE = -1", 'LOG_LEVEL = "BOGUS"'],
)  # fmt: skip
def test_a_bad_setting_in_sources_toml_names_it(db, tmp_path, setting):
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "a"\nstart_urls = ["https://a.example/"]\nsettings = {{ {setting} }}\n')
    line = one_line_error(["--db", db, "crawl", "a", "--sources", str(sources)])
    assert setting.split(" ")[0] in line


def test_a_misspelt_newsdesk_setting_is_refused_with_the_name_it_was_meant_to_be(db, tmp_path):
    """Passed on as given, a typo's setting was read by nothing and the crawl ran without it."""
    line = one_line_error(["--db", db, "crawl", "--url", "http://127.0.0.1:9/", "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESS=false"])
    assert line == "Error: unknown setting NEWSDESK_BLOCK_PRIVATE_ADDRESS: did you mean NEWSDESK_BLOCK_PRIVATE_ADDRESSES?"
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "a"\nstart_urls = ["https://a.example/"]\nschedule = "0 * * * *"\n')
    line = one_line_error(["--db", db, "schedule", "--list", "--sources", str(sources), "-s", "NEWSDESK_NOPE=1"])
    assert line == "Error: unknown setting NEWSDESK_NOPE (crawler/settings.py lists newsdesk's settings)"


def test_a_url_given_as_a_sources_name_points_at_url(db):
    line = one_line_error(["--db", db, "crawl", "https://a.example/"])
    assert line == "Error: https://a.example/ is a URL, not a source's name: crawl it with --url https://a.example/"


def test_good_settings_pass_unchanged():
    from crawler.settings_check import check_settings

    given = {"DOWNLOAD_DELAY": "0.5", "LOG_LEVEL": "info", "AUTOTHROTTLE_ENABLED": "false", "SOME_SCRAPY_THING": "x"}
    assert check_settings(given) == {
        "DOWNLOAD_DELAY": 0.5, "LOG_LEVEL": "INFO", "AUTOTHROTTLE_ENABLED": False, "SOME_SCRAPY_THING": "x"
    }  # fmt: skip


# -- spans, dates and integers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "since", ["²d", "٣d", "99999999d", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", "yesterday"]
)
def test_a_bad_since_is_one_line(db, since):
    assert "--since" in one_line_error(["--db", db, "articles", "--since", since])


def test_an_outcome_no_fetch_can_have_is_one_line_naming_those_that_can(database_url):
    upgrade(database_url)
    with open_database(database_url).begin() as session:
        run_id = run_log.start_run(session, "alpha")
    line = one_line_error(["--db", database_url, "runs", "show", str(run_id), "--outcome", "eror"])
    assert "'eror' is not one of" in line and "'error'" in line


@pytest.mark.parametrize("url", ["http://a b.example/x", "http://999.1.1.1/x", "http://x.example:99999/"])
def test_a_page_url_that_is_no_web_address_is_one_line_naming_the_option(tmp_path, url):
    page = tmp_path / "page.html"
    page.write_text("<html><body><article><h1>Budget</h1><p>The council approved it.</p></article></body></html>")
    line = one_line_error(["extract", "--url", url, str(page)])
    assert "--url" in line and url in line


def test_a_span_too_long_to_recrawl_after_is_one_line(db):
    assert "99999999999d" in one_line_error(
        ["--db", db, "crawl", "--url", "http://127.0.0.1:9/", "--recrawl-after", "99999999999d"]
    )


@pytest.mark.parametrize(
    "args",
    [
        ["articles", "--limit", str(2**63)],
        ["articles", "--cluster", str(2**63)],
        ["clusters", "--limit", str(2**64)],
        ["clusters", "show", str(2**63)],
        ["runs", "--limit", str(2**63)],
        ["runs", "show", str(2**63)],
        ["show", str(2**63)],
        ["show", "9" * 40],
        ["show", "²"],
        ["stats", "--days", "99999999"],
    ],
)
def test_an_integer_past_sql_range_is_one_line(database_url, args):
    upgrade(database_url)
    one_line_error(["--db", database_url, *args])


def test_a_source_name_the_database_cannot_hold_is_one_line(database_url):
    upgrade(database_url)
    line = one_line_error(["--db", database_url, "crawl", "--url", "http://127.0.0.1:9/", "--source", "s" * 201])
    assert "200" in line


# -- sources files ----------------------------------------------------------------------------------


SOURCE = '[[source]]\nname = "a"\nstart_urls = ["{url}"]\nschedule = "0 * * * *"\n{extra}\n'


@pytest.mark.parametrize(
    "url, extra",
    [
        ("http://[::1/", ""),
        ("http://a.example:99999/", ""),
        ("https://a.example/", "since = 0001-01-01T00:00:00+01:00"),
        ("https://a.example/", 'recrawl_after = "99999999999d"'),
        ("https://a.example/", 'timeout = "99999999999d"'),
    ],
)
@pytest.mark.parametrize("command", ["schedule", "crawl"])
def test_a_broken_sources_file_is_one_line(db, tmp_path, url, extra, command):
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCE.format(url=url, extra=extra))
    args = ["schedule", "--list"] if command == "schedule" else ["crawl", "a"]
    one_line_error(["--db", db, *args, "--sources", str(sources)])


def test_a_latin1_sources_file_is_one_line(db, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_bytes(SOURCE.format(url="https://a.example/café", extra="").encode("latin-1"))
    assert "UTF-8" in one_line_error(["--db", db, "schedule", "--list", "--sources", str(sources)])


def test_a_sources_file_with_a_bom_is_read(db, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_bytes(b"\xef\xbb\xbf" + SOURCE.format(url="https://a.example/", extra="").encode())
    result = CliRunner().invoke(cli, ["--db", db, "schedule", "--list", "--sources", str(sources)])
    assert result.exit_code == 0, result.output


# -- the process ----------------------------------------------------------------------------------


def test_stdout_on_a_full_device_is_one_line(db):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "--db", db, "runs", "--format", "json"],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["Error: cannot write output: No space left on device"]


def test_ctrl_c_while_a_crawl_starts_is_one_line(db, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("crawler.runner.run_crawls", interrupted)
    result = CliRunner().invoke(cli, ["--db", db, "crawl", "--url", "http://127.0.0.1:9/"])
    assert result.exit_code == 130
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[-1] == "interrupted"


def test_help_and_version_still_exit_zero():
    for args in (["--help"], ["--version"], ["articles", "--help"]):
        assert CliRunner().invoke(cli, args).exit_code == 0


def test_a_pipe_closed_early_is_not_an_error_message(db):
    """`newsdesk ... | head` closing the pipe is not reported as a failure to write."""
    env = {**os.environ, "COLUMNS": "200"}
    reader = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "--db", db, "--help"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    reader.stdout.close()
    _, stderr = reader.communicate(timeout=120)
    assert b"Traceback" not in stderr


# -- --db after the sub-command ---------------------------------------------------------------


def test_db_is_accepted_after_the_sub_command_and_wins(db, tmp_path):
    elsewhere = f"sqlite:///{tmp_path / 'missing.db'}"
    for args in (["articles", "--format", "jsonl"], ["runs"], ["stats"], ["clusters"], ["db", "current"]):
        result = CliRunner().invoke(cli, ["--db", elsewhere, *args, "--db", db])
        assert result.exit_code == 0, (args, result.output)
    assert not (tmp_path / "missing.db").exists()


def test_every_command_that_uses_a_database_takes_db():
    def commands(group, prefix=()):
        for name, command in group.commands.items():
            yield (*prefix, name), command
            if hasattr(command, "commands"):
                yield from commands(command, (*prefix, name))

    without = [
        " ".join(path)
        for path, command in commands(cli)
        if not any("--db" in param.opts for param in command.params) and path != ("db",)
    ]
    assert without == []


#: Arguments that let each command reach its database (a URL crawl to a port nothing listens on, an
#: empty WARC file).
COMMAND_ARGUMENTS = {
    ("crawl",): ["--url", "http://127.0.0.1:9/"], ("show",): ["1"], ("clusters", "show"): ["1"],
    ("runs", "show"): ["1"], ("export",): ["--format", "jsonl", "-o", "out.jsonl"],
    ("import-warc",): ["empty.warc.gz"], ("serve",): ["--port", "0"], ("extract",): ["page.html"],
}  # fmt: skip


@pytest.mark.parametrize("url", ["postgresql+nosuchdriver://x/y", "nosuchdialect://x", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"])
def test_a_bad_database_url_is_one_line_on_every_command(url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSDESK_SOURCES", str(tmp_path / "sources.toml"))
    (tmp_path / "sources.toml").write_text('[[source]]\nname = "planet"\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "0 * * * *"\n')

    def commands(group, prefix=()):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from commands(command, (*prefix, name))
            if any("--db" in param.opts for param in command.params):
                yield (*prefix, name)

    (tmp_path / "empty.warc.gz").write_bytes(b"")
    checked = 0
    for path in commands(cli):
        line = one_line_error([*path, *COMMAND_ARGUMENTS.get(path, []), "--db", url])
        assert line.startswith("Error: ") and ("no driver" in line or "cannot connect" in line), (path, line)
        checked += 1
    assert checked >= 15


def test_sigterm_to_a_command_without_its_own_handling_ends_it_as_ctrl_c_does():
    """``kill PID`` of an export or reextract: its cleanup runs and it says "interrupted" (130),
    instead of dying mid-write without a word."""
    import signal

    code = (
        "import time\n"
        "from crawler.cli import cli\n"
        "@cli.command('wait-here')\n"
        "def wait_here():\n"
        "    try:\n"
        "        print('ready', flush=True)\n"
        "        time.sleep(120)\n"
        "    finally:\n"
        "        print('cleaned up', flush=True)\n"
        "cli.main(['wait-here'], prog_name='newsdesk')\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert stdout.strip() == "cleaned up" and stderr.strip() == "interrupted"
