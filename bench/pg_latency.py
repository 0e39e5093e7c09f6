"""A TCP relay in front of PostgreSQL that delays every chunk by a fixed time in each
direction: PostgreSQL on another host (a managed database, another availability zone) on a
machine where it runs beside the panel. Used to measure what a worker's event loop pays for
its database round trips (`PANEL_DATABASE_THREADS`).

    .venv/bin/python bench/pg_latency.py LISTEN_PORT [DELAY_MS] [TARGET_PORT]

Prints the measured round trip of `SELECT 1` through it, then relays until killed. asyncio
timers round a delay up to the millisecond: 0.5 ms each way is about 1 ms each way here.
"""

from __future__ import annotations

import asyncio
import sys
import time


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    async def send() -> None:
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, data))
    except ConnectionError:
        pass
    queue.put_nowait((0.0, None))
    await sender


async def _serve(port: int, delay: float, target: int) -> None:
    async def relay(client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, server_writer, delay), _pipe(server_reader, client_writer, delay),
                             return_exceptions=True)

    server = await asyncio.start_server(relay, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def round_trip_ms(port: int, count: int = 200) -> float:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as connection:
        connection.execute("SELECT 1")
        started = time.perf_counter()
        for _ in range(count):
            connection.execute("SELECT 1").fetchone()
        return (time.perf_counter() - started) / count * 1000


def main() -> None:
    port = int(sys.argv[1])
    delay_ms = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    target = int(sys.argv[3]) if len(sys.argv) > 3 else 5432
    asyncio.run(_serve(port, delay_ms / 1000, target))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        print(f"SELECT 1 round trip through port {sys.argv[2]}: {round_trip_ms(int(sys.argv[2])):.2f} ms")
    else:
        main()
