"""The SSRF guard: every non-public range is refused (IPv4, IPv6, IPv4-mapped), hostnames are judged by
what they resolve to, the connection goes to the address that was checked, and redirects are re-checked."""

import asyncio
import socket
import threading

import httpx
import pytest

from trellis import net

BLOCKED = [
    ("127.0.0.1", "loopback"),
    ("127.10.20.30", "loopback"),
    ("[::1]", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("[fc00::1]", "private"),
    ("[fd12:3456::1]", "private"),
    ("169.254.169.254", "link-local"),
    ("[fe80::1]", "link-local"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("[ff02::1]", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("[::]", "unspecified"),
    ("100.64.0.1", "non-public"),
    ("192.0.2.10", "private"),
    ("[::ffff:127.0.0.1]", "loopback (embedded in ::ffff:7f00:1)"),
    ("[::ffff:169.254.169.254]", "link-local (embedded in ::ffff:a9fe:a9fe)"),
    ("[::ffff:10.0.0.1]", "private (embedded in ::ffff:a00:1)"),
    ("[2002:7f00:1::1]", "loopback (embedded in 2002:7f00:1::1)"),
    ("[64:ff9b::a9fe:a9fe]", "link-local (embedded in 64:ff9b::a9fe:a9fe)"),
    ("[fec0::1]", "site-local"),
]


def fake_resolver(mapping):
    """getaddrinfo stand-in: hostname -> list of IPs (each call may pop from a list of answers)."""

    def getaddrinfo(host, port):
        answer = mapping.get(host, [host])
        ips = answer.pop(0) if isinstance(answer, list) and answer and isinstance(answer[0], list) else answer
        family = lambda ip: socket.AF_INET6 if ":" in ip else socket.AF_INET  # noqa: E731
        return [(family(ip), socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]

    return getaddrinfo


@pytest.mark.parametrize(("host", "reason"), BLOCKED)
def test_every_non_public_range_is_refused(host, reason):
    with pytest.raises(net.BlockedURLError) as refused:
        net.check_url(f"http://{host}:8080/path")

    assert f": {reason} address." in str(refused.value)
    assert "TRELLIS_HTTP_ALLOWLIST" in str(refused.value)


@pytest.mark.parametrize("ip", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(ip):
    assert net.blocked_reason(__import__("ipaddress").ip_address(ip)) is None


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/x", "http:///x"])
def test_only_http_urls_with_a_host_are_accepted(url):
    with pytest.raises(net.BlockedURLError):
        net.check_url(url)


def test_loopback_server_is_refused_without_the_allowlist_and_never_contacted(echo_server):
    with pytest.raises(net.BlockedURLError, match="loopback"):
        net.guarded_request("GET", f"{echo_server.base_url}/echo", timeout_s=5, max_bytes=10_000)

    assert echo_server.requests == []


def test_localhost_hostname_is_judged_by_its_addresses(echo_server):
    with pytest.raises(net.BlockedURLError, match=r"'localhost' \((127\.0\.0\.1|::1)\): loopback"):
        net.guarded_request("GET", f"http://localhost:{echo_server.port}/echo", timeout_s=5, max_bytes=10_000)

    assert echo_server.requests == []


def test_a_public_looking_hostname_that_resolves_to_a_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(net, "_getaddrinfo", fake_resolver({"api.example.com": ["93.184.216.34", "10.1.2.3"]}))

    with pytest.raises(net.BlockedURLError, match=r"'api.example.com' \(10.1.2.3\): private address"):
        net.check_url("https://api.example.com/v1")


def test_the_connection_goes_to_the_checked_address_with_the_original_host_header(
    monkeypatch, echo_server, allow_loopback
):
    monkeypatch.setattr(net, "_getaddrinfo", fake_resolver({"api.internal.test": ["127.0.0.1"]}))

    response = net.guarded_request(
        "GET", f"http://api.internal.test:{echo_server.port}/echo", timeout_s=5, max_bytes=10_000
    )

    assert response.status_code == 200
    assert response.json()["headers"]["host"] == f"api.internal.test:{echo_server.port}"


def test_dns_rebinding_between_check_and_connect_is_refused(monkeypatch, echo_server):
    # First answer (the pre-check) is public, the second (at connect time) is loopback.
    answers = {"rebind.example.com": [["93.184.216.34"], ["127.0.0.1"]]}
    monkeypatch.setattr(net, "_getaddrinfo", fake_resolver(answers))

    with pytest.raises(net.BlockedURLError, match="loopback"):
        net.guarded_request("GET", f"http://rebind.example.com:{echo_server.port}/echo", timeout_s=5, max_bytes=100)

    assert echo_server.requests == []


def test_a_redirect_to_a_blocked_address_is_refused(echo_server, allow_loopback):
    target = "http://169.254.169.254/latest/meta-data/"

    with pytest.raises(net.BlockedURLError, match="Redirect to http://169.254.169.254/latest/meta-data/ refused"):
        net.guarded_request("GET", f"{echo_server.base_url}/redirect?to={target}", timeout_s=5, max_bytes=1000)

    assert [r["path"] for r in echo_server.requests] == ["/redirect"]


def test_a_redirect_to_a_hostname_resolving_to_a_blocked_address_is_refused(monkeypatch, echo_server, allow_loopback):
    resolver = fake_resolver({"metadata.example.com": ["169.254.169.254"]})
    monkeypatch.setattr(net, "_getaddrinfo", resolver)

    with pytest.raises(net.BlockedURLError, match="link-local"):
        net.guarded_request(
            "GET", f"{echo_server.base_url}/redirect?to=http://metadata.example.com/", timeout_s=5, max_bytes=1000
        )


def test_allowed_redirects_are_followed_and_recorded(echo_server, allow_loopback):
    target = f"{echo_server.base_url}/echo?x=1"

    response = net.guarded_request("GET", f"{echo_server.base_url}/redirect?to={target}", timeout_s=5, max_bytes=10_000)

    assert response.status_code == 200
    assert response.redirects == [target]
    assert response.json()["query"] == {"x": "1"}


def test_redirect_loops_stop(echo_server, allow_loopback):
    loop = f"{echo_server.base_url}/redirect?to={echo_server.base_url}/redirect"
    with pytest.raises(httpx.TooManyRedirects):
        net.guarded_request("GET", loop, timeout_s=5, max_bytes=1000, max_redirects=0)


def test_allowlist_accepts_hostnames_and_cidrs(monkeypatch, settings):
    monkeypatch.setattr(net, "_getaddrinfo", fake_resolver({"db.corp": ["10.0.0.7"], "other.corp": ["10.9.0.1"]}))
    settings.HTTP_ALLOWLIST = ["db.corp", "10.9.0.0/16"]

    net.check_url("http://db.corp/")
    net.check_url("http://other.corp/")
    net.check_url("http://10.9.200.1/")
    with pytest.raises(net.BlockedURLError):
        net.check_url("http://10.8.0.1/")


def test_response_size_cap_with_and_without_content_length(echo_server, allow_loopback):
    with pytest.raises(net.ResponseTooLargeError, match="2000000 bytes; the limit is 1000 bytes"):
        net.guarded_request("GET", f"{echo_server.base_url}/big?bytes=2000000", timeout_s=5, max_bytes=1000)
    with pytest.raises(net.ResponseTooLargeError, match="larger than the limit of 1000 bytes"):
        net.guarded_request("GET", f"{echo_server.base_url}/big?bytes=5000&chunked=1", timeout_s=5, max_bytes=1000)


def test_a_cancel_event_interrupts_a_request_in_flight(echo_server, allow_loopback):
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()

    with pytest.raises(net.RequestCancelledError):
        net.guarded_request(
            "GET", f"{echo_server.base_url}/slow?s=10", timeout_s=30, max_bytes=1000, cancel_event=cancel
        )


def test_the_overall_timeout_covers_a_slow_server(echo_server, allow_loopback):
    with pytest.raises(httpx.TimeoutException):
        net.guarded_request("GET", f"{echo_server.base_url}/slow?s=10", timeout_s=0.5, max_bytes=1000)


def _certificate_for(hostname, tmp_path):
    """A throwaway CA and a server certificate for `hostname` (PEM files)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject, issuer, public_key, signing_key, *, ca, san=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("Test CA", "Test CA", ca_key.public_key(), ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(hostname, "Test CA", key.public_key(), ca_key, ca=False, san=hostname)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(pem))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"


def test_tls_uses_the_hostname_for_sni_and_certificate_checks_while_connecting_to_the_checked_ip(
    monkeypatch, tmp_path, allow_loopback
):
    import ssl

    from runs.testing.echo_server import EchoServer

    ca, cert, key = _certificate_for("api.internal.test", tmp_path)
    server = EchoServer()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    seen_sni = []
    server_context.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    server.httpd.socket = server_context.wrap_socket(server.httpd.socket, server_side=True)
    client_context = ssl.create_default_context(cafile=str(ca))
    monkeypatch.setattr(net, "_ssl_context_cache", [client_context])
    monkeypatch.setattr(net, "_getaddrinfo", fake_resolver({"api.internal.test": ["127.0.0.1"]}))
    try:
        response = net.guarded_request(
            "GET", f"https://api.internal.test:{server.port}/echo", timeout_s=5, max_bytes=10_000
        )
        # The same server reached by IP fails certificate verification: the name is what is checked.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED|IP address mismatch"):
            net.guarded_request("GET", f"https://127.0.0.1:{server.port}/echo", timeout_s=5, max_bytes=10_000)
    finally:
        server.stop()

    assert response.status_code == 200
    assert response.json()["headers"]["host"] == f"api.internal.test:{server.port}"
    assert seen_sni[0] == "api.internal.test"


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "017700000001", "127.1", "0177.0.0.1"])
def test_numeric_ip_spellings_are_judged_by_the_address_they_resolve_to(host):
    with pytest.raises(net.BlockedURLError, match="loopback"):
        net.check_url(f"http://{host}/")


def test_an_allowlisted_ipv6_network(settings):
    settings.HTTP_ALLOWLIST = ["fd00::/8"]

    net.check_url("http://[fd00::5]/")
    with pytest.raises(net.BlockedURLError):
        net.check_url("http://[fc00::5]/")


# --- the model client (aiohttp under httpx: net.model_http_client) ---------------------------------------


async def _model_client_get(url: str) -> httpx.Response:
    async with net.model_http_client(timeout_s=5, guard=True, max_connections=4) as client:
        response = await client.get(url)
        await response.aread()
        return response


def test_the_model_client_refuses_a_hostname_that_resolves_to_a_private_address(monkeypatch, echo_server):
    monkeypatch.setattr(net, "_getaddrinfo", fake_resolver({"models.example.com": ["127.0.0.1"]}))

    with pytest.raises(net.BlockedURLError, match=r"'models.example.com' \(127.0.0.1\): loopback address"):
        asyncio.run(_model_client_get(f"http://models.example.com:{echo_server.port}/echo"))

    assert echo_server.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]", "169.254.169.254"])
def test_the_model_client_refuses_a_blocked_ip_literal(host, echo_server):
    with pytest.raises(net.BlockedURLError):
        asyncio.run(_model_client_get(f"http://{host}:{echo_server.port}/echo"))

    assert echo_server.requests == []


def test_the_model_client_connects_to_the_checked_address_with_the_original_host_header(
    monkeypatch, echo_server, allow_loopback
):
    monkeypatch.setattr(net, "_getaddrinfo", fake_resolver({"models.internal.test": ["127.0.0.1"]}))

    response = asyncio.run(_model_client_get(f"http://models.internal.test:{echo_server.port}/echo"))

    assert response.status_code == 200
    assert response.json()["headers"]["host"] == f"models.internal.test:{echo_server.port}"
