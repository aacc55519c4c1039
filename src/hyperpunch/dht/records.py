"""Signing and checking of stored HyperDHT records (JS ``hyperdht/lib/persistent.js`` + ``index.js``).

Invariants (byte-exact with JS):

* Mutable: target = ``H(public_key)``; signable = ``NS_MUTABLE_PUT || H(encode(mutableSignable
  {seq, value}))`` (64 bytes); the signature is Ed25519 over the signable.
* Immutable: target = ``H(value)``.
* Announce / unannounce: signable = ``NS || H(target || node_id || token || encode(peer) ||
  (refresh or b""))`` with ``NS_ANNOUNCE`` / ``NS_UNANNOUNCE``, where ``node_id`` and ``token``
  are the **storing** node's id and the token it handed out.
* ``verify_*`` never raise for peer-supplied bytes: a wrong length or a bad signature is ``False``.
"""

from __future__ import annotations

import hashlib

from hyperpunch.crypto import KeyPair, sign, verify
from hyperpunch.dht.constants import NS_ANNOUNCE, NS_MUTABLE_PUT, NS_UNANNOUNCE
from hyperpunch.dht.errors import DHTLocalError
from hyperpunch.dht.messages import (
    Announce,
    MutablePutRequest,
    MutableSignable,
    mutable_signable,
    peer,
)
from hyperpunch.encoding import EncodeError, encode

__all__ = [
    "announce_signable",
    "immutable_target",
    "mutable_put_value",
    "mutable_signable_bytes",
    "mutable_target",
    "sign_announce",
    "sign_mutable",
    "sign_unannounce",
    "unannounce_signable",
    "verify_announce",
    "verify_mutable",
    "verify_unannounce",
]


def _h(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def mutable_target(public_key: bytes) -> bytes:
    """The DHT target a mutable record of ``public_key`` is stored under."""
    return _h(public_key)


def immutable_target(value: bytes) -> bytes:
    """The DHT target an immutable ``value`` is stored under."""
    return _h(value)


def mutable_signable_bytes(seq: int, value: bytes) -> bytes:
    """The 64 bytes a mutable put signs."""
    return NS_MUTABLE_PUT + _h(encode(mutable_signable, MutableSignable(seq, value)))


def sign_mutable(seq: int, value: bytes, key_pair: KeyPair) -> bytes:
    """JS ``Persistent.signMutable``: the signature of a mutable record."""
    return sign(mutable_signable_bytes(seq, value), key_pair.secret_key)


def verify_mutable(signature: bytes, seq: int, value: bytes, public_key: bytes) -> bool:
    """JS ``Persistent.verifyMutable``; ``False`` for anything that is not a valid signature."""
    return verify(mutable_signable_bytes(seq, value), signature, public_key)


def mutable_put_value(key_pair: KeyPair, value: bytes, seq: int = 0) -> MutablePutRequest:
    """The signed MUTABLE_PUT request value a writer sends (``encode(mutable_put_request, ...)``)."""
    return MutablePutRequest(key_pair.public_key, seq, value, sign_mutable(seq, value, key_pair))


def _ann_signable(ns: bytes, target: bytes, token: bytes, node_id: bytes, ann: Announce) -> bytes:
    h = hashlib.blake2b(digest_size=32)
    h.update(target)
    h.update(node_id)
    h.update(token)
    if ann.peer is None:
        raise DHTLocalError(
            "an (un)announce signature covers ann.peer, which is missing", code="INVALID_ANNOUNCE"
        )
    h.update(encode(peer, ann.peer))
    if ann.refresh is not None:
        h.update(ann.refresh)
    return ns + h.digest()


def announce_signable(target: bytes, token: bytes, node_id: bytes, ann: Announce) -> bytes:
    """The 64 bytes an ANNOUNCE signs (``ann.peer`` must be set; signature and bump are ignored)."""
    return _ann_signable(NS_ANNOUNCE, target, token, node_id, ann)


def unannounce_signable(target: bytes, token: bytes, node_id: bytes, ann: Announce) -> bytes:
    """The 64 bytes an UNANNOUNCE signs."""
    return _ann_signable(NS_UNANNOUNCE, target, token, node_id, ann)


def sign_announce(target: bytes, token: bytes, node_id: bytes, ann: Announce, key_pair: KeyPair) -> bytes:
    """JS ``Persistent.signAnnounce(target, token, id, ann, keyPair)``."""
    return sign(announce_signable(target, token, node_id, ann), key_pair.secret_key)


def sign_unannounce(target: bytes, token: bytes, node_id: bytes, ann: Announce, key_pair: KeyPair) -> bytes:
    """JS ``Persistent.signUnannounce(target, token, id, ann, keyPair)``."""
    return sign(unannounce_signable(target, token, node_id, ann), key_pair.secret_key)


def _verify_ann(ns: bytes, target: bytes, token: bytes, node_id: bytes, ann: Announce) -> bool:
    if ann.peer is None or ann.signature is None:
        return False
    try:
        signable = _ann_signable(ns, target, token, node_id, ann)
    except EncodeError:  # a peer record that cannot be re-encoded cannot carry a valid signature
        return False
    return verify(signable, ann.signature, ann.peer.public_key)


def verify_announce(target: bytes, token: bytes, node_id: bytes, ann: Announce) -> bool:
    """What a storing node checks for ANNOUNCE: ``ann.signature`` by ``ann.peer.public_key``."""
    return _verify_ann(NS_ANNOUNCE, target, token, node_id, ann)


def verify_unannounce(target: bytes, token: bytes, node_id: bytes, ann: Announce) -> bool:
    """What a storing node checks for UNANNOUNCE."""
    return _verify_ann(NS_UNANNOUNCE, target, token, node_id, ann)
