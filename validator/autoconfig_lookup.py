"""`mailcfg init --online`: find a domain's mail settings the way Thunderbird does, when the bundled data lacks it.

In order, for a domain the bundled provider data does not know:

1. ``https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=<address>``, the domain's own autoconfig file;
2. ``https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml``;
3. the domain's MX records, by preference: a mail exchanger whose host a known provider publishes
   (:func:`provider_data.by_host`), or that lies under a known provider's domain (``mx00.emig.gmx.net`` →
   ``gmx.net``, ``contoso-com.mail.protection.outlook.com`` → Microsoft 365), gives that provider's settings.

What keeps it safe, though the names come from the command line and the answers from the network:

- Only the hosts derived from the addresses the user typed are contacted (``autoconfig.<domain>``, ``<domain>``),
  and the DNS server. Nothing is sent but a GET with the address; never a credential, no cookie; a redirect is
  not followed; only HTTPS, with certificates verified (the system's CAs plus ``--ca-file``).
- Every name is resolved here, through ``--dns-server`` when given (dnspython, the resolver email-validator
  already brings), and the connection goes to the resolved address with SNI and ``Host`` set to the name; the
  system resolver is not asked behind mailcfg's back.
- One deadline (``--timeout``) bounds the whole lookup of a domain: DNS queries get what is left of it, and a
  timer shuts the connection down when it passes, so a server that trickles cannot hold the run.
- The answer is read up to 256 KiB and parsed with a parser that refuses any document type declaration (so no
  entity can be declared, expanded or fetched: the attacks defusedxml guards against, without another
  dependency); the values taken from it are checked (host names, ports, printable text) before
  :mod:`validator.init` writes them, quoted, into the YAML.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote
from xml.etree.ElementTree import Element, TreeBuilder

from validator import __version__
from validator.errors import UsageError
from validator.formats import host_problem
from validator.init import Address, Settings, from_provider
from validator.model import TEXT_PATTERN
from validator.provider_data import Provider, Server, by_domain, by_host
from validator.sanitize import one_line
from validator.trust import normalize_host

MAX_BYTES = 256 * 1024
MAX_SERVERS = 20
_SOCKET_TYPES = {"ssl": "ssl", "tls": "ssl", "starttls": "starttls", "plain": "none"}


@dataclass(frozen=True)
class OnlineOptions:
    """How ``--online`` reaches the network."""

    dns_server: tuple[str, int] | None = None  # (IP address, port); None: the system's nameservers
    port: int = 443
    ca_file: str | None = None
    timeout: float = 20.0


class _Failed(Exception):
    """One way of finding the settings did not work; the message says why (it never quotes the server)."""


def parse_dns_server(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) with HOST an IP address: the DNS server ``--online`` asks."""
    host, sep, port = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        address = ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise UsageError(f"--dns-server {text!r}: write HOST:PORT with HOST an IP address, e.g. 127.0.0.1:53") from None
    if not sep or not 1 <= number <= 65535:
        raise UsageError(f"--dns-server {text!r}: the port must be 1-65535")
    return address.compressed, number


def lookup(address: Address, options: OnlineOptions, today: datetime.date) -> Settings:
    """The settings for ``address``'s domain found online, or a usage error that lists what was tried."""
    deadline = time.monotonic() + options.timeout
    domain = normalize_host(address.domain)
    tried: list[str] = []
    try:
        resolver = _Resolver(options.dns_server, deadline)
    except _Failed as error:
        raise UsageError(f"--online: {error}") from None
    query = "?emailaddress=" + quote(address.text, safe="")
    places = (
        (f"autoconfig.{domain}", "/mail/config-v1.1.xml"),
        (domain, "/.well-known/autoconfig/mail/config-v1.1.xml"),
    )
    for host, path in places:
        url = f"https://{host}{'' if options.port == 443 else f':{options.port}'}{path}"
        try:
            body = _fetch(resolver, host, path + (query if host != domain else ""), options, deadline)
            return parse_config(body, url, domain, today)
        except _Failed as error:
            tried.append(f"{url}: {error}")
    try:
        exchanges = resolver.mx(domain)
    except _Failed as error:
        tried.append(f"MX of {domain}: {error}")
    else:
        for exchange in exchanges:
            provider = provider_of_exchange(exchange)
            if provider is not None:
                via = f"through the MX record of {domain}: {exchange} is {provider.name}'s"
                return from_provider(provider, via=via)
        listed = ", ".join(exchanges)
        tried.append(f"MX of {domain}: " + (f"{listed}, no known provider's" if exchanges else "none"))
    raise UsageError(
        f"no mail settings found online for {domain}: {'; '.join(tried)}. Write the file by hand "
        "(accounts.example.yaml shows the format)"
    )


