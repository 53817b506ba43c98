"""`mailcfg init --online` against local servers: a DNS server (dnslib) and an HTTPS autoconfig server (trustme).

The domains are under `.test`, which the bundled provider data never knows; every name is resolved through
`--dns-server`, every connection goes to 127.0.0.1 at `--autoconfig-port`, trusted by `--ca-file`. The servers
record what they were asked: the tests check from their side which names were looked up, which requests
arrived (with which SNI and Host) and that no credential was sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from autoconfig_servers import Servers, start
from builders import Cli

from validator import engine, suppress

NAMES = ["autoconfig.firma.test", "firma.test", "autoconfig.hostile.test", "autoconfig.dtd.test", "wk.test"]

CONFIG = b"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="firma.test">
    <domain>firma.test</domain>
    <displayName>Firma Mail</displayName>
    <incomingServer type="pop3">
      <hostname>pop.firma.test</hostname><port>995</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.firma.test</hostname><port>143</port><socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>mail.%EMAILDOMAIN%</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.firma.test</hostname><port>587</port><socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication>
    </outgoingServer>
    <documentation url="https://firma.test/hilfe/mail"><descr lang="de">Hilfe</descr></documentation>
    <enable visiturl="https://firma.test/konto">
      <instruction lang="de">Schalten Sie IMAP im Kundenkonto frei.</instruction>
    </enable>
  </emailProvider>
</clientConfig>
"""

# What a hostile autoconfig server could try: a line break and an inline suppression in the name, YAML in the
# login template, a host that is no host name, an unencrypted server.
HOSTILE = b"""<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="x">
    <displayName>Evil&#10;version: 2 # mailcfg: ignore[MC302] x</displayName>
    <incomingServer type="imap">
      <hostname>imap.hostile.test
evil: 1</hostname><port>993</port><socketType>SSL</socketType>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>plain.hostile.test</hostname><port>143</port><socketType>plain</socketType>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.hostile.test</hostname><port>993</port><socketType>SSL</socketType>
      <username>"x"
version: 2</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.hostile.test</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.hostile.test</hostname><port>465</port><socketType>SSL</socketType>
    </outgoingServer>
    <enable visiturl="javascript:alert(1)">
      <instruction lang="en">Line one
 # mailcfg: ignore[MC301] hidden</instruction>
    </enable>
  </emailProvider>
</clientConfig>
"""

# The "billion laughs": refused at the DTD, never expanded.
DTD = b"""<?xml version="1.0"?>
<!DOCTYPE clientConfig [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<clientConfig version="1.1"><emailProvider id="x"><displayName>&b;</displayName></emailProvider></clientConfig>
"""


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    yield from start(tmp_path, NAMES)


def init(cli: Cli, servers: Servers, *args: str, ca: bool = True) -> tuple[int, str, str]:
    return cli("init", *servers.options(ca=ca), *args)


def check_clean(tmp_path: Path, text: str) -> list[str]:
    """The rules `mailcfg check` finds in ``text``, after asserting that none is an error."""
    path = tmp_path / "accounts.yaml"
    path.write_text(text, encoding="utf-8")
    result = engine.run(engine.CheckOptions(paths=(str(path),)))
    assert [f.rule for f in result.findings if f.severity.value == "error"] == []
    return sorted({f.rule for f in result.findings})


def test_online_reads_the_domains_autoconfig_file(cli: Cli, servers: Servers, tmp_path: Path) -> None:
    servers.dns.zone.add("autoconfig.firma.test", "A", "127.0.0.1")
    servers.https.page("autoconfig.firma.test", "/mail/config-v1.1.xml", CONFIG)
    code, out, err = init(cli, servers, "info@firma.test", "anna.muster@firma.test")
    assert (code, err) == (0, "")
    document = yaml.safe_load(out)
    [smtp] = document["smtp"]
    assert (smtp["host"], smtp["port"], smtp["encryption"]) == ("smtp.firma.test", 587, "starttls")
    info, anna = document["imap"]
    # implicit TLS where offered, the host template filled, the login from the file's template
    assert (info["host"], info["port"], info["encryption"]) == ("mail.firma.test", 993, "ssl")
    assert info["credentials"]["username"] == "info"
    assert anna["credentials"]["username"] == "anna.muster"
    assert anna["outgoing"] == info["outgoing"] == smtp["id"]
    assert "# Firma Mail, for info@firma.test, anna.muster@firma.test: the settings published in the domain's" in out
    assert "https://autoconfig.firma.test:" in out
    assert "Before the first login (de): Schalten Sie IMAP im Kundenkonto frei." in out
    assert check_clean(tmp_path, out) == ["MC407"]
    # From the servers' side: one request for the domain (both addresses share it), to the right name, and the
    # names resolved through --dns-server; no credential, no cookie.
    [request] = servers.https.requests
    assert request.path == "/mail/config-v1.1.xml?emailaddress=info%40firma.test"
    assert request.sni == "autoconfig.firma.test"
    assert request.headers["host"] == f"autoconfig.firma.test:{servers.https.port}"
    assert not {"authorization", "cookie", "proxy-authorization"} & set(request.headers)
    assert ("autoconfig.firma.test", "A") in servers.dns.zone.queries


