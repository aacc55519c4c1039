"""Listen for end-to-end encrypted connections on a key pair (hyperdht's README server example).

    python examples/1/server.py                  # on the public DHT; prints the key to connect to
    HYPERPUNCH_BOOTSTRAP=127.0.0.1:49737 HYPERPUNCH_HOST=127.0.0.1 python examples/1/server.py

What clients send is printed; what you type is sent to every connected client.
"""

import asyncio
import os
import sys

import hyperpunch
from hyperpunch.dht import HyperDHT


async def main() -> None:
    bootstrap = os.environ.get("HYPERPUNCH_BOOTSTRAP")  # "host:port,host:port", else public nodes
    host = os.environ.get("HYPERPUNCH_HOST", "0.0.0.0")
    async with HyperDHT(bootstrap=bootstrap.split(",") if bootstrap else None, host=host) as node:
        sockets = set()

        async def on_connection(socket):
            # socket is E2E encrypted between you and the other peer
            print("got connection! Remote public key", socket.remote_public_key.hex(), flush=True)
            sockets.add(socket)
            async for data in socket:  # socket -> stdout
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
            sockets.discard(socket)
            socket.write_eof()

        # create a server to listen for secure connections
        server = node.create_server(on_connection=on_connection)
        # make an ed25519 key pair to listen on
        key_pair = HyperDHT.key_pair()
        # this makes the server accept connections on this key pair
        await server.listen(key_pair)
        print("listening on:", key_pair.public_key.hex(), flush=True)

        async for line in stdin_lines():  # stdin -> every socket
            for socket in sockets:
                socket.write(line)
        await asyncio.Event().wait()  # stdin closed: keep serving until Ctrl-C


async def stdin_lines():
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        yield line


if __name__ == "__main__":
    hyperpunch.run(main())  # until it ends, or Ctrl-C / SIGTERM
