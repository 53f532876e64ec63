"""A protocol-faithful fake of Gemini's REST `generateContent` endpoint, for tests and benchmarks.

The engine is tested with the real google-genai SDK pointed at this server through `base_url`, so what
is checked here is the wire protocol the SDK really speaks (DESIGN.md section 5), not a mock of our own
assumptions: the path and API version, the `x-goog-api-key` header, the JSON body with base64 image
parts, and the real response and error shapes.

Behaviour is scripted per test with `FakeGemini.script(...)`: each request consumes the next scripted
reply, then the default one. A reply is a kind name (see `KINDS`), an HTTP error status (see `ERRORS`)
or a `Reply` (for example `slow(2.0)`).

Standalone, for manual runs and benchmarks (serves images forever, accepts any non-empty key):

    python -m tests.gemini_server --port 8765 --delay 5
"""
from __future__ import annotations

import argparse
import base64
import binascii
import io
import json
import re
import socket
import struct
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Union
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

# How long a request waits for the company `FakeGemini.together` asks for: less than the tests' client
# timeouts, so that calls made one after another get their answer and the test fails on its assertion.
HOLD_S = 1.5
PATH_RE = re.compile(r"^/(?P<version>v1|v1beta)/models/(?P<model>[^/:]+):generateContent$")

KINDS = frozenset(
    {"image", "jpeg_labelled_png", "blocked", "image_safety", "no_image", "declined", "image_other", "malformed",
     "reset"}
)

# Real error envelopes as Google sends them: status name and message per HTTP code.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Unable to process input image. Please retry or report in "
                              "https://developers.generativeai.google/guide/troubleshooting"),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials."),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "models/unknown is not found for API version v1, or is not supported for "
                       "generateContent."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred. Please retry or report in "
                      "https://developers.generativeai.google/guide/troubleshooting"),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}

# Output sizes of Gemini 3 Pro Image at 1K, per aspect ratio.
SIZES_1K: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "2:3": (848, 1264), "3:2": (1264, 848), "3:4": (896, 1200),
    "4:3": (1200, 896), "4:5": (928, 1152), "5:4": (1152, 928), "9:16": (768, 1376),
    "16:9": (1376, 768), "21:9": (1584, 672),
}

# ... and at 2K (imageConfig.imageSize "2K").
SIZES_2K: dict[str, tuple[int, int]] = {
    "1:1": (2048, 2048), "2:3": (1696, 2528), "3:2": (2528, 1696), "3:4": (1792, 2400),
    "4:3": (2400, 1792), "4:5": (1856, 2304), "5:4": (2304, 1856), "9:16": (1536, 2752),
    "16:9": (2752, 1536), "21:9": (3168, 1344),
}
SIZES = {"1K": SIZES_1K, "2K": SIZES_2K}

USAGE = {"promptTokenCount": 1290, "candidatesTokenCount": 1120, "thoughtsTokenCount": 180,
         "totalTokenCount": 2590}
# An answer in words only: the prompt, a short paragraph and the thinking before it.
TEXT_USAGE = {"promptTokenCount": 1290, "candidatesTokenCount": 64, "thoughtsTokenCount": 236,
              "totalTokenCount": 1590}
# What gemini-3-pro-image writes when it declines a well-known character, with HTTP 200 and STOP.
DECLINED_TEXT = ("I can't create images of that character, as it is protected intellectual property. "
                 "I can design an original mascot in a similar style instead.")
