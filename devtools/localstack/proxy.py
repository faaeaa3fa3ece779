"""A TCP proxy on a loopback port that can add latency, for the fault suite's slow broker and
slow Redis: every chunk is forwarded ``delay_s`` after it arrived, in order, each direction
on its own (so a slow link stays a slow link, not a stalled one)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

from devtools.localstack.process import free_port


class LatencyProxy:
    """127.0.0.1:``port`` -> 127.0.0.1:``target_port``; ``delay_s`` can change at any time."""

    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self.delay_s = 0.0
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="latency-proxy", daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> LatencyProxy:
        self._thread.start()
        self._started.wait(10)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", self.port)
        )
        self._started.set()
        self._loop.run_forever()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, upstream_writer),
            self._pipe(upstream_reader, writer),
            return_exceptions=True,
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def forward() -> None:
            while True:
                due, chunk = await queue.get()
                if not chunk:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(chunk)
                await writer.drain()

        sender = asyncio.ensure_future(forward())
        try:
            while True:
                chunk = await reader.read(65536)
                queue.put_nowait((time.monotonic() + self.delay_s, chunk))
                if not chunk:
                    break
            await sender
        except OSError:
            sender.cancel()
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()
