"""Outbound HTTP for nodes, guarded against SSRF: every connection goes to an address that was resolved
and checked a moment before (no DNS rebinding window), every redirect hop is checked again, and an
in-flight call is aborted as soon as the run is cancelled or its deadline passes.

Used by http_request, the agent's HTTP tools and model-provider calls (and later outbound webhooks).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpcore
import httpx
import httpx_aiohttp
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


def _pinned_addresses(host: str, port: int) -> list[str]:
    """The checked addresses to connect to. The hostname stays in the URL, so the Host header and TLS SNI /
    certificate checks use it unchanged, while the socket goes to an address that was just judged."""
    try:
        return [str(ip) for ip in resolve_checked(host, port)]
    except httpx.ConnectError as exc:  # DNS failure: let httpx attach the request as usual
        raise httpcore.ConnectError(str(exc)) from None


def _pool_options(backend, max_connections: int, max_keepalive: int) -> dict:
    # No transport super().__init__(): it would build a second SSL context and a pool we would throw away.
    return {
        "ssl_context": _ssl_context(),
        "max_connections": max_connections,
        "max_keepalive_connections": max_keepalive,
        "keepalive_expiry": 5.0,
        "network_backend": backend,
    }


class _Backend(httpcore.SyncBackend):
    """Connects only to `_pinned_addresses` (when `guard`), and can abort its sockets from another thread."""

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
        last_error: Exception | None = None
        for address in _pinned_addresses(host, port) if self.guard else [host]:
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
        self._pool = httpcore.ConnectionPool(**_pool_options(backend, 10, 5))


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


def _client_options(timeout_s: float, follow_redirects: bool) -> dict:
    # trust_env=False: a proxy from the environment would connect for us, around the pinned addresses.
    return {"timeout": httpx.Timeout(timeout_s), "follow_redirects": follow_redirects, "trust_env": False}


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
        self.client = httpx.Client(transport=_Transport(self.backend), **_client_options(timeout_s, follow_redirects))
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
    """`_Backend` for asyncio (resolving in a thread: getaddrinfo blocks). Cancel and deadline need no
    watchdog here: cancelling the task closes the connection."""

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
        addresses = await asyncio.to_thread(_pinned_addresses, host, port) if self.guard else [host]
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
        self._pool = httpcore.AsyncConnectionPool(**_pool_options(backend, max_connections, max_connections))


def async_guarded_client(
    *, timeout_s: float, guard: bool = True, follow_redirects: bool = False, max_connections: int = 10
) -> httpx.AsyncClient:
    """An httpx.AsyncClient whose connections obey the SSRF policy (when `guard`). Close it when done."""
    return httpx.AsyncClient(
        transport=_AsyncTransport(_AsyncBackend(guard=guard), max_connections),
        **_client_options(timeout_s, follow_redirects),
    )


# --- model calls: the same guard on aiohttp --------------------------------------------------------


class _GuardedResolver(aiohttp.abc.AbstractResolver):
    """aiohttp's resolver, through `_pinned_addresses` (in a thread: getaddrinfo blocks): the connector
    connects only to addresses just judged, and its DNS cache (10 s) keeps only those."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[dict]:
        addresses = await asyncio.to_thread(_pinned_addresses, host, port)
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [
            {"hostname": host, "host": a, "port": port, "family": _family(a), "proto": 0, "flags": flags}
            for a in addresses
        ]

    async def close(self) -> None:
        pass


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


class _AiohttpTransport(httpx_aiohttp.AiohttpTransport):
    """httpx-aiohttp's transport (the one `openai.DefaultAioHttpClient` uses) behind the SSRF guard. aiohttp
    never asks its resolver about an IP literal, so a literal host is judged here, per request (no DNS)."""

    def __init__(self, *, guard: bool, max_connections: int):
        def session() -> aiohttp.ClientSession:  # made on first use, on the loop that uses it
            connector = aiohttp.TCPConnector(
                limit=max_connections,
                keepalive_timeout=5.0,
                ssl=_ssl_context(),
                resolver=_GuardedResolver() if guard else None,
            )
            return aiohttp.ClientSession(connector=connector, trust_env=False)

        super().__init__(verify=_ssl_context(), trust_env=False, client=session)
        self.guard = guard

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if self.guard and _is_ip_literal(host):
            resolve_checked(host, request.url.port or (443 if request.url.scheme == "https" else 80))
        return await super().handle_async_request(request)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def model_http_client(*, timeout_s: float, guard: bool, max_connections: int) -> httpx.AsyncClient:
    """The HTTP client under an `openai.AsyncOpenAI` (runs/llm/adapters.py): httpx's interface on aiohttp, which
    spends about half the CPU per streamed call that httpx's own connection pool does (bench/bench_model_client.py).
    Same guard as `async_guarded_client`. Close it when done."""
    return httpx.AsyncClient(
        transport=_AiohttpTransport(guard=guard, max_connections=max_connections),
        **_client_options(timeout_s, False),
    )


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
        return json.loads(self.content)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