# What it writes when it gives up drawing for another reason (finishReason IMAGE_OTHER). Its
# finishMessage is sent too, but google-genai 3.6.1 does not read that field.
IMAGE_OTHER_MESSAGE = "I could not generate this image. Try a simpler scene or a clearer source photo."
NO_IMAGE_TEXT = "I can describe the mockup, but I could not draw it this time."


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a kind from KINDS, or kind "error" with an HTTP status; delay_s before it."""

    kind: str = "image"
    status: int = 200
    delay_s: float = 0.0


ScriptItem = Union[str, int, Reply]


def slow(seconds: float) -> Reply:
    """An image that arrives only after `seconds`, to trigger client timeouts."""
    return Reply("image", delay_s=seconds)


def to_reply(item: ScriptItem) -> Reply:
    """Normalise the short forms used in tests ("blocked", 429) into a Reply."""
    if isinstance(item, Reply):
        return item
    if isinstance(item, int):
        if item not in ERRORS:
            raise ValueError(f"no scripted envelope for HTTP {item}")
        return Reply("error", status=item)
    if item not in KINDS:
        raise ValueError(f"unknown reply kind {item!r}; expected one of {sorted(KINDS)}")
    return Reply(item)


@dataclass
class RecordedRequest:
    """What the SDK really sent, decoded."""

    path: str
    api_version: str | None
    model: str | None
    headers: dict[str, str]
    body: dict[str, Any] | None
    texts: list[str] = field(default_factory=list)
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (mime type, decoded bytes)

    @property
    def generation_config(self) -> dict[str, Any]:
        return (self.body or {}).get("generationConfig", {})


class BadRequest(ValueError):
    """A request body the real API would answer with 400 INVALID_ARGUMENT."""


def decode_base64(data: str) -> bytes:
    """Decode standard or URL-safe base64, as Google accepts both (the SDK sends URL-safe)."""
    normalised = data.replace("-", "+").replace("_", "/")
    normalised += "=" * (-len(normalised) % 4)
    try:
        return base64.b64decode(normalised, validate=True)
    except binascii.Error as exc:
        raise BadRequest(f"Invalid value at 'contents[0].parts[].inline_data.data' (TYPE_BYTES), "
                         f"Base64 decoding failed: {exc}") from exc


def parse_body(raw: bytes) -> tuple[dict[str, Any], list[str], list[tuple[str, bytes]]]:
    """Validate a generateContent body and pull out its text and image parts, in order."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"Invalid JSON payload received. {exc}") from exc
    contents = body.get("contents") if isinstance(body, dict) else None
    if not contents:
        raise BadRequest("* GenerateContentRequest.contents: contents is not specified")
    texts: list[str] = []
    images: list[tuple[str, bytes]] = []
    for content in contents:
        for part in content.get("parts") or []:
            blob = part.get("inlineData") or part.get("inline_data")
            if "text" in part:
                texts.append(part["text"])
            elif blob:
                mime = blob.get("mimeType") or blob.get("mime_type")
                if not mime or "data" not in blob:
                    raise BadRequest("* GenerateContentRequest.contents[0].parts[].inline_data: "
                                     "mime_type and data are required")
                images.append((mime, decode_base64(blob["data"])))
            else:
                raise BadRequest("* GenerateContentRequest.contents[0].parts[]: part is empty")
    return body, texts, images


def make_image(call_number: int, size: tuple[int, int], draft: bool = False) -> Image.Image:
    """A picture that differs per call (colour and label) so tests can tell the candidates apart."""
    if draft:
        return Image.new("RGB", size, (128, 128, 128))
    colour = ((call_number * 67) % 256, (call_number * 131 + 40) % 256, (call_number * 197 + 80) % 256)
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4), fill="white")
    draw.text((size[0] // 2, size[1] // 2), f"call {call_number}", fill="black")
    return image


def encode(image: Image.Image, fmt: str) -> str:
    """Standard base64, which is what Google puts in responses."""
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class FakeGemini:
    """The fake server: start it, point the SDK's base_url at `url`, script replies, inspect `requests`."""

    def __init__(self, *, api_key: str | None = "test-key", delay_s: float = 0.0,
                 default: ScriptItem = "image", host: str = "127.0.0.1", port: int = 0,
                 quiet: bool = True):
        self.api_key = api_key  # None accepts any non-empty key
        self.delay_s = delay_s
        self.default = to_reply(default)
        self.quiet = quiet
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        # Concurrency, seen without timing anything: each request waits until `together` requests are
        # being answered at once (up to HOLD_S), and `most_in_flight` is the most there ever were.
        self.together = 1
        self.most_in_flight = 0
        self._in_flight = 0
        self._flight = threading.Condition()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *items: ScriptItem) -> None:
        """Queue replies for the next requests, in order; afterwards the default reply is used."""
        replies = [to_reply(item) for item in items]
        with self._lock:
            self._script.extend(replies)

    def start(self) -> "FakeGemini":
        # A short poll interval makes stop() (and so each test's teardown) return in milliseconds.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True,
                                        name="fake-gemini")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def __enter__(self) -> "FakeGemini":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def key_error(self, key: str | None) -> tuple[int, str, str] | None:
        """The real answers: no key is 403, a wrong key is 400 API_KEY_INVALID."""
        if not key:
            return (403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers "
                    "without established identity). Please use API Key or other form of API "
                    "consumer identity to call this API.")
        if self.api_key is not None and key != self.api_key:
            return (400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        return None

    def record(self, request: RecordedRequest) -> int:
        """Store the request and return its 1-based call number."""
        with self._lock:
            self.requests.append(request)
            return len(self.requests)

    def next_reply(self) -> Reply:
        with self._lock:
            return self._script.popleft() if self._script else self.default

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """Count a request while it is answered, holding it first until `together` are (or HOLD_S passed)."""
        with self._flight:
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
            self._flight.notify_all()
            self._flight.wait_for(lambda: self._in_flight >= self.together, timeout=HOLD_S)
        try:
            yield
        finally:
            with self._flight:
                self._in_flight -= 1

    def pause(self, seconds: float) -> bool:
        """Sleep, but wake up at shutdown; returns True if the server is stopping."""
        return seconds > 0 and self._stopping.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like Google's front end
    server_version = "ESF"

    @property
    def fake(self) -> FakeGemini:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if not self.fake.quiet:
            super().log_message(format, *args)

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = PATH_RE.match(urlsplit(self.path).path)
        record = RecordedRequest(path=self.path, api_version=match and match["version"],
                                 model=match and match["model"], headers=dict(self.headers),
                                 body=None)
        call_number = self.fake.record(record)
        try:
            with self.fake.in_flight():
                self._handle(raw, match, record, call_number)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout); nothing left to answer

    def _handle(self, raw: bytes, match: re.Match[str] | None, record: RecordedRequest,
                call_number: int) -> None:
        if match is None:
            return self._send_error(404, "NOT_FOUND", f"Requested entity was not found: {self.path}")
        key_error = self.fake.key_error(self.headers.get("x-goog-api-key"))
        if key_error:
            return self._send_error(*key_error)
        try:
            record.body, record.texts, record.images = parse_body(raw)
        except BadRequest as exc:
            return self._send_error(400, "INVALID_ARGUMENT", str(exc))
        reply = self.fake.next_reply()
        if self.fake.pause(self.fake.delay_s + reply.delay_s):
            return self._reset()
        self._answer(reply, record, call_number)

    def _answer(self, reply: Reply, record: RecordedRequest, call_number: int) -> None:
        if reply.kind == "error":
            return self._send_error(reply.status, *ERRORS[reply.status])
        if reply.kind == "reset":
            return self._reset()
        if reply.kind == "malformed":
            return self._send(200, b'{"candidates": [{"content": {"parts": [{"inlineData": {')
        image_config = record.generation_config.get("imageConfig", {})
        sizes = SIZES.get(image_config.get("imageSize", "1K"), SIZES_1K)
        size = sizes.get(image_config.get("aspectRatio", "1:1"), sizes["1:1"])
        self._send_json(200, _success_body(reply.kind, record.model or "", call_number, size))

    def _send_error(self, status: int, status_name: str, message: str) -> None:
        self._send_json(status, {"error": {"code": status, "message": message, "status": status_name}})

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode())

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST and no response, like a failing load balancer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


