"""Corestore key derivation against JS corestore 7.12.5 (interop/vectors/corestore.js)."""

from __future__ import annotations

from typing import Any

import pytest

from hyperpunch.corestore import (
    DEFAULT_NAMESPACE,
    NS,
    create_key_pair,
    derive_seed,
    generate_namespace,
    named_core,
)
from hyperpunch.corestore.errors import CorestoreLocalError
from refvectors import section

V: dict[str, Any] = section("corestore")


def _ns_of(path: list[str]) -> bytes:
    ns = DEFAULT_NAMESPACE
    for part in path:
        ns = generate_namespace(ns, part)
    return ns


def test_constants() -> None:
    assert NS.hex() == V["NS"]
    assert DEFAULT_NAMESPACE.hex() == V["defaultNamespace"]


@pytest.mark.parametrize("case", V["namespaces"], ids=lambda c: "/".join(c["path"]) or "root")
def test_nested_namespaces(case: dict[str, Any]) -> None:
    assert _ns_of(case["path"]).hex() == case["namespace"]


def test_vector_count() -> None:
    assert len(V["cases"]) > 100


@pytest.mark.parametrize(
    "case", V["cases"], ids=lambda c: f"{c['primaryKey'][:4]}-{'/'.join(c['namespacePath'])}-{c['name'][:8]}"
)
def test_named_core(case: dict[str, Any]) -> None:
    pk = bytes.fromhex(case["primaryKey"])
    ns = _ns_of(case["namespacePath"])
    assert ns.hex() == case["namespace"]
    name: str = case["name"]
    assert derive_seed(pk, ns, name).hex() == case["seed"]
    kp = create_key_pair(pk, ns, name)
    assert kp.public_key.hex() == case["publicKey"]
    assert kp.secret_key.hex() == case["secretKey"]
    assert derive_seed(pk, ns, name.encode()) == bytes.fromhex(case["seed"])
    if case["key"] is None:
        assert case["getError"]
        return
    ident = named_core(pk, ns, name, 0 if case["manifestVersion"] == 1 else case["manifestVersion"])
    assert ident.manifest.version == case["manifestVersion"]
    assert ident.key.hex() == case["key"]
    assert ident.discovery_key.hex() == case["discoveryKey"]


def test_bad_inputs() -> None:
    with pytest.raises(CorestoreLocalError):
        derive_seed(b"\x00" * 31, DEFAULT_NAMESPACE, "a")
    with pytest.raises(CorestoreLocalError):
        derive_seed(b"\x00" * 32, b"\x00" * 33, "a")
    with pytest.raises(CorestoreLocalError):
        generate_namespace(DEFAULT_NAMESPACE, 5)  # type: ignore[arg-type]
