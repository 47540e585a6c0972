"""Outbound HTTP for nodes, guarded against SSRF: every connection goes to an address that was resolved
and checked a moment before (no DNS rebinding window), every redirect hop is checked again, and an
in-flight call is aborted as soon as the run is cancelled or its deadline passes.

Used by http_request, the agent's HTTP tools and model-provider calls (and later outbound webhooks).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

# httpx logs every request URL at INFO; URLs may carry credentials in their query, so keep it quiet.
logging.getLogger("httpx").setLevel(logging.WARNING)

MAX_REDIRECTS = 5
ALLOWLIST_HINT = "Add the host or its network to TRELLIS_HTTP_ALLOWLIST to allow an internal API."

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedURLError(Exception):
    """The URL may not be fetched: bad scheme, no host, or the host is (or resolves to) a non-public address."""


class UnresolvableHostError(BlockedURLError):
    """The host name does not resolve (possibly a transient DNS failure)."""


class ResponseTooLargeError(Exception):
    """The response body is bigger than the caller's cap."""


class RequestCancelledError(Exception):
    """The caller's cancel event was set while the request was in flight."""


class RequestDeadlineError(httpx.TimeoutException):
    """The whole exchange (connect, redirects, body) took longer than `timeout_s`."""

    def __init__(self, message: str):
        super().__init__(message)


# --- address policy ------------------------------------------------------------------------------


def _getaddrinfo(host: str, port: int) -> list[tuple]:
    # Module-level so tests can substitute a resolver (a hostname that resolves to a private address).
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def blocked_reason(ip: IPAddress) -> str | None:
    """Why this address may not be contacted, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        # Addresses that embed an IPv4 address are judged by the embedded one as well.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reason = blocked_reason(embedded)
            if reason:
                return f"{reason} (embedded in {ip})"
        if ip.is_site_local:
            return "site-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-public"
    return None


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class _Allowlist:
    hosts: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def allows_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == h or (h.startswith(".") and host.endswith(h)) for h in self.hosts)

    def allows_ip(self, ip: IPAddress) -> bool:
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            candidates.append(ip.ipv4_mapped)
        return any(c.version == n.version and c in n for c in candidates for n in self.networks)


def _allowlist() -> _Allowlist:
    hosts, networks = set(), []
    for entry in settings.HTTP_ALLOWLIST:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            hosts.add(entry.lower().rstrip("."))
    return _Allowlist(frozenset(hosts), tuple(networks))


def resolve_checked(host: str, port: int) -> list[IPAddress]:
    """Resolve `host` and return its addresses, refusing the host if any of them is not public."""
    host = host.strip("[]")
    allow = _allowlist()
    try:
        infos = _getaddrinfo(host, port)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"Could not resolve host {host!r}: {exc.strerror or exc}") from None
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise httpx.ConnectError(f"Host {host!r} has no addresses.")
    if allow.allows_host(host):
        return addresses
    for ip in addresses:
        reason = blocked_reason(ip)
        if reason and not allow.allows_ip(ip):
            shown = host if host == str(ip) else f"{host!r} ({ip})"
            raise BlockedURLError(f"Refusing to connect to {shown}: {reason} address. {ALLOWLIST_HINT}")
    return addresses


def check_url(url: str) -> None:
    """Raise BlockedURLError unless `url` is an http(s) URL whose host resolves only to allowed addresses."""
    try:
        parts = urlsplit(str(url))
        port = parts.port
    except ValueError as exc:
        raise BlockedURLError(f"Invalid URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise BlockedURLError(f"Only http and https URLs may be called, got {url!r}.")
    if not parts.hostname:
        raise BlockedURLError(f"The URL {url!r} has no host.")
    try:
        resolve_checked(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    except httpx.ConnectError as exc:
        raise UnresolvableHostError(str(exc)) from None


# --- transport that connects only to checked addresses ----------------------------------------------


class _Backend(httpcore.SyncBackend):
    """Resolves and checks at connect time, then connects to exactly that address.

    The hostname stays in the URL, so the Host header and TLS SNI / certificate checks use it unchanged."""

    def __init__(self, *, guard: bool):
        self.guard = guard
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.aborted = False

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore.NetworkStream:
        if self.aborted:
            raise httpcore.ConnectError("request aborted")
        if self.guard:
            try:
                addresses = [str(ip) for ip in resolve_checked(host, port)]
            except httpx.ConnectError as exc:  # DNS failure: let httpx attach the request as usual
                raise httpcore.ConnectError(str(exc)) from None
        else:
            addresses = [host]
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
                continue
            sock = stream.get_extra_info("socket")
            with self._lock:
                self._sockets.append(sock)
                if self.aborted:
                    _shutdown(sock)
            return stream
        raise last_error or httpcore.ConnectError(f"could not connect to {host}")

    def abort(self) -> None:
        """Interrupt any blocking read or write on this backend's sockets (called from another thread)."""
        with self._lock:
            self.aborted = True
            for sock in self._sockets:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