def _success_body(kind: str, model: str, call_number: int, size: tuple[int, int]) -> dict[str, Any]:
    """HTTP 200 bodies, shaped like gemini-3-pro-image's real answers."""
    envelope: dict[str, Any] = {"usageMetadata": dict(USAGE), "modelVersion": model,
                                "responseId": f"fake-{call_number}"}
    if kind == "blocked":
        envelope["promptFeedback"] = {"blockReason": "PROHIBITED_CONTENT"}
        envelope["usageMetadata"] = {"promptTokenCount": USAGE["promptTokenCount"],
                                     "totalTokenCount": USAGE["promptTokenCount"]}
        return envelope
    if kind == "image_safety":
        candidate: dict[str, Any] = {"finishReason": "IMAGE_SAFETY", "index": 0,
                                     "finishMessage": "Unable to show the generated image."}
    elif kind in ("no_image", "declined"):
        envelope["usageMetadata"] = dict(TEXT_USAGE)
        candidate = {"content": {"role": "model", "parts": [
            {"text": "**Checking the character**", "thought": True},
            {"text": NO_IMAGE_TEXT if kind == "no_image" else DECLINED_TEXT}]},
            "finishReason": "NO_IMAGE" if kind == "no_image" else "STOP", "index": 0}
    elif kind == "image_other":
        envelope["usageMetadata"] = dict(TEXT_USAGE)
        candidate = {"content": {"role": "model", "parts": [{"text": IMAGE_OTHER_MESSAGE}]},
                     "finishReason": "IMAGE_OTHER", "index": 0, "finishMessage": "Unable to show the generated image."}
    else:
        final_format = "JPEG" if kind == "jpeg_labelled_png" else "PNG"
        candidate = {"content": {"role": "model", "parts": [
            {"text": "**Planning the composition**", "thought": True},
            {"inlineData": {"mimeType": "image/png", "data": encode(make_image(0, size, draft=True),
                                                                    "PNG")}, "thought": True},
            {"inlineData": {"mimeType": "image/png",
                            "data": encode(make_image(call_number, size), final_format)},
             "thoughtSignature": base64.b64encode(f"signature-{call_number}".encode()).decode()},
        ]}, "finishReason": "STOP", "index": 0}
    envelope["candidates"] = [candidate]
    return envelope


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Gemini generateContent server (images only).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--api-key", default=None, help="required key (default: any non-empty key)")
    args = parser.parse_args(argv)
    fake = FakeGemini(api_key=args.api_key, delay_s=args.delay, host=args.host, port=args.port,
                      quiet=False)
    print(f"Fake Gemini listening on {fake.url} (set GEMINI_BASE_URL={fake.url})", flush=True)
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
