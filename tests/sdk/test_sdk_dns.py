"""The default DNSLink resolver (DNS-over-HTTPS, JSON API) against a local stand-in endpoint: TXT
answers are unquoted and joined, other record types ignored, a failed lookup is a DNSLinkError."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from hyperpunch.sdk import SDK, DNSLinkError, doh_txt_resolver, url

NULL_KEY = "y" * 52
ANSWERS = {
    "_dnslink.example.mauve.moe": [
        {"type": 5, "data": "cname.example."},
        {"type": 16, "data": '"unrelated=1"'},
        {"type": 16, "data": f'"dnslink=/hyper/{NULL_KEY[:20]}" "{NULL_KEY[20:]}/"'},  # two strings
    ]
}


@contextlib.contextmanager
def doh_server() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    asked: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            asked.append({**query, "accept": [self.headers.get("accept", "")]})
            if query.get("name") == ["_dnslink.broken.example"]:
                self.send_error(500)
                return
            body = json.dumps({"Status": 0, "Answer": ANSWERS.get(query["name"][0], [])}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/dns-json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dns-query", asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_default_resolver_reads_dns_json_txt_answers() -> None:
    with doh_server() as (endpoint, asked):
        resolve = doh_txt_resolver(endpoint)
        assert await resolve("_dnslink.example.mauve.moe") == ["unrelated=1", f"dnslink=/hyper/{NULL_KEY}/"]
        assert asked[0]["name"] == ["_dnslink.example.mauve.moe"] and asked[0]["type"] == ["TXT"]
        assert asked[0]["accept"] == ["application/dns-json"]
        async with SDK(None, bootstrap=[], host="127.0.0.1", auto_join=False, resolver=resolve) as sdk:
            core = await sdk.get("hyper://example.mauve.moe/index.html")
            assert url(core) == f"hyper://{NULL_KEY}/"
            with pytest.raises(DNSLinkError):
                await sdk.get("hyper://nothing.example/")
            with pytest.raises(DNSLinkError):
                await sdk.get("hyper://broken.example/")
