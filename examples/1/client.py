"""Connect to a server by its public key (hyperdht's README client example).

    python examples/1/client.py <server public key hex>
    HYPERPUNCH_BOOTSTRAP=127.0.0.1:49737 HYPERPUNCH_HOST=127.0.0.1 python examples/1/client.py <key>

What you type goes to the server, what the server sends is printed; end stdin (Ctrl-D) to finish.
"""

import asyncio
import os
import sys

import hyperpunch
from hyperpunch.dht import HyperDHT


async def main(public_key: bytes) -> None:
    bootstrap = os.environ.get("HYPERPUNCH_BOOTSTRAP")  # "host:port,host:port", else public nodes
    host = os.environ.get("HYPERPUNCH_HOST", "0.0.0.0")
    async with HyperDHT(bootstrap=bootstrap.split(",") if bootstrap else None, host=host) as node:
        print("Connecting to:", public_key.hex(), flush=True)
        # returns once the socket is fully open with the other peer
        socket = await node.connect(public_key)
        print("got connection!", flush=True)

        async def print_incoming():  # socket -> stdout
            async for data in socket:
                sys.stdout.buffer.write(data)
                sys.stdout.flush()

        incoming = asyncio.ensure_future(print_incoming())
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():  # stdin -> socket
            socket.write(line)
        socket.write_eof()  # stdin ended: end our side, wait for the server to end its side
        await asyncio.wait_for(incoming, 10)
        await socket.aclose()


if __name__ == "__main__":
    hyperpunch.run(main(bytes.fromhex(sys.argv[1])))  # until it ends, or Ctrl-C / SIGTERM
