"""The ``newsdesk`` command: thin over ``storage`` queries and the crawl runner.

Commands parse options, call library functions and format rows. User errors are one clear line
and a non-zero exit. Scrapy is imported only inside the commands that crawl.
"""

from __future__ import annotations

import errno
import os
import sys

import click

from crawler.cli import archive, crawl, export, health, page, read, reextract, schedule, serve
from crawler.cli.errors import handle_user_errors
from crawler.cli.options import database_option
from storage.db import current_revision, head_revision, resolve_database_url, upgrade
from storage.processes import sigterm_as_ctrl_c

__all__ = ["NewsdeskGroup", "cli", "main"]


class NewsdeskGroup(click.Group):
    """The root group: every error a user can cause ends as one line on stderr, never a traceback.

    Click's own usage errors (a bad option value) are shown without the usage block, Ctrl-C at any
    point is "interrupted" with exit status 130, and so is SIGTERM (``kill``, a service manager) to
    a command that does not handle it itself, and output that cannot be written (stdout on a
    full disk or /dev/full) is one line and exit status 1.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            # Commands with their own handling (the crawl, schedule, serve) replace it while they run.
            with sigterm_as_ctrl_c():
                result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            sys.stdout.flush()
            code = result if isinstance(result, int) and not isinstance(result, bool) else 0
        except click.ClickException as exc:
            # One line: click writes the choices of a missing option over several.
            click.echo(f"Error: {' '.join(exc.format_message().split())}", err=True)
            code = exc.exit_code
        except (click.Abort, KeyboardInterrupt, EOFError):
            click.echo("interrupted", err=True)
            code = 130
        except OSError as exc:
            _silence_stdout()
            if exc.errno != errno.EPIPE:  # a closed pipe (`| head`) is no error to report
                where = f"cannot write {exc.filename}" if exc.filename else "cannot write output"
                click.echo(f"Error: {where}: {exc.strerror or exc}", err=True)
            code = 1
        sys.exit(code)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of unwritable output is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # CliRunner's stdout has no file descriptor
        pass


@click.group(cls=NewsdeskGroup)
@click.option(
    "--db",
    "database_url",
    envvar="NEWSDESK_DATABASE_URL",
    default=None,
    help="Database URL (env NEWSDESK_DATABASE_URL; default sqlite:///newsdesk.db).",
)
@click.version_option(package_name="newsdesk")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """newsdesk: news websites in, a clean deduplicated SQL corpus out."""
    ctx.obj = resolve_database_url(database_url)


# -- database ---------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Create and migrate the database."""


@db.command("upgrade")
@database_option
@click.option("--revision", default="head", show_default=True, help="Target Alembic revision.")
@click.pass_context
@handle_user_errors
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Bring the database schema up to date."""
    upgrade(ctx.obj, revision)
    click.echo(f"database at revision {current_revision(ctx.obj)}")


@db.command("current")
@database_option
@click.pass_context
@handle_user_errors
def db_current(ctx: click.Context) -> None:
    """Show the schema revision of the database and the newest one available."""
    click.echo(f"current: {current_revision(ctx.obj) or '(empty database)'}")
    click.echo(f"head:    {head_revision()}")


for command in (
    crawl.crawl, page.extract, crawl.demo, *read.READ_COMMANDS, export.export, schedule.schedule_command,
    health.health, serve.serve, archive.import_warc, reextract.reextract,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="newsdesk")
