"""Client flavours. Every flavour imports its library lazily (inside ``open``) so that merely
importing this module is cheap and a missing optional peer only skips that flavour.

A flavour answers one question (``ask`` -> answer text) and consumes one stream
(``stream`` -> number of non-empty text deltas received).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

if TYPE_CHECKING:
    import aiohttp
    import httpx
    import openai

API_KEY_FINI = "fini_bench"
API_KEY_OPENAI = "sk-bench"
FINI_PATH = "/v2/bots/ask-question"
OPENAI_PATH = "/v1/chat/completions"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _probe(code: str) -> bool:
    """Run ``code`` in a fresh interpreter (cwd = repo root); True if it exits 0."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60, cwd=REPO_ROOT, check=False
    )
    return proc.returncode == 0


class Flavour(ABC):
    name: ClassVar[str]
    #: Modules that must be importable; otherwise the flavour is skipped.
    requires: ClassVar[tuple[str, ...]]
    #: Request counts are multiplied by this (slow peers); rates stay comparable.
    scale: ClassVar[float] = 1.0
    #: Per-workload overrides of ``scale``.
    workload_scale: ClassVar[dict[str, float]] = {}

    def __init__(self, base_url: str, max_connections: int = 100) -> None:
        self.base_url = base_url
        self.max_connections = max_connections

    @classmethod
    def scale_for(cls, workload: str) -> float:
        return cls.workload_scale.get(workload, cls.scale)

    @classmethod
    def skip_reason(cls) -> str | None:
        """Why this flavour cannot run here (printed as ``skipped: ...``), else ``None``."""
        for mod in cls.requires:
            if importlib.util.find_spec(mod) is None:
                return f"{mod} (not installed)"
        return None

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ask(self, question: str) -> str: ...

    @abstractmethod
    async def stream(self, question: str, chunks: int) -> int: ...


# --------------------------------------------------------------------------------------------
# raw aiohttp + msgspec: the practical limit, denominator of every ratio
# --------------------------------------------------------------------------------------------


class Source(msgspec.Struct):
    answer: str
    score: float
    source_id: str
    source_type: str


class Message(msgspec.Struct):
    role: str
    content: str


class Answer(msgspec.Struct):
    answer: str
    answer_uuid: str
    based_on: list[Source] = []
    categories: list[str] = []
    messages: list[Message] = []
    success: int = 1


class StreamEvent(msgspec.Struct):
    content: str | None = None
    based_on: list[Source] | None = None


class AskRequest(msgspec.Struct, omit_defaults=True):
    question: str
    stream: bool = False


class RawFlavour(Flavour):
    name = "raw"
    requires = ("aiohttp", "msgspec")

    _session: aiohttp.ClientSession

    async def open(self) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.max_connections)
        )
        self._url = self.base_url + FINI_PATH
        self._headers = {
            "Authorization": f"Bearer {API_KEY_FINI}",
            "Content-Type": "application/json",
        }
        self._encode = msgspec.json.Encoder().encode
        self._decode_answer = msgspec.json.Decoder(Answer).decode
        self._decode_event = msgspec.json.Decoder(StreamEvent).decode

    async def close(self) -> None:
        await self._session.close()

    async def ask(self, question: str) -> str:
        body = self._encode(AskRequest(question))
        async with self._session.post(self._url, data=body, headers=self._headers) as resp:
            resp.raise_for_status()
            return self._decode_answer(await resp.read()).answer

    async def stream(self, question: str, chunks: int) -> int:
        body = self._encode(AskRequest(question, stream=True))
        headers = {**self._headers, "x-bench-chunks": str(chunks)}
        decode = self._decode_event
        n = 0
        buf = b""
        async with self._session.post(self._url, data=body, headers=headers) as resp:
            resp.raise_for_status()
            async for data in resp.content.iter_any():
                lines = (buf + data).split(b"\n") if buf else data.split(b"\n")
                buf = lines.pop()
                for line in lines:
                    if line[:6] != b"data: ":
                        continue
                    payload = line[6:]
                    if payload == b"[DONE]":
                        return n
                    if decode(payload).content:
                        n += 1
        return n


# --------------------------------------------------------------------------------------------
# fini-async: the SDK under test (typed as Any: it is developed concurrently)
# --------------------------------------------------------------------------------------------


