"""Networks that come and go: a writer and a reader started before their bootstrap node exists say
so within ~10 s and keep running; the reader replicates once the node starts, without a restart."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from dht_lab.lineproc import LineProc
from test_cli_dht import HOST, cli, free_udp_port, running

WAITING = "no DHT bootstrap node answered yet"
JOINED = "joined the DHT through"


async def stderr_says(proc: LineProc, text: str, timeout: float = 90) -> None:
    """Wait until ``text`` is on the process's stderr (it must stay alive meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in proc.stderr:
        assert proc.proc.returncode is None, proc.describe()
        assert loop.time() < deadline, f"waited {timeout}s for {text!r}\n{proc.describe()}"
        await asyncio.sleep(0.1)


async def test_reader_started_before_its_bootstrap_node_connects_once_it_starts(tmp_path: Path) -> None:
    port = free_udp_port()
    bootstrap = f"{HOST}:{port}"
    network = ["--bootstrap", bootstrap, "--host", HOST]
    writer_argv = cli("core", "write", "--storage", str(tmp_path / "w"), *network)
    async with running(writer_argv, "writer-offline") as writer:
        key = (await writer.expect("hypercore key: ")).strip()
        await writer.write_line("written before the network existed")
        await stderr_says(writer, WAITING)  # a writer also says it is waiting ...
        assert await writer.stop(signal.SIGTERM) == 0, writer.describe()  # ... and stops cleanly
    assert "Traceback" not in writer.stderr, writer.describe()

    reader_argv = cli("core", "read", key, "--storage", str(tmp_path / "r"), *network)
    async with running(reader_argv, "reader") as reader:
        await stderr_says(reader, WAITING)
        assert f"({bootstrap})" in reader.stderr
        testnet_argv = cli("testnet", "--port", str(port), "--host", HOST)
        async with running(testnet_argv, "testnet") as testnet:
            assert (await testnet.expect("bootstrap: ")).startswith(bootstrap)
            await stderr_says(reader, JOINED)
            async with running(writer_argv, "writer") as writer:
                assert (await writer.expect("hypercore key: ")).strip() == key
                while True:
                    line = await reader.readline(90)
                    if line.startswith("Block 0: "):
                        break
                assert line == "Block 0: written before the network existed", reader.describe()
                await writer.write_line("and after")
                assert await reader.readline(90) == "Block 1: and after", reader.describe()
                assert await writer.stop(signal.SIGTERM) == 0, writer.describe()
            assert await reader.stop(signal.SIGTERM) == 0, reader.describe()
            assert await testnet.stop(signal.SIGTERM) == 0, testnet.describe()
    assert "Traceback" not in reader.stderr, reader.describe()
    assert [line for line in reader.stderr.splitlines() if line.strip()] == [
        f"hyperpunch: {WAITING} ({bootstrap}); still trying",
        f"hyperpunch: {JOINED} {bootstrap}",
    ], reader.describe()
