"""DNSLink TXT lookups for ``hyper://domain/`` URLs: a swappable resolver (tests pass a fake).

The default asks a DNS-over-HTTPS endpoint (JSON API, as hyper-sdk's ``dns-query`` does over DoH)
in a worker thread; any ``async (name) -> list[str]`` callable can replace it.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable

from hyperpunch.sdk.errors import DNSLinkError

__all__ = ["DEFAULT_DOH_ENDPOINT", "TXTResolver", "doh_txt_resolver"]

TXTResolver = Callable[[str], Awaitable[list[str]]]
DEFAULT_DOH_ENDPOINT = "https://cloudflare-dns.com/dns-query"


def doh_txt_resolver(endpoint: str = DEFAULT_DOH_ENDPOINT, timeout: float = 10.0) -> TXTResolver:
    """A resolver asking ``endpoint`` (``application/dns-json``) for TXT records."""

    def query(name: str) -> list[str]:
        url = f"{endpoint}?{urllib.parse.urlencode({'name': name, 'type': 'TXT'})}"
        req = urllib.request.Request(url, headers={"accept": "application/dns-json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                doc = json.loads(resp.read())
        except (OSError, ValueError) as err:
            raise DNSLinkError(f"DNS lookup of {name} failed: {err}") from err
        out: list[str] = []
        for answer in doc.get("Answer") or []:
            if answer.get("type") == 16 and isinstance(answer.get("data"), str):
                data = answer["data"]
                # the JSON API quotes each character-string; join them as one record
                parts = [p for p in data.split('"') if p.strip()] if data.startswith('"') else [data]
                out.append("".join(parts))
        return out

    async def resolve(name: str) -> list[str]:
        return await asyncio.to_thread(query, name)

    return resolve
