"""Local servers for `mailcfg init --online`: a DNS server (dnslib) and an HTTPS autoconfig server (trustme).

Both listen on 127.0.0.1 at a port the system picks, answer only what a test sets up, and record what they
were asked, so a test asserts from the servers' side which names were resolved and which requests arrived.
Nothing is reached beyond loopback.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from dnslib import AAAA, MX, QTYPE, RCODE, RR, A, DNSRecord  # type: ignore[import-untyped]
from dnslib.server import BaseResolver, DNSLogger, DNSServer  # type: ignore[import-untyped]


class Zone(BaseResolver):  # type: ignore[misc]
    """Answers from a table of (name, type) → values; NXDOMAIN for a name the table does not have at all."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[Any]] = {}
        self.queries: list[tuple[str, str]] = []

    def add(self, name: str, rtype: str, *values: Any) -> None:
        self.records.setdefault((name.lower(), rtype), []).extend(values)

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        rtype = QTYPE[request.q.qtype]
        self.queries.append((name, rtype))
        for value in self.records.get((name, rtype), []):
            rdata = {"A": A, "AAAA": AAAA}[rtype](value) if rtype in ("A", "AAAA") else MX(value[1], value[0])
            reply.add_answer(RR(name, getattr(QTYPE, rtype), rdata=rdata, ttl=60))
        if not any(known == name for known, _ in self.records):
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


@dataclass
class Request:
    """One request the autoconfig server received: the name the client asked for in SNI, and the HTTP request."""

    sni: str | None
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class AutoconfigServer:
    """An HTTPS server on 127.0.0.1 that answers each (Host without port, path) it was given."""

    port: int
    ca_file: Path
    pages: dict[tuple[str, str], tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    silent: bool = False  # accept the connection, then say nothing (the client's deadline must end it)

    def page(self, host: str, path: str, body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.pages[(host, path)] = (status, headers or {"Content-Type": "application/xml"}, body)


@dataclass
class DnsServer:
    port: int
    zone: Zone


@dataclass
class Servers:
    dns: DnsServer
    https: AutoconfigServer
    untrusted_ca_file: Path  # a CA that signed nothing the server presents

    def options(self, *extra: str, ca: bool = True) -> list[str]:
        """The `mailcfg init` options that point --online at these servers."""
        args = ["--online", "--dns-server", f"127.0.0.1:{self.dns.port}", "--autoconfig-port", str(self.https.port)]
        if ca:
            args += ["--ca-file", str(self.https.ca_file)]
        return [*args, *extra]


def start(tmp: Path, names: list[str]) -> Iterator[Servers]:
    """Start both servers (the certificate valid for ``names``); stop them when the generator is closed."""
    ca = trustme.CA()
    ca_file = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    untrusted = tmp / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(untrusted))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    # The handshake runs in get_request (the accepting thread), so the name of the last one is the connection's.
    last_sni: list[str | None] = [None]
    seen_sni: dict[int, str | None] = {}

    def remember(_sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _context: ssl.SSLContext) -> None:
        last_sni[0] = name

    context.sni_callback = remember
    state = AutoconfigServer(port=0, ca_file=ca_file)
    stop = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            sni = seen_sni.get(id(self.connection))
            state.requests.append(Request(sni, "GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
            path = self.path.split("?", 1)[0]
            status, headers, body = state.pages.get((host, path), (404, {}, b"not found"))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self) -> tuple[socket.socket, Any]:
            sock, address = self.socket.accept()
            if state.silent:
                stop.wait(30)  # hold the connection, answer nothing
                sock.close()
                raise OSError("silent")
            last_sni[0] = None
            tls = context.wrap_socket(sock, server_side=True)
            seen_sni[id(tls)] = last_sni[0]
            return tls, address

    https = Server(("127.0.0.1", 0), Handler)
    state.port = https.server_address[1]
    https_thread = threading.Thread(target=https.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    https_thread.start()
    zone = Zone()
    dns = DNSServer(zone, port=0, address="127.0.0.1", logger=DNSLogger(logf=lambda *_: None))
    dns_thread = threading.Thread(target=dns.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    dns_thread.start()
    dns_port = dns.server.server_address[1]
    try:
        yield Servers(DnsServer(dns_port, zone), state, untrusted)
    finally:
        stop.set()
        https.shutdown()
        https.server_close()
        dns.server.shutdown()
        dns.server.server_close()