class _Exchange:
    """What the sync and async requests share, so that only their I/O differs: the URL with its params, the
    check of the first URL and of every redirect hop, the redirect count, and the body cap."""

    def __init__(self, url: str, params: dict | None, *, guard: bool, max_redirects: int, max_bytes: int):
        # httpx would replace a query string already in the URL; merge instead.
        self.url = str(httpx.URL(url).copy_merge_params(params)) if params else url
        self.guard = guard
        self.max_redirects = max_redirects
        self.max_bytes = max_bytes
        self.redirects: list[str] = []
        self.chunks: list[bytes] = []
        self.size = 0

    def check(self, url: str) -> None:
        """Judge the URL about to be requested (blocks on DNS): the first one, then each redirect target."""
        if not self.guard:
            return
        context = f"Redirect to {url}" if self.redirects else ""
        try:
            check_url(url)
        except UnresolvableHostError as exc:
            raise httpx.ConnectError(f"{context}: {exc}" if context else str(exc)) from None
        except BlockedURLError as exc:
            if context:
                raise BlockedURLError(f"{context} refused. {exc}") from None
            raise

    def follow(self, request: httpx.Request, next_request: httpx.Request) -> httpx.Request:
        if len(self.redirects) >= self.max_redirects:
            raise httpx.TooManyRedirects(f"More than {self.max_redirects} redirects.", request=request)
        self.redirects.append(str(next_request.url))
        return next_request

    def expect_body(self, response: httpx.Response) -> None:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise ResponseTooLargeError(f"The response is {int(declared)} bytes; the limit is {self.max_bytes} bytes.")

    def add_chunk(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise ResponseTooLargeError(f"The response is larger than the limit of {self.max_bytes} bytes.")
        self.chunks.append(chunk)

    def response(self, response: httpx.Response) -> GuardedResponse:
        return GuardedResponse(
            status_code=response.status_code,
            headers=response.headers,
            content=b"".join(self.chunks),
            url=str(response.url),
            encoding=response.encoding or "utf-8",
            redirects=self.redirects,
        )


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
    exchange = _Exchange(url, params, guard=guard, max_redirects=max_redirects, max_bytes=max_bytes)
    exchange.check(exchange.url)
    gc = guarded_client(timeout_s=timeout_s, cancel_event=cancel_event, guard=guard)
    try:
        with gc as client:
            request = client.build_request(method, exchange.url, headers=headers, content=content, json=json)
            while True:
                response = client.send(request, stream=True)
                try:
                    if response.next_request is None:
                        exchange.expect_body(response)
                        for chunk in response.iter_bytes():
                            exchange.add_chunk(chunk)
                            gc.raise_if_fired()
                        return exchange.response(response)
                finally:
                    response.close()
                request = exchange.follow(request, response.next_request)
                exchange.check(str(request.url))
    except (httpx.TransportError, httpcore.NetworkError) as exc:
        gc.raise_if_fired()
        raise exc


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
    exchange = _Exchange(url, params, guard=guard, max_redirects=max_redirects, max_bytes=max_bytes)
    try:
        async with asyncio.timeout(timeout_s):
            if guard:
                await asyncio.to_thread(exchange.check, exchange.url)
            async with async_guarded_client(timeout_s=timeout_s, guard=guard) as client:
                request = client.build_request(method, exchange.url, headers=headers, content=content, json=json)
                while True:
                    response = await client.send(request, stream=True)
                    try:
                        if response.next_request is None:
                            exchange.expect_body(response)
                            async for chunk in response.aiter_bytes():
                                exchange.add_chunk(chunk)
                            return exchange.response(response)
                    finally:
                        await response.aclose()
                    request = exchange.follow(request, response.next_request)
                    if guard:
                        await asyncio.to_thread(exchange.check, str(request.url))
    except TimeoutError:
        raise RequestDeadlineError("The request took longer than its timeout.") from None