def test_online_falls_back_to_the_well_known_url(cli: Cli, servers: Servers, tmp_path: Path) -> None:
    servers.dns.zone.add("wk.test", "A", "127.0.0.1")
    body = CONFIG.replace(b"firma.test", b"wk.test")
    servers.https.page("wk.test", "/.well-known/autoconfig/mail/config-v1.1.xml", body)
    code, out, err = init(cli, servers, "info@wk.test")
    assert (code, err) == (0, "")
    assert yaml.safe_load(out)["imap"][0]["host"] == "mail.wk.test"
    [request] = servers.https.requests
    assert (request.sni, request.path) == ("wk.test", "/.well-known/autoconfig/mail/config-v1.1.xml")
    assert ("autoconfig.wk.test", "A") in servers.dns.zone.queries  # tried first: no such name
    assert check_clean(tmp_path, out) == ["MC407"]


def test_online_finds_the_provider_through_the_mx_record(cli: Cli, servers: Servers, tmp_path: Path) -> None:
    servers.dns.zone.add("firma-mx.test", "MX", (10, "mx01.emig.gmx.net."), (5, "mx00.emig.gmx.net."))
    code, out, err = init(cli, servers, "info@firma-mx.test")
    assert (code, err) == (0, "")
    document = yaml.safe_load(out)
    assert (document["smtp"][0]["host"], document["imap"][0]["host"]) == ("mail.gmx.net", "imap.gmx.net")
    assert document["imap"][0]["credentials"]["username"] == "info@firma-mx.test"
    assert "found through the MX record of firma-mx.test: mx00.emig.gmx.net is GMX Freemail's" in " ".join(
        line.strip("# ") for line in out.splitlines()
    )
    assert "Thunderbird's ISPDB (snapshot of" in out
    assert servers.https.requests == []  # nothing answered at the autoconfig names: no connection at all
    assert [q for q in servers.dns.zone.queries if q[1] == "MX"] == [("firma-mx.test", "MX")]
    assert check_clean(tmp_path, out) == ["MC407"]


def test_online_mx_at_microsoft_365_writes_an_app_only_oauth2_login(cli: Cli, servers: Servers, tmp_path: Path) -> None:
    servers.dns.zone.add("contoso.test", "MX", (0, "contoso-test.mail.protection.outlook.com."))
    code, out, err = init(cli, servers, "info@contoso.test")
    assert (code, err) == (0, "")
    credentials = yaml.safe_load(out)["imap"][0]["credentials"]
    assert credentials["oauth2"]["provider"] == "microsoft"
    assert credentials["oauth2"]["tenant"] == "change-me.invalid"
    assert credentials["oauth2"]["client_secret"] == {"env": "MAILCFG_CONTOSO_TEST_M365_CLIENT_SECRET"}
    assert "--allow-host login.microsoftonline.com,outlook.office365.com,smtp.office365.com" in out
    assert check_clean(tmp_path, out) == ["MC407"]


def test_online_nothing_found_exits_2_and_says_what_was_tried(cli: Cli, servers: Servers) -> None:
    servers.dns.zone.add("nowhere.test", "MX", (10, "mx.provider.test."))
    code, out, err = init(cli, servers, "info@nowhere.test")
    assert (code, out) == (2, "")
    assert "no mail settings found online for nowhere.test" in err
    assert f"https://autoconfig.nowhere.test:{servers.https.port}/mail/config-v1.1.xml: no such host" in err
    assert "MX of nowhere.test: mx.provider.test, no known provider's" in err