_ssl_lock = threading.Lock()
_ssl_context_cache: list = []


def _ssl_context():
    # Building one loads the CA bundle (~60 ms); a context is safe to share between connections and threads.
    with _ssl_lock:
        if not _ssl_context_cache:
            _ssl_context_cache.append(httpx.create_ssl_context())
        return _ssl_context_cache[0]


class _Transport(httpx.HTTPTransport):
    def __init__(self, backend: _Backend):
        # No super().__init__(): it would build a second SSL context and a pool we would throw away.
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=10,
            max_keepalive_connections=5,
            keepalive_expiry=5.0,
            network_backend=backend,
        )


class _Watchdog:
    """Aborts the backend's sockets when the cancel event is set or the overall deadline passes."""

    def __init__(self, backend: _Backend, cancel_event: threading.Event | None, deadline: float | None):
        self.backend = backend
        self.cancel_event = cancel_event
        self.deadline = deadline
        self.reason: str | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Watchdog:
        if self.cancel_event is not None or self.deadline is not None:
            self._thread = threading.Thread(target=self._watch, name="net-watchdog", daemon=True)
            self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            if self.cancel_event is not None and self.cancel_event.is_set():
                self.reason = "cancelled"
            elif self.deadline is not None and time.monotonic() > self.deadline:
                self.reason = "deadline"
            else:
                continue
            self.backend.abort()
            return

    def raise_if_fired(self) -> None:
        if self.reason == "cancelled" or (self.cancel_event is not None and self.cancel_event.is_set()):
            raise RequestCancelledError("The request was cancelled.")
        if self.reason == "deadline" or (self.deadline is not None and time.monotonic() > self.deadline):
            raise RequestDeadlineError("The request took longer than its timeout.")

    def __exit__(self, *exc: Any) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=1)


class guarded_client:  # noqa: N801 - used like a function: `with guarded_client(...) as client`
    """An httpx.Client whose connections obey the SSRF policy (when `guard`) and die on cancel/deadline.

    The openai SDK is handed one of these so that model calls are interruptible too."""

    def __init__(
        self,
        *,
        timeout_s: float,
        cancel_event: threading.Event | None = None,
        guard: bool = True,
        follow_redirects: bool = False,
    ):
        self.backend = _Backend(guard=guard)
        self.client = httpx.Client(
            transport=_Transport(self.backend),
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=follow_redirects,
            trust_env=False,
        )
        self.watchdog = _Watchdog(self.backend, cancel_event, time.monotonic() + timeout_s)

    def __enter__(self) -> httpx.Client:
        self.watchdog.__enter__()
        return self.client

    def __exit__(self, *exc: Any) -> None:
        self.watchdog.__exit__(*exc)
        self.client.close()

    def raise_if_fired(self) -> None:
        self.watchdog.raise_if_fired()


# --- the same guard for asyncio (executors on the I/O loop, runs/engine/io.py) -----------------------


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    """`_Backend` for asyncio: resolves and checks (in a thread: getaddrinfo blocks), then connects to exactly
    that address. Cancel and deadline need no watchdog here: cancelling the task closes the connection."""

    def __init__(self, *, guard: bool):
        self.guard = guard
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self.guard:
            try:
                addresses = [str(ip) for ip in await asyncio.to_thread(resolve_checked, host, port)]
            except httpx.ConnectError as exc:
                raise httpcore.ConnectError(str(exc)) from None
        else:
            addresses = [host]
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"could not connect to {host}")

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _AsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: _AsyncBackend, max_connections: int):
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            network_backend=backend,
        )


def async_guarded_client(
    *, timeout_s: float, guard: bool = True, follow_redirects: bool = False, max_connections: int = 10
) -> httpx.AsyncClient:
    """An httpx.AsyncClient whose connections obey the SSRF policy (when `guard`). Close it when done."""
    return httpx.AsyncClient(
        transport=_AsyncTransport(_AsyncBackend(guard=guard), max_connections),
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=follow_redirects,
        trust_env=False,
    )


