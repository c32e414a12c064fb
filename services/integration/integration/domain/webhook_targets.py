"""Where a webhook may be sent (SSRF): the URL's form, and every address its host resolves to.

A URL must be ``https`` (``http`` only where the deployment allows it, locally), carry no
credentials, and its host must resolve only to public addresses: never private, loopback,
link-local, multicast, reserved or unspecified ones, IPv4 or IPv6, including IPv4 addresses inside
IPv6 ones (mapped, 6to4, NAT64, Teredo). ``check_url`` checks the form; ``check_addresses`` the
resolved addresses, at registration and again at each delivery (DNS can change in between), on
the very addresses the request then connects to. Pure: no resolving here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from alliance_common.errors import InvalidInput

MAX_URL_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """``allow_http`` and ``allow_loopback`` are for development (a receiver on this machine); never production."""

    allow_http: bool = False
    allow_loopback: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL's parts: the host to resolve, the port to connect to."""

    url: str
    scheme: str
    host: str
    port: int


class RefusedUrl(InvalidInput):
    """The URL (or an address it resolves to) is not one a webhook may be sent to."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="url")
        self.reason = reason


def check_url(url: str, policy: UrlPolicy) -> Target:
    """The URL's form: scheme, no credentials, a host, a port. The addresses are checked apart
    (``check_addresses``), once resolved."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedUrl(f"longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise RefusedUrl("contains whitespace or control characters")
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedUrl(f"not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise RefusedUrl("must be an https URL")
    if scheme == "http" and not policy.allow_http:
        raise RefusedUrl("must use https (plain http is allowed only in development)")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("must not carry credentials (user:password@)")
    host = parts.hostname
    if not host:
        raise RefusedUrl("has no host")
    if parts.fragment:
        raise RefusedUrl("must not have a fragment (#...)")
    return Target(url=url, scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80))


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 one carries (and how), if it carries one a router would reach."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    if ip.teredo is not None:
        return ip.teredo[1], "Teredo"
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    return None


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def address_refusal(ip: IpAddress, policy: UrlPolicy) -> str | None:
    """Why a delivery may not connect to ``ip`` (None: it may): the reason names the kind of address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return f"resolves to a scoped IPv6 address ({ip})"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner, how = embedded
            reason = address_refusal(inner, policy)
            return None if reason is None else f"{reason} ({how} in {ip})"
        if ip in _NAT64_LOCAL:
            return f"resolves to a private address ({ip})"
    if ip.is_loopback:
        return None if policy.allow_loopback else f"resolves to a loopback address ({ip})"
    if ip.is_unspecified:
        return f"resolves to the unspecified address ({ip})"
    if ip.is_link_local:
        return f"resolves to a link-local address ({ip})"
    if ip.is_multicast:
        return f"resolves to a multicast address ({ip})"
    if ip.is_reserved:
        return f"resolves to a reserved address ({ip})"
    if ip.is_private:
        return f"resolves to a private address ({ip})"
    if not ip.is_global:
        return f"resolves to an address that is not public ({ip})"
    return None


def check_addresses(addresses: Iterable[str], policy: UrlPolicy) -> list[IpAddress]:
    """Every address the host resolved to must be allowed (one bad one refuses the URL: a
    resolver may answer either). Returns them parsed, in the order given."""
    parsed: list[IpAddress] = []
    for text in addresses:
        host, _, scope = text.partition("%")
        try:
            ip = ipaddress.ip_address(host)
        except ValueError as exc:
            raise RefusedUrl(f"resolves to something that is not an IP address ({text})") from exc
        if scope:
            raise RefusedUrl(f"resolves to a scoped IPv6 address ({text})")
        reason = address_refusal(ip, policy)
        if reason is not None:
            raise RefusedUrl(reason)
        parsed.append(ip)
    if not parsed:
        raise RefusedUrl("does not resolve to any address")
    return parsed
