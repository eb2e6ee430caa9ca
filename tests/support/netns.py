"""Machines of our own on this host: network namespaces joined by veth links to one bridge.

Each namespace has its own network stack and, run through ``unshare``, its own host name and
process ids (two machines' workers may well both be pid 2), so crawl processes started in two of
them reach the site and PostgreSQL as processes on two separate machines would: across a link,
from addresses of their own. Everything stays on addresses this
test makes (a private /24 on a bridge that has no route out), and is removed on exit.

PostgreSQL listens on 127.0.0.1 only; a small TCP relay on the bridge address carries the
namespaces' connections to it, so the server's configuration is left as it is.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
from collections.abc import Sequence

__all__ = ["Namespaces", "TcpRelay", "why_no_namespaces"]


def _ip(*args: str, namespace: str | None = None) -> None:
    command = ["ip", *args] if namespace is None else ["ip", "netns", "exec", namespace, "ip", *args]
    subprocess.run(command, check=True, capture_output=True, text=True)


def why_no_namespaces() -> str | None:
    """None when namespaces can be made here, else the reason (for ``pytest.skip``)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    probe = f"ndprobe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except subprocess.CalledProcessError as error:
        return f"ip netns add failed: {error.stderr.strip()}"
    _ip("netns", "del", probe)
    return None


class Namespaces:
    """``with Namespaces(2) as net:`` — ``net.gateway`` is the bridge's address (serve there);
    ``net.popen(k, hostname, argv)`` runs a command in namespace ``k`` as machine ``hostname``."""

    def __init__(self, count: int) -> None:
        tag = os.getpid() % 10_000
        self.bridge = f"ndbr{tag}"
        # A /24 of our own per test process, in 10.231.0.0/16, away from the machine's networks.
        self._prefix = f"10.231.{os.getpid() % 250 + 1}"
        self.gateway = f"{self._prefix}.1"
        self.names = [f"nd{tag}n{k}" for k in range(count)]
        self.addresses = [f"{self._prefix}.{k + 2}" for k in range(count)]
        self._veths = [f"nd{tag}v{k}" for k in range(count)]

    def __enter__(self) -> Namespaces:
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            for name, address, veth in zip(self.names, self.addresses, self._veths, strict=True):
                _ip("netns", "add", name)
                _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name)
                _ip("link", "set", veth, "master", self.bridge)
                _ip("link", "set", veth, "up")
                _ip("addr", "add", f"{address}/24", "dev", "eth0", namespace=name)
                _ip("link", "set", "eth0", "up", namespace=name)
                _ip("link", "set", "lo", "up", namespace=name)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for name, veth in zip(self.names, self._veths, strict=True):
            subprocess.run(["ip", "link", "del", veth], capture_output=True)
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)

    def popen(self, index: int, hostname: str, argv: Sequence[str], **kwargs) -> subprocess.Popen:
        """``argv`` in namespace ``index``, with ``hostname`` as its machine's name, as pid 1 of its own
        process ids (when it exits, whatever it left running there dies with it)."""
        wrapped = [
            "ip", "netns", "exec", self.names[index],
            "unshare", "--uts", "--pid", "--fork", "--mount-proc", "sh", "-c", 'hostname "$0" && exec "$@"', hostname, *argv,
        ]  # fmt: skip
        return subprocess.Popen(wrapped, **kwargs)


class TcpRelay:
    """Listens on ``host`` (a free port) and relays each connection to ``target``, in a thread."""

    def __init__(self, host: str, target: tuple[str, int]) -> None:
        self.host = host
        self.target = target
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tcp-relay", daemon=True)

    def __enter__(self) -> TcpRelay:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._relay, self.host, 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
