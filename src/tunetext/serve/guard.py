"""The service's front door, as pure ASGI: the key is checked and the body bounded before any of it is read.

FastAPI checks dependencies (the API key among them) only after it has read and parsed the whole body, so
an unauthenticated client could make the server hold any amount of memory. Here the key is checked from
the headers alone, a declared Content-Length over the limit is refused at once, and a body sent without one
(chunked) is read only up to the limit.
"""

from __future__ import annotations

import hmac
import json
from typing import Awaitable, Callable, MutableMapping

Scope = MutableMapping
Message = MutableMapping
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_KEY_HEADER = "X-API-Key"


class BodyGuard:
    """Refuse a request without the key (401) or with a body over `max_body_bytes` (413), reading none of it.

    Paths in `public_paths` (health, docs) need no key; every other path does when `api_key` is set, so a
    route added later is guarded by default. The body of an accepted request is read here, at most
    `max_body_bytes`, and handed on as JSON whatever its Content-Type: the API takes only JSON, and `curl -d`
    sends a form type.
    """

    def __init__(self, app: ASGIApp, *, api_key: str | None, max_body_bytes: int, public_paths: tuple[str, ...]):
        self.app = app
        self.api_key = api_key.encode() if api_key is not None else None
        self.max_body_bytes = max_body_bytes
        self.public_paths = public_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if self.api_key is not None and not self._is_public(scope["path"]):
            # compare_digest: the time taken must not reveal how much of a guessed key was right.
            if not hmac.compare_digest(headers.get(API_KEY_HEADER.lower().encode(), b""), self.api_key):
                return await _refuse(send, 401, f"missing or wrong API key: send it in the {API_KEY_HEADER} header.",
                                     [(b"www-authenticate", API_KEY_HEADER.encode())])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return await _refuse(send, 413, self._too_large(f"{int(declared):,} bytes"))
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return await _refuse(send, 413, self._too_large(f"over {self.max_body_bytes:,} bytes"))
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if size:
            scope = dict(scope, headers=[(name, value) for name, value in scope["headers"] if name != b"content-type"]
                         + [(b"content-type", b"application/json")])
        await self.app(scope, _replay(messages, receive), send)

    def _is_public(self, path: str) -> bool:
        return any(path == public or path.startswith(public.rstrip("/") + "/") for public in self.public_paths)

    def _too_large(self, size: str) -> str:
        return (f"the request body is {size}; the limit is {self.max_body_bytes:,} (max_texts x max_chars as "
                "JSON). Send fewer or shorter texts per request.")


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The body messages already read, then the client's own (a later one is the disconnect)."""
    pending = iter(messages)

    async def replayed() -> Message:
        return next(pending, None) or await receive()

    return replayed


async def _refuse(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})
