"""hyperpunch: the Holepunch peer-to-peer stack for Python.

Layers (bottom-up), each a subpackage with a sans-IO core and a thin asyncio adapter:
``encoding`` (compact-encoding), ``crypto`` (hypercore-crypto), ``noise`` (Noise XX/IK on Ed25519),
``secretstream`` (@hyperswarm/secret-stream), and later ``udx``, ``dht_rpc``, ``dht``, ``swarm``,
``protomux``, ``hypercore``, ``corestore``.
"""

from hyperpunch.errors import HyperpunchError, LocalError, RemoteError
from hyperpunch.runner import run

__version__ = "0.1.0"

__all__ = ["HyperpunchError", "LocalError", "RemoteError", "__version__", "run"]
