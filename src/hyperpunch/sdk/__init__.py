"""hyper-sdk 4.5.1 for Python: one object that opens cores by name, key or URL and replicates them.

``async with SDK(storage=None) as sdk: core = await sdk.get("my-core")`` (see :mod:`.sdk`).
"""

from hyperpunch.sdk.dns import TXTResolver, doh_txt_resolver
from hyperpunch.sdk.errors import (
    DNSLinkError,
    InvalidKeyError,
    InvalidURLError,
    SDKClosedError,
    SDKError,
    StorageLockedError,
)
from hyperpunch.sdk.keys import (
    DNSLINK_TXT_PREFIX,
    HYPER_PROTOCOL_SCHEME,
    core_url,
    parse_target,
    topic_key,
    z32_decode,
    z32_encode,
)
from hyperpunch.sdk.sdk import DEFAULT_STORAGE, SDK, PeerEvent, core_events, url

__all__ = [
    "DEFAULT_STORAGE",
    "DNSLINK_TXT_PREFIX",
    "HYPER_PROTOCOL_SCHEME",
    "SDK",
    "DNSLinkError",
    "InvalidKeyError",
    "InvalidURLError",
    "PeerEvent",
    "SDKClosedError",
    "SDKError",
    "StorageLockedError",
    "TXTResolver",
    "core_events",
    "core_url",
    "doh_txt_resolver",
    "parse_target",
    "topic_key",
    "url",
    "z32_decode",
    "z32_encode",
]