async def guarded_request_async(
    method: str,
    url: str,
    *,
    headers: dict | None = None,
    params: dict | None = None,
    content: bytes | str | None = None,
    json: Any = None,
    timeout_s: float,
    max_bytes: int,
    guard: bool = True,
    max_redirects: int = MAX_REDIRECTS,
) -> GuardedResponse:
    """`guarded_request` on asyncio. Raises the same errors, and RequestDeadlineError past `timeout_s` (the
    whole exchange); cancelling the calling task ends the request."""
    if params:
        url = str(httpx.URL(url).copy_merge_params(params))
    redirects: list[str] = []
    try:
        async with asyncio.timeout(timeout_s):
            if guard:
                await _check_url_async(url, "")
            async with async_guarded_client(timeout_s=timeout_s, guard=guard) as client:
                request = client.build_request(method, url, headers=headers, content=content, json=json)
                while True:
                    response = await client.send(request, stream=True)
                    try:
                        next_request = response.next_request
                        if next_request is None:
                            body = await _read_capped_async(response, max_bytes)
                            return GuardedResponse(
                                status_code=response.status_code,
                                headers=response.headers,
                                content=body,
                                url=str(response.url),
                                encoding=response.encoding or "utf-8",
                                redirects=redirects,
                            )
                    finally:
                        await response.aclose()
                    if len(redirects) >= max_redirects:
                        raise httpx.TooManyRedirects(f"More than {max_redirects} redirects.", request=request)
                    redirects.append(str(next_request.url))
                    if guard:
                        await _check_url_async(str(next_request.url), f"Redirect to {next_request.url}")
                    request = next_request
    except TimeoutError:
        raise RequestDeadlineError("The request took longer than its timeout.") from None


async def _check_url_async(url: str, context: str) -> None:
    try:
        await asyncio.to_thread(check_url, url)
    except UnresolvableHostError as exc:
        raise httpx.ConnectError(f"{context}: {exc}" if context else str(exc)) from None
    except BlockedURLError as exc:
        if context:
            raise BlockedURLError(f"{context} refused. {exc}") from None
        raise


async def _read_capped_async(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLargeError(f"The response is {int(declared)} bytes; the limit is {max_bytes} bytes.")
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise ResponseTooLargeError(f"The response is larger than the limit of {max_bytes} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


# --- one request, fully read, with a size cap -------------------------------------------------------


@dataclass
class GuardedResponse:
    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str
    encoding: str = "utf-8"
    redirects: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding or "utf-8", errors="replace")

    def json(self) -> Any:
        import json as _json

        return _json.loads(self.content)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


def guarded_request(
    method: str,
    url: str,
    *,
    headers: dict | None = None,
    params: dict | None = None,
    content: bytes | str | None = None,
    json: Any = None,
    timeout_s: float,
    max_bytes: int,
    cancel_event: threading.Event | None = None,
    guard: bool = True,
    max_redirects: int = MAX_REDIRECTS,
) -> GuardedResponse:
    """Send one request (following up to `max_redirects` redirects, each re-checked) and read the body.

    Raises BlockedURLError, ResponseTooLargeError, RequestCancelledError, or httpx errors
    (httpx.TimeoutException, httpx.TransportError, httpx.TooManyRedirects)."""
    if params:
        # httpx would replace a query string already in the URL; merge instead.
        url = str(httpx.URL(url).copy_merge_params(params))
    if guard:
        try:
            check_url(url)
        except UnresolvableHostError as exc:
            raise httpx.ConnectError(str(exc)) from None
    gc = guarded_client(timeout_s=timeout_s, cancel_event=cancel_event, guard=guard)
    redirects: list[str] = []
    try:
        with gc as client:
            request = client.build_request(method, url, headers=headers, content=content, json=json)
            while True:
                response = client.send(request, stream=True)
                try:
                    next_request = response.next_request
                    if next_request is None:
                        body = _read_capped(response, max_bytes, gc)
                        return GuardedResponse(
                            status_code=response.status_code,
                            headers=response.headers,
                            content=body,
                            url=str(response.url),
                            encoding=response.encoding or "utf-8",
                            redirects=redirects,
                        )
                finally:
                    response.close()
                if len(redirects) >= max_redirects:
                    raise httpx.TooManyRedirects(f"More than {max_redirects} redirects.", request=request)
                redirects.append(str(next_request.url))
                if guard:
                    try:
                        check_url(str(next_request.url))
                    except UnresolvableHostError as exc:
                        raise httpx.ConnectError(f"Redirect to {next_request.url}: {exc}") from None
                    except BlockedURLError as exc:
                        raise BlockedURLError(f"Redirect to {next_request.url} refused. {exc}") from None
                request = next_request
    except (httpx.TransportError, httpcore.NetworkError) as exc:
        gc.raise_if_fired()
        raise exc


def _read_capped(response: httpx.Response, max_bytes: int, gc: guarded_client) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLargeError(f"The response is {int(declared)} bytes; the limit is {max_bytes} bytes.")
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise ResponseTooLargeError(f"The response is larger than the limit of {max_bytes} bytes.")
        chunks.append(chunk)
        gc.raise_if_fired()
    return b"".join(chunks)
