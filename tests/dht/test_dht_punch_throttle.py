"""The random-punch throttle and the relay-address cache, sans-IO (time is the ``now`` argument)."""

from __future__ import annotations

from hyperpunch.dht.holepuncher import RandomPunchThrottle
from hyperpunch.dht.relay import RelayAddressCache
from hyperpunch.encoding import Address


def test_throttle_limits_concurrent_random_punches() -> None:
    t = RandomPunchThrottle(interval=20.0)
    assert t.allowed(0.0)
    t.begin()
    assert not t.allowed(0.0)  # one at a time
    t.cancel()  # released without a punch: no interval to wait
    assert t.allowed(0.0)


def test_throttle_waits_the_interval_after_a_punch_ended() -> None:
    t = RandomPunchThrottle(interval=20.0)
    t.begin()
    t.end(100.0)
    assert t.active == 0 and t.last == 100.0
    assert not t.allowed(100.0)
    assert not t.allowed(119.9)
    assert t.allowed(120.0)


def test_relay_address_cache_keeps_a_copy_per_key() -> None:
    cache = RelayAddressCache()
    addrs = [Address("10.0.0.1", 1)]
    assert cache.get(b"k") is None
    cache.set(b"k", addrs)
    addrs.append(Address("10.0.0.2", 2))
    assert cache.get(b"k") == [Address("10.0.0.1", 1)]
    assert len(cache) == 1
