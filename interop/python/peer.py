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
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)

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


async def ping(ws, conn_id, payload=b"peer-ping", waiter=None):
    # The waiter completes only when a pong with the same payload arrives.
    if waiter is None:
        waiter = await ws.ping(payload)
    await asyncio.wait_for(waiter, 10)
    emit(id=conn_id, event="pong", data=payload.decode())


def blast_message(i, size):
    """Message i of mode blast: byte j is (31j + i) mod 256."""
    period = bytes((31 * j + i) & 0xFF for j in range(256))
    return (period * (size // 256 + 1))[:size]


def deflate_spec(url):
    """The query parameter deflate of url, a JSON object of RFC 7692
    parameter names (true or a number of window bits), or false to turn
    compression off; None without it, for the library's defaults."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    if "deflate" not in query:
        return None
    spec = json.loads(query["deflate"][0])
    if spec is not False:
        spec.pop("threshold", None)  # ws's; websockets compresses everything
    return spec


def deflate_extensions(spec, factory):
    """The extensions argument for a deflate spec: [] for off."""
    if spec is False:
        return []
    return [factory(**spec)]


def thirds(data):
    """Splits a message into three fragments; a str on rune boundaries,
    since websockets sends a fragmented text message from str parts."""
    k = -(-len(data) // 3)
    return [data[:k], data[k : 2 * k], data[2 * k :]]


async def run(ws, mode, conn_id, query, header, extensions=""):
    """Drives connection ws in mode; query is its URL's query, as parsed by
    parse_qs, which some modes read."""
    emit(id=conn_id, event="open", subprotocol=ws.subprotocol or "", header=header, extensions=extensions)

    def arg(name, default):
        return query.get(name, [default])[0]

    tasks = []
    if mode == "drop":
        ws.transport.abort()
        return
    if mode == "close":
        await ws.close(int(arg("code", "4001")), arg("reason", "bye"))
    elif mode == "ping":
        tasks.append(asyncio.create_task(ping(ws, conn_id, arg("payload", "peer-ping").encode())))
    elif mode == "fragments":
        await ws.send(FRAGMENTED_TEXT)
        await ws.send(FRAGMENTED_BINARY)
    elif mode == "pong":
        # An unsolicited pong, a heartbeat (RFC 6455 section 5.5.3).
        await ws.pong(b"unsolicited")
    elif mode == "fragping":
        # A ping between the frames of a message (RFC 6455 section 5.4).
        async def parts():
            yield FRAGMENTED_TEXT[0]
            waiter = await ws.ping(b"mid-message")
            tasks.append(asyncio.create_task(ping(ws, conn_id, b"mid-message", waiter)))
            yield "".join(FRAGMENTED_TEXT[1:])

        await ws.send(parts())
    try:
        # The other side may close before the last message of blast leaves.
        for i in range(int(arg("count", "0")) if mode == "blast" else 0):
            await ws.send(blast_message(i, int(arg("size", "0"))))
        while True:
            msg = await ws.recv()
            if mode != "sink":
                await ws.send(thirds(msg) if mode == "fragecho" else msg)
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
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    conn_id = query.get("id", [""])[0]
    await run(ws, url.path.lstrip("/"), conn_id, query, ws.request_headers.get(HEADER, ""))


class ServerProtocol(websockets.WebSocketServerProtocol):
    """Negotiates permessage-deflate as the request path's deflate
    parameter says, if it has one."""

    def process_extensions(self, headers, available_extensions):
        spec = deflate_spec(self.path)
        if spec is not None:
            available_extensions = deflate_extensions(spec, ServerPerMessageDeflateFactory)
        return websockets.WebSocketServerProtocol.process_extensions(headers, available_extensions)


async def connect(cmd):
    spec = deflate_spec(cmd["url"])
    ext = {}
    if spec is not None:
        ext = {"compression": None, "extensions": deflate_extensions(spec, ClientPerMessageDeflateFactory)}
    try:
        ws = await websockets.connect(
            cmd["url"],
            **ext,
            subprotocols=OFFERED,
            extra_headers={HEADER: cmd["id"]},
            max_size=MAX_SIZE,
            open_timeout=10,
        )
    except Exception as exc:
        emit(id=cmd["id"], event="error", reason=repr(exc))
        return
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(cmd["url"]).query, keep_blank_values=True)
    await run(ws, cmd["mode"], cmd["id"], query, "", ws.response_headers.get("Sec-WebSocket-Extensions", ""))


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
        create_protocol=ServerProtocol,
    )
    emit(event="listening", port=server.sockets[0].getsockname()[1], tls=tls is not None)
    done = asyncio.Event()
    pending = []
    threading.Thread(target=read_commands, args=(asyncio.get_running_loop(), done, pending), daemon=True).start()
    await done.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
