"""The floor for `make bench`: a bare python-socketio server that answers every "event"
on the "/_event" namespace with the same payload (served by uvicorn, one worker)."""

import socketio

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")


@sio.on("event", namespace="/_event")
async def echo(sid, data):
    await sio.emit("event", data, to=sid, namespace="/_event")


app = socketio.ASGIApp(sio, socketio_path="_event")
