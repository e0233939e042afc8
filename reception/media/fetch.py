"""Fetching a photo the webhook names by URL, without letting a caller reach the shop's own network (SSRF).

The rules, each refused with an `ImageRefused` that says which:

- ``http`` or ``https`` only, no user or password in the URL;
- every address the host resolves to must be a public one (no loopback,
  private, link-local — the cloud metadata address 169.254.169.254 —,
  shared, multicast, reserved or unspecified address, in IPv4 or IPv6,
  IPv4-mapped included); the connection then goes to exactly the addresses
  that were checked (a resolver pinned to them), so a second DNS answer
  cannot swap in a private one;
- redirects are followed by hand, at most ``[media] fetch_max_redirects``,
  each new address checked the same way;
- the whole fetch (resolving, connecting, redirects, the body) ends after
  ``[media] fetch_timeout`` seconds; a body over ``[media] max_bytes`` is
  refused as soon as its length is announced or read, and the answer must
  say it is an image (``image/*``, or ``application/octet-stream``).

``[media] fetch_private = true`` lifts the address rule (an image host on
the shop's own network); everything else still holds. No proxy from the
environment is used, and no cookie is kept.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from ..config.sections import MediaSettings
from .image import ImageRefused, describe_size

_ALLOWED_TYPES = ("image/", "application/octet-stream")
_CHUNK = 64 * 1024


def public_address(address: str) -> bool:
    """True for an address on the public internet, not the shop's own network or this machine."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
        ip = ip.sixtofour
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)


class _Pinned(AbstractResolver):
    """Answers only with the addresses already checked for each host."""

    def __init__(self, checked: dict[tuple[str, int], list[ResolveResult]]) -> None:
        self.checked = checked

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        found = self.checked.get((host, port))
        if not found:
            raise OSError(f"{host} was not checked")
        return found

    async def close(self) -> None:
        return None


async def _check_host(host: str, port: int, allow_private: bool) -> list[ResolveResult]:
    """The host's addresses, each checked; refuses a name that does not resolve or resolves anywhere private."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [(socket.AF_INET6 if literal.version == 6 else socket.AF_INET, str(literal))]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise ImageRefused(422, "image_fetch_failed", f"image_url: the host {host} cannot be found ({exc})") \
                from None
        addresses = [(family, str(sockaddr[0])) for family, _, _, _, sockaddr in infos]
    if not addresses:
        raise ImageRefused(422, "image_fetch_failed", f"image_url: the host {host} has no address")
    for _, address in addresses:
        if not allow_private and not public_address(address):
            raise ImageRefused(422, "image_url_refused", f"image_url: {host} is a private, loopback or link-local "
                               "address; only photos on the public internet are fetched")
    return [ResolveResult(hostname=host, host=address, port=port, family=family, proto=0,
                          flags=socket.AI_NUMERICHOST) for family, address in addresses]


def _target(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ImageRefused(422, "image_url_refused", f"image_url: {parts.scheme or 'no'} scheme; http or https only")
    if parts.username is not None or parts.password is not None:
        raise ImageRefused(422, "image_url_refused", "image_url: a URL with a user or password is not fetched")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise ImageRefused(422, "image_url_refused", "image_url: the port is not a number in 1-65535") from None
    if not parts.hostname:
        raise ImageRefused(422, "image_url_refused", "image_url: no host")
    return parts.hostname, port


async def _read(response: aiohttp.ClientResponse, limit: int) -> bytes:
    declared = response.content_length
    if declared is not None and declared > limit:
        raise ImageRefused(413, "image_too_large",
                           f"image_url: the photo is {describe_size(declared)}; at most {describe_size(limit)}")
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > limit:
            raise ImageRefused(413, "image_too_large", f"image_url: the photo is over {describe_size(limit)}")
    return bytes(body)


async def _fetch(url: str, config: MediaSettings) -> bytes:
    checked: dict[tuple[str, int], list[ResolveResult]] = {}
    connector = aiohttp.TCPConnector(resolver=_Pinned(checked), use_dns_cache=False, force_close=True)
    headers = {"Accept": "image/jpeg, image/png, image/webp, image/heic, image/*;q=0.8",
               "User-Agent": "reception-image-fetch"}
    async with aiohttp.ClientSession(connector=connector, trust_env=False, headers=headers,
                                     cookie_jar=aiohttp.DummyCookieJar()) as session:
        for _ in range(config.fetch_max_redirects + 1):
            host, port = _target(url)
            checked[(host, port)] = await _check_host(host, port, config.fetch_private)
            async with session.get(url, allow_redirects=False, auto_decompress=True) as response:
                if response.status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise ImageRefused(422, "image_fetch_failed", "image_url: a redirect without a Location")
                    url = urljoin(url, location)
                    continue
                if response.status != 200:
                    raise ImageRefused(422, "image_fetch_failed", f"image_url: the server answered {response.status}")
                kind = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
                if not kind.startswith(_ALLOWED_TYPES):
                    raise ImageRefused(415, "unsupported_image_type",
                                       f"image_url: the server sent {kind or 'no content type'}, not an image")
                return await _read(response, config.max_bytes)
        raise ImageRefused(422, "image_fetch_failed",
                           f"image_url: more than {config.fetch_max_redirects} redirects")


async def fetch_image(url: str, config: MediaSettings) -> bytes:
    """The bytes at `url`, under the rules above; raises `ImageRefused` (never a network error)."""
    try:
        async with asyncio.timeout(config.fetch_timeout):
            return await _fetch(url, config)
    except ImageRefused:
        raise
    except TimeoutError:
        raise ImageRefused(422, "image_fetch_failed",
                           f"image_url: no photo within {config.fetch_timeout:g} s") from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise ImageRefused(422, "image_fetch_failed", f"image_url: the photo could not be fetched "
                           f"({type(exc).__name__})") from None