def test_online_values_from_a_hostile_file_cannot_change_the_document(
    cli: Cli, servers: Servers, tmp_path: Path
) -> None:
    servers.dns.zone.add("autoconfig.hostile.test", "A", "127.0.0.1")
    servers.https.page("autoconfig.hostile.test", "/mail/config-v1.1.xml", HOSTILE)
    code, out, err = init(cli, servers, "anna@hostile.test")
    assert (code, err) == (0, "")
    document = yaml.safe_load(out)
    assert set(document) == {"version", "users", "smtp", "imap"}
    assert document["version"] == 1
    [imap] = document["imap"]
    # the host with a line break and the unencrypted server are left out; the login with YAML in it too
    assert (imap["host"], imap["encryption"], imap["credentials"]["username"]) == (
        "imap.hostile.test",
        "ssl",
        "anna@hostile.test",
    )
    assert document["smtp"][0]["name"] == "Evil version: 2 # mailcfg: ignore[MC302] x"
    assert "javascript:" not in out
    assert suppress.comments("accounts.yaml", out) == []  # nothing in the file can suppress a finding
    assert check_clean(tmp_path, out) == ["MC407"]


def test_online_refuses_a_document_type_declaration(cli: Cli, servers: Servers) -> None:
    servers.dns.zone.add("autoconfig.dtd.test", "A", "127.0.0.1")
    servers.https.page("autoconfig.dtd.test", "/mail/config-v1.1.xml", DTD)
    code, _, err = init(cli, servers, "info@dtd.test")
    assert code == 2
    assert "the file declares a document type (DTD), which mailcfg refuses" in err


def test_online_needs_a_trusted_certificate(cli: Cli, servers: Servers) -> None:
    servers.dns.zone.add("autoconfig.firma.test", "A", "127.0.0.1")
    servers.https.page("autoconfig.firma.test", "/mail/config-v1.1.xml", CONFIG)
    options = servers.options("--ca-file", str(servers.untrusted_ca_file), ca=False)
    code, _, err = cli("init", *options, "info@firma.test")
    assert code == 2
    assert "certificate not trusted" in err
    assert servers.https.requests == []  # the request was never sent


def test_online_follows_no_redirect(cli: Cli, servers: Servers) -> None:
    servers.dns.zone.add("autoconfig.firma.test", "A", "127.0.0.1")
    servers.https.page(
        "autoconfig.firma.test", "/mail/config-v1.1.xml", b"", status=302, headers={"Location": "https://x.test/"}
    )
    code, _, err = init(cli, servers, "info@firma.test")
    assert code == 2
    assert "HTTP 302 (a redirect, which mailcfg does not follow)" in err
    assert len(servers.https.requests) == 1


def test_online_refuses_an_answer_too_large(cli: Cli, servers: Servers) -> None:
    servers.dns.zone.add("autoconfig.firma.test", "A", "127.0.0.1")
    servers.https.page("autoconfig.firma.test", "/mail/config-v1.1.xml", b"<a>" + b"x" * (300 * 1024) + b"</a>")
    code, _, err = init(cli, servers, "info@firma.test")
    assert code == 2
    assert "the answer is larger than 256 KiB" in err


def test_online_a_silent_server_is_cut_at_the_deadline(cli: Cli, servers: Servers) -> None:
    servers.dns.zone.add("autoconfig.firma.test", "A", "127.0.0.1")
    servers.https.silent = True
    code, _, err = init(cli, servers, "--timeout", "0.5", "info@firma.test")
    assert code == 2
    assert "timed out" in err


def test_online_is_not_asked_for_a_known_domain(cli: Cli, servers: Servers) -> None:
    code, out, _ = init(cli, servers, "info@gmx.de")
    assert code == 0
    assert "mail.gmx.net" in out
    assert servers.dns.zone.queries == []
    assert servers.https.requests == []


@pytest.mark.parametrize("value", ["localhost:53", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:x", "[::1]:99999"])
def test_dns_server_must_be_an_ip_address_and_a_port(cli: Cli, value: str) -> None:
    code, _, err = cli("init", "--online", "--dns-server", value, "info@firma.test")
    assert code == 2
    assert "--dns-server" in err


def test_online_options_need_online(cli: Cli) -> None:
    code, _, err = cli("init", "--dns-server", "127.0.0.1:53", "--timeout", "3", "info@gmx.de")
    assert code == 2
    assert "--dns-server, --timeout: apply only with --online" in err
