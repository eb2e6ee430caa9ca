"""``newsdesk serve``: the web view over the corpus (``crawler.web``), read-only, on loopback by default."""

from __future__ import annotations

import ipaddress
import socket

import click

from crawler.cli.errors import handle_user_errors
from crawler.cli.options import database_option
from storage.db import open_read_only

__all__ = ["is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@database_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port (0: any free one).")
@click.option("--allow-remote", is_flag=True, help="Allow listening on an address other machines can reach.")
@click.pass_context
@handle_user_errors
def serve(ctx: click.Context, host: str, port: int, allow_remote: bool) -> None:
    """Browse the corpus in a web browser: search, articles, clusters, sources and runs.

    The database is opened read-only and no page writes. Only loopback unless --allow-remote:
    the pages show everything the crawler stored, to anyone who can reach them.
    """
    if not is_loopback(host):
        if not allow_remote:
            raise click.UsageError(f"--host {host} is reachable from other machines: add --allow-remote to serve on it")
        click.echo(
            f"Warning: serving on {host}: anyone who can reach it can read the whole corpus (no login).", err=True
        )
    import uvicorn

    from crawler.cli.health import thresholds_from_settings
    from crawler.web.app import create_app

    app = create_app(open_read_only(ctx.find_root().obj), health_thresholds=thresholds_from_settings())
    listener = _listen(host, port)
    bound_host, bound_port = listener.getsockname()[:2]
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    click.echo(f"newsdesk serving {ctx.find_root().obj} on http://{shown_host}:{bound_port}/ (Ctrl-C stops)", err=True)
    config = uvicorn.Config(app, log_level="warning", server_header=False)
    try:
        uvicorn.Server(config).run(sockets=[listener])
    except KeyboardInterrupt:  # Ctrl-C is how a server is stopped, not a failure
        pass


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is printed: a port in use is a one-line error,
    not a "serving" line followed by uvicorn's, and --port 0 is shown as the port it got."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    listener.set_inheritable(True)
    return listener