class FiniAsyncFlavour(Flavour):
    name = "fini-async"
    requires = ("fini_async",)

    _client: Any

    @classmethod
    def skip_reason(cls) -> str | None:
        if importlib.util.find_spec("fini_async") is None or not _probe(
            "from fini_async import FiniClient"
        ):
            return "fini_async not importable"
        return None

    async def open(self) -> None:
        mod: Any = importlib.import_module("fini_async")
        self._client = mod.FiniClient(
            api_key=API_KEY_FINI, base_url=self.base_url, max_connections=self.max_connections
        )
        await self._client.__aenter__()

    async def close(self) -> None:
        await self._client.__aexit__(None, None, None)

    async def ask(self, question: str) -> str:
        answer: Any = await self._client.bots.ask_question(question)
        text: str = answer.answer
        return text

    async def stream(self, question: str, chunks: int) -> int:
        n = 0
        headers = {"x-bench-chunks": str(chunks)}
        async with self._client.bots.stream_question(question, extra_headers=headers) as stream:
            async for text in stream.text_stream:
                if text:
                    n += 1
        return n


# --------------------------------------------------------------------------------------------
# httpx + stdlib json
# --------------------------------------------------------------------------------------------


class HttpxFlavour(Flavour):
    name = "httpx"
    requires = ("httpx",)
    # httpcore's pool re-scans every connection for every queued request (O(n^2) at
    # concurrency 64), which makes 5,000 requests take ~30 s on a small machine.
    workload_scale = {"plain": 0.2}

    _client: httpx.AsyncClient

    async def open(self) -> None:
        import httpx

        limits = httpx.Limits(
            max_connections=self.max_connections, max_keepalive_connections=self.max_connections
        )
        self._client = httpx.AsyncClient(base_url=self.base_url, limits=limits)
        self._headers = {
            "Authorization": f"Bearer {API_KEY_FINI}",
            "Content-Type": "application/json",
        }

    async def close(self) -> None:
        await self._client.aclose()

    async def ask(self, question: str) -> str:
        body = json.dumps({"question": question}).encode()
        resp = await self._client.post(FINI_PATH, content=body, headers=self._headers)
        resp.raise_for_status()
        text: str = json.loads(resp.content)["answer"]
        return text

    async def stream(self, question: str, chunks: int) -> int:
        body = json.dumps({"question": question, "stream": True}).encode()
        headers = {**self._headers, "x-bench-chunks": str(chunks)}
        n = 0
        async with self._client.stream("POST", FINI_PATH, content=body, headers=headers) as resp:
            resp.raise_for_status()
            async for line in resp.aiter_lines():
                if not line.startswith("data: "):
                    continue
                payload = line[6:]
                if payload == "[DONE]":
                    break
                if json.loads(payload).get("content"):
                    n += 1
        return n


# --------------------------------------------------------------------------------------------
# official OpenAI SDK against the OpenAI-format endpoint
# --------------------------------------------------------------------------------------------


class OpenAIFlavour(Flavour):
    name = "openai"
    requires: ClassVar[tuple[str, ...]] = ("openai",)
    scale = 0.2

    _client: openai.AsyncOpenAI

    def _http_client(self) -> Any:
        return None  # the SDK's default (httpx-based) transport

    async def open(self) -> None:
        import openai

        kwargs: dict[str, Any] = {}
        http_client = self._http_client()
        if http_client is not None:
            kwargs["http_client"] = http_client
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url + "/v1", api_key=API_KEY_OPENAI, max_retries=0, **kwargs
        )

    async def close(self) -> None:
        await self._client.close()

    async def ask(self, question: str) -> str:
        completion = await self._client.chat.completions.create(
            model="bench", messages=[{"role": "user", "content": question}]
        )
        return completion.choices[0].message.content or ""

    async def stream(self, question: str, chunks: int) -> int:
        stream = await self._client.chat.completions.create(
            model="bench",
            messages=[{"role": "user", "content": question}],
            stream=True,
            extra_headers={"x-bench-chunks": str(chunks)},
        )
        n = 0
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    n += 1
        return n


class OpenAIAiohttpFlavour(OpenAIFlavour):
    """OpenAI SDK with its optional aiohttp transport (``openai.DefaultAioHttpClient``)."""

    name = "openai-aiohttp"
    requires = ("openai", "aiohttp")

    @classmethod
    def skip_reason(cls) -> str | None:
        base = super().skip_reason()
        if base is not None:
            return base
        # Probe in a fresh interpreter: importing openai here would bloat the runner.
        probe = "import openai; openai.DefaultAioHttpClient()"
        if _probe(probe):
            return None
        return "openai-aiohttp (openai.DefaultAioHttpClient / openai[aiohttp] not installed)"

    def _http_client(self) -> Any:
        import openai

        return openai.DefaultAioHttpClient()


FLAVOURS: dict[str, type[Flavour]] = {
    cls.name: cls
    for cls in (RawFlavour, FiniAsyncFlavour, HttpxFlavour, OpenAIFlavour, OpenAIAiohttpFlavour)
}