def provider_of_exchange(exchange: str) -> Provider | None:
    """The known provider of a mail exchanger: one that publishes the host, or whose domain the host is under
    (the name itself, then its parents down to two labels)."""
    name = normalize_host(exchange)
    for protocol in ("smtp", "imap"):
        provider = by_host(protocol, name)
        if provider is not None:
            return provider
    labels = name.split(".")
    for start in range(len(labels) - 1):
        provider = by_domain(".".join(labels[start:]))
        if provider is not None:
            return provider
    return None


# --- DNS ------------------------------------------------------------------------------------------------


class _Resolver:
    """Every name the lookup needs, through one resolver: ``--dns-server`` or the system's nameservers."""

    def __init__(self, server: tuple[str, int] | None, deadline: float) -> None:
        import dns.resolver

        self.deadline = deadline
        if server is None:
            try:
                self.resolver = dns.resolver.Resolver()
            except dns.resolver.NoResolverConfiguration:
                raise _Failed("the system names no DNS server; pass --dns-server HOST:PORT") from None
        else:
            self.resolver = dns.resolver.Resolver(configure=False)
            self.resolver.nameservers = [server[0]]
            self.resolver.port = server[1]

    def _query(self, name: str, rdtype: str) -> list[Any]:
        import dns.exception
        import dns.resolver

        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Failed("timed out (--timeout)")
        try:
            answer = self.resolver.resolve(name + ".", rdtype, lifetime=left, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.Timeout:
            raise _Failed(f"DNS lookup of {name} ({rdtype}) timed out") from None
        except dns.exception.DNSException as error:
            raise _Failed(f"DNS lookup of {name} ({rdtype}) failed: {type(error).__name__}") from None
        return list(answer)

    def addresses(self, name: str) -> list[str]:
        """The IPv4 addresses of ``name``, else its IPv6 addresses."""
        return [record.address for record in self._query(name, "A") or self._query(name, "AAAA")]

    def mx(self, domain: str) -> list[str]:
        """The mail exchangers of ``domain`` by preference; a null MX (RFC 7505) is none."""
        records = sorted(self._query(domain, "MX"), key=lambda record: record.preference)
        names = [normalize_host(record.exchange.to_text(omit_final_dot=True)) for record in records]
        return [name for name in names if name and host_problem(name) is None]


# --- HTTPS ----------------------------------------------------------------------------------------------


def _context(ca_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _fetch(resolver: _Resolver, host: str, target: str, options: OnlineOptions, deadline: float) -> bytes:
    """The body of ``GET target`` at ``https://host:port``, connected to ``host``'s resolved addresses in turn."""
    addresses = resolver.addresses(host)
    if not addresses:
        raise _Failed("no such host")
    problem = "no address answered"
    for ip in addresses:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Failed("timed out (--timeout)")
        try:
            raw = socket.create_connection((ip, options.port), timeout=left)
        except OSError as error:
            problem = f"{ip}: {_reason(error)}"
            continue
        return _get(raw, host, target, options, deadline)
    raise _Failed(problem)


def _get(raw: socket.socket, host: str, target: str, options: OnlineOptions, deadline: float) -> bytes:
    # The timer shuts the connection down at the deadline, wherever the exchange is blocked; the TLS socket
    # works on a duplicate, so the plain socket object still holds the connection to shut down.
    timer = threading.Timer(max(deadline - time.monotonic(), 0.0), _cut, (raw,))
    timer.daemon = True
    timer.start()
    try:
        duplicate = raw.dup()
        duplicate.settimeout(max(deadline - time.monotonic(), 0.01))
        with _context(options.ca_file).wrap_socket(duplicate, server_hostname=host) as tls:
            authority = host if options.port == 443 else f"{host}:{options.port}"
            request = (
                f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: mailcfg/{__version__} (init --online)\r\n"
                "Accept: application/xml, text/xml\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n"
            )
            tls.sendall(request.encode("ascii"))
            response = http.client.HTTPResponse(tls, method="GET")
            response.begin()
            if response.status != 200:
                where = " (a redirect, which mailcfg does not follow)" if 300 <= response.status < 400 else ""
                raise _Failed(f"HTTP {response.status}{where}")
            body = bytearray()
            while chunk := response.read1(65536):
                body += chunk
                if len(body) > MAX_BYTES:
                    raise _Failed(f"the answer is larger than {MAX_BYTES // 1024} KiB")
    except (OSError, http.client.HTTPException) as error:
        if time.monotonic() >= deadline:
            raise _Failed("timed out (--timeout)") from None
        raise _Failed(_reason(error)) from None
    finally:
        timer.cancel()
        raw.close()
    if time.monotonic() >= deadline:
        raise _Failed("timed out (--timeout)")
    return bytes(body)


def _cut(raw: socket.socket) -> None:
    with contextlib.suppress(OSError):
        raw.shutdown(socket.SHUT_RDWR)


def _reason(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({one_line(error.verify_message or 'verification failed', 120)})"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({one_line(error.reason or type(error).__name__, 120)})"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return one_line(error.strerror, 120)
    return type(error).__name__


# --- the clientConfig file ------------------------------------------------------------------------------


def parse_xml(data: bytes) -> Element:
    """``data`` parsed as XML, refusing any document type declaration (and so every entity declaration)."""
    from xml.parsers import expat

    builder = TreeBuilder()
    parser = expat.ParserCreate()

    def refuse(*_: object) -> NoReturn:
        raise _Failed("the file declares a document type (DTD), which mailcfg refuses")

    # A document type declaration is refused where it starts, so no entity can be declared; the other two
    # handlers only make sure of it.
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise _Failed(f"not well-formed XML ({expat.ErrorString(error.code)}, line {error.lineno})") from None
    return builder.close()


def parse_config(data: bytes, url: str, domain: str, today: datetime.date) -> Settings:
    """The settings of a Mozilla autoconfig file (clientConfig 1.1) fetched from ``url``."""
    root = parse_xml(data)
    provider = root.find("emailProvider") if root.tag == "clientConfig" else None
    if provider is None:
        raise _Failed("no clientConfig with an emailProvider")
    imap = _servers(provider, "incomingServer", "imap")
    smtp = _servers(provider, "outgoingServer", "smtp")
    if not imap and not smtp:
        raise _Failed("the file names no usable IMAP or SMTP server")
    docs = tuple(
        _text(url_of, 300)
        for element in provider.findall("documentation")
        if (url_of := element.get("url") or "").startswith(("https://", "http://"))
    )
    instructions: dict[str, str] = {}
    enable_url = None
    enable = provider.find("enable")
    if enable is not None:
        visit = enable.get("visiturl") or ""
        enable_url = _text(visit, 300) if visit.startswith(("https://", "http://")) else None
        for element in enable.findall("instruction"):
            words = _text(element.text or "", 600)
            if words:
                instructions.setdefault(_text(element.get("lang") or "en", 10), words)
    oauth2: dict[str, Any] | None = None
    oauth = root.find("oAuth2")
    if oauth is not None:
        token = _text(oauth.findtext("tokenURL") or "", 300)
        scopes = tuple(_text(oauth.findtext("scope") or "", 600).split())
        oauth2 = {key: value for key, value in (("token_url", token), ("scopes", scopes)) if value}
    name = _text(provider.findtext("displayName") or "", 100) or domain
    return Settings(
        key=f"autoconfig:{domain}",
        name=name,
        imap=imap,
        smtp=smtp,
        source=f"the domain's own autoconfig file {url} (fetched {today.isoformat()}; check it before use)",
        docs=docs[:5],
        instructions=instructions,
        enable_url=enable_url,
        oauth2=oauth2,
    )


def _text(value: str, limit: int) -> str:
    return one_line(value.strip(), limit).strip()


def _servers(provider: Element, tag: str, protocol: str) -> tuple[Server, ...]:
    """The servers of ``protocol`` the file lists, in its order; any with a value mailcfg cannot use is left out."""
    import re

    found: list[Server] = []
    for element in provider.findall(tag)[:MAX_SERVERS]:
        if (element.get("type") or "").lower() != protocol:
            continue
        host = (element.findtext("hostname") or "").strip().lower()
        port_text = (element.findtext("port") or "").strip()
        encryption = _SOCKET_TYPES.get((element.findtext("socketType") or "").strip().lower())
        username = (element.findtext("username") or "%EMAILADDRESS%").strip()
        checked = host.replace("%emaildomain%", "example.org")
        if (
            encryption is None
            or not port_text.isdigit()
            or not 1 <= int(port_text) <= 65535
            or host_problem(checked) is not None
            or "%" in checked
            or len(username) > 200
            or not re.match(TEXT_PATTERN, username)
        ):
            continue
        auth = tuple(_text(item.text or "", 40) for item in element.findall("authentication"))[:10]
        found.append(
            Server(protocol, host.replace("%emaildomain%", "%EMAILDOMAIN%"), int(port_text), encryption, username, auth)
        )
    return tuple(found)
