"""Debian's python3-websockets as a peer of the Starling interop matrix.

Speaks the line protocol of interop/internal/peer.Process: prints
{"event":"listening","port":N} once its server listens, reads
{"cmd":"connect",...} commands on stdin, and prints every event as one JSON
line on stdout. Exits when stdin closes. Run it with Debian's /usr/bin/python3.
"""

import asyncio
import json
import os
import ssl
import sys
import threading
import urllib.parse

import websockets

MAX_SIZE = 64 << 20
SUBPROTOCOL = "chat.v1"
OFFERED = ["bogus.v9", SUBPROTOCOL]
HEADER = "X-Starling-Test"
# websockets sends a fragmented text message from str parts, so the split
# is rune-aligned here.
FRAGMENTED_TEXT = ["frag-α|", "frag-β|", "frag-γ"]
FRAGMENTED_BINARY = [bytes([0, 1, 2]), bytes([3, 4, 5, 6]), bytes([0xFF, 0xFE])]


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


async def ping(ws, conn_id):
    # The waiter completes only when a pong with the same payload arrives.
    waiter = await ws.ping(b"peer-ping")
    await asyncio.wait_for(waiter, 10)
    emit(id=conn_id, event="pong", data="peer-ping")


async def run(ws, mode, conn_id, header, extensions=""):
    emit(id=conn_id, event="open", subprotocol=ws.subprotocol or "", header=header, extensions=extensions)
    tasks = []
    if mode == "drop":
        ws.transport.abort()
        return
    if mode == "close":
        await ws.close(4001, "bye")
    elif mode == "ping":
        tasks.append(asyncio.create_task(ping(ws, conn_id)))
    elif mode == "fragments":
        await ws.send(FRAGMENTED_TEXT)
        await ws.send(FRAGMENTED_BINARY)
    try:
        while True:
            await ws.send(await ws.recv())
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()
    for task in tasks:
        try:
            await task
        except Exception as exc:  # reported, so the cell fails with the reason
            emit(id=conn_id, event="error", reason=repr(exc))
    emit(id=conn_id, event="close", code=ws.close_code, reason=ws.close_reason or "")


async def serve(ws, path=None):
    url = urllib.parse.urlsplit(ws.path)
    conn_id = urllib.parse.parse_qs(url.query).get("id", [""])[0]
    await run(ws, url.path.lstrip("/"), conn_id, ws.request_headers.get(HEADER, ""))


async def connect(cmd):
    try:
        ws = await websockets.connect(
            cmd["url"],
            subprotocols=OFFERED,
            extra_headers={HEADER: cmd["id"]},
            max_size=MAX_SIZE,
            open_timeout=10,
        )
    except Exception as exc:
        emit(id=cmd["id"], event="error", reason=repr(exc))
        return
    await run(ws, cmd["mode"], cmd["id"], "", ws.response_headers.get("Sec-WebSocket-Extensions", ""))


def read_commands(loop, done, pending):
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("cmd") == "connect":
            fut = asyncio.run_coroutine_threadsafe(connect(cmd), loop)
            pending.append(fut)
        else:
            loop.call_soon_threadsafe(lambda: emit(id="", event="error", reason="unknown command"))
    loop.call_soon_threadsafe(done.set)


def server_tls():
    """The server's TLS context when STARLING_TLS_CERT and STARLING_TLS_KEY
    name PEM files, else None. The client trusts the CA in SSL_CERT_FILE,
    set by the test."""
    cert = os.environ.get("STARLING_TLS_CERT")
    if not cert:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, os.environ["STARLING_TLS_KEY"])
    return ctx


async def main():
    tls = server_tls()
    server = await websockets.serve(
        serve,
        "127.0.0.1",
        0,
        subprotocols=[SUBPROTOCOL],
        max_size=MAX_SIZE,
        ssl=tls,
    )
    emit(event="listening", port=server.sockets[0].getsockname()[1], tls=tls is not None)
    done = asyncio.Event()
    pending = []
    threading.Thread(target=read_commands, args=(asyncio.get_running_loop(), done, pending), daemon=True).start()
    await done.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
