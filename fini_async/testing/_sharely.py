"""``FakeSharely``: an emulator of Sharely's knowledge API on loopback.

It issues real (unsigned-checked but well-formed) JWTs with ``exp``, refuses expired or revoked
tokens with 401, checks the ``organizationid`` header, parses multipart uploads as a stream (a
100 MB upload is hashed chunk by chunk, never held in memory), and processes background uploads
and cascade deletes as Temporal-style background jobs whose state advances with time (no task
runs behind the tests' back).
"""

from __future__ import annotations

import base64
import collections
import functools
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._server import EmulatorServer, Handler, reason
from ._sharely_directory import Directory, directory_routes
from ._sharely_jobs import SharelyJob, background_jobs, now_iso
from ._sharely_search import search_routes
from ._sharely_uploads import upload
from ._sharely_writes import create, create_link, update_metadata

if TYPE_CHECKING:
    from ..sharely import SharelyClient

__all__ = [
    "SHARELY_API_KEY",
    "SHARELY_ORGANIZATION_ID",
    "SHARELY_WORKSPACE_ID",
    "FakeSharely",
    "SharelyItem",
    "SharelyJob",
]

SHARELY_API_KEY = "sk-sharely-test-key"
SHARELY_WORKSPACE_ID = "7d9f3c52-6a8e-4c1b-9f10-2b6a1d4e8c01"
SHARELY_ORGANIZATION_ID = "0f4b8e21-93c7-4d5a-8e62-a1c3b5d7e9f2"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SharelyItem:
    """One knowledge item held by the emulator."""

    id: str
    type: str
    title: str | None = None
    content: str | None = None
    url: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
    parent_id: str | None = None
    status: str = "COMPLETED"
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    #: For files: the size and SHA-256 of what was received.
    size: int | None = None
    sha256: str | None = None
    filename: str | None = None
    content_type: str | None = None

    def to_json(self, workspace_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "workspaceId": workspace_id,
            "title": self.title,
            # the list and get routes call a text item TEXT (create calls it STRING)
            "type": "TEXT" if self.type == "STRING" else self.type,
            "status": self.status,
            "metadata": dict(self.metadata),
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }
        if self.language:
            out["language"] = self.language
        if self.url:
            out["url"] = self.url
        if self.content is not None:
            out["content"] = self.content
        if self.parent_id:
            out["parentId"] = self.parent_id
        return out


class FakeSharely(EmulatorServer):
    """An emulator of Sharely's knowledge API.

    ::

        async with FakeSharely() as fake:
            async with fake.client() as sharely:
                await sharely.knowledge.create_text("hello")
            assert fake.calls["sharely.token"] == 1

    - ``token_lifetime``: seconds until a token's ``exp`` (default 24 h); ``token_exp=False``
      issues tokens without ``exp``. ``revoke_tokens()`` makes every token issued so far answer
      401 (a token that dies before its ``exp``).
    - ``processing_delay``: how long background uploads and cascade deletes stay RUNNING;
      ``fail_next_jobs(n, status)`` makes the next jobs end FAILED (or another status).
    - ``jobs_shape``: ``"temporal"`` answers ``[{workflowId, status: {code, name}, runId}]``,
      ``"jobs"`` answers ``{"jobs": [{id, status, type, ...}]}``.
    - ``clock_skew``: seconds the server's clock is off (tokens' ``iat``/``exp`` and their
      checks use it).
    - ``get_shape``: ``"plain"`` answers ``GET knowledge/{id}`` with the item, ``"wrapped"`` with
      ``{"knowledge": item}``.
    - URLs whose host ends in ``.invalid`` cannot be processed (422).
    - Route names (for ``calls`` and ``fail_next``): ``sharely.token``,
      ``sharely.knowledge.create``, ``sharely.knowledge.link``, ``sharely.knowledge.file``,
      ``sharely.upload_metadata``, ``sharely.knowledge.list``, ``sharely.knowledge.get``,
      ``sharely.knowledge.delete``, ``sharely.knowledge.metadata``, ``sharely.background_jobs``,
      and those of the workspace directory (``_sharely_directory.py``: workspace, roles,
      knowledge roles, categories, taxonomies) and of search and spaces (``_sharely_search.py``).
    - ``directory``: roles, categories, taxonomies and their assignments; ``spaces``: user
      spaces by id.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = SHARELY_API_KEY,
        workspace_id: str = SHARELY_WORKSPACE_ID,
        organization_id: str = SHARELY_ORGANIZATION_ID,
        token_lifetime: float = 24 * 3600.0,
        token_exp: bool = True,
        processing_delay: float = 0.05,
        jobs_shape: str = "temporal",
        get_shape: str = "plain",
        clock_skew: float = 0.0,
    ) -> None:
        self.api_key = api_key
        self.workspace_id = workspace_id
        self.organization_id = organization_id
        self.token_lifetime = token_lifetime
        self.token_exp = token_exp
        self.processing_delay = processing_delay
        self.jobs_shape = jobs_shape
        self.get_shape = get_shape
        #: Seconds the server's clock is ahead of (or, negative, behind) the real one.
        self.clock_skew = clock_skew
        #: token -> (expiry as epoch seconds or None, role claims)
        self.tokens: dict[str, float | None] = {}
        self.token_requests: list[dict[str, Any]] = []
        self.items: dict[str, SharelyItem] = {}
        self.uploads: dict[str, str | None] = {}  # upload file metadata id -> knowledge id
        self.jobs: dict[str, SharelyJob] = {}
        self._job_outcomes: collections.deque[str] = collections.deque()
        #: Auth failures seen, by reason (expired, revoked, unknown, organization).
        self.auth_failures: collections.Counter[str] = collections.Counter()
        #: Every multipart upload received: field values plus the file's name, type, size, hash.
        self.received_uploads: list[dict[str, Any]] = []
        self.directory = Directory()
        self.spaces: dict[str, dict[str, Any]] = {}
        super().__init__(host=host, port=port)

    # -- helpers for tests ---------------------------------------------------------------------

    def client(self, api_key: str | None = None, **kwargs: Any) -> SharelyClient:
        """A SharelyClient pointed at this emulator (fast retry backoff unless told otherwise). It
        never goes through a proxy the environment names: the emulator is on this machine."""
        from ..sharely import SharelyClient

        kwargs.setdefault("trust_env", False)
        kwargs.setdefault("workspace_id", self.workspace_id)
        kwargs.setdefault("organization_id", self.organization_id)
        client = SharelyClient(api_key or self.api_key, base_url=self.url, **kwargs)
        transport = client._transport
        transport.backoff_initial = 0.01
        transport.backoff_max = 0.05
        return client

    def revoke_tokens(self) -> None:
        """Every token issued so far now answers 401."""
        self.tokens.clear()

    def fail_next_jobs(self, times: int = 1, status: str = "FAILED") -> None:
        """The next ``times`` background jobs end in ``status`` instead of COMPLETED."""
        for _ in range(times):
            self._job_outcomes.append(status)

    def add_knowledge(
        self,
        type: str = "STRING",
        *,
        title: str | None = None,
        content: str | None = None,
        url: str | None = None,
        metadata: dict[str, Any] | None = None,
        parent_id: str | None = None,
        language: str | None = None,
    ) -> SharelyItem:
        """Put an item straight into the store (e.g. a crawled website's child pages)."""
        item = SharelyItem(
            id=str(uuid.uuid4()),
            type=type,
            title=title,
            content=content,
            url=url,
            metadata=dict(metadata or {}),
            parent_id=parent_id,
            language=language,
        )
        self.items[item.id] = item
        return item

    def add_job(self, type: str = "ROLE_ASSIGNMENT", *, delay: float | None = None) -> SharelyJob:
        """Start a background job by hand; it stays RUNNING for ``delay`` seconds."""
        return self.start_job(type, None, delay)

    def start_job(self, type_: str, on_done: Any, delay: float | None = None) -> SharelyJob:
        """A new background job of ``type_``: RUNNING for ``delay`` seconds (default
        ``processing_delay``), then the next outcome queued by ``fail_next_jobs`` (else
        COMPLETED); ``on_done(job)`` runs when it completes."""
        wait = self.processing_delay if delay is None else delay
        outcome = self._job_outcomes.popleft() if self._job_outcomes else "COMPLETED"
        job = SharelyJob(
            id=f"{type_.lower()}-{uuid.uuid4()}",
            type=type_,
            ready_at=time.monotonic() + wait,
            outcome=outcome,
            on_done=on_done,
        )
        self.jobs[job.id] = job
        return job

    # -- the server ----------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> Any:
        return {"error": reason(status), "message": message, "details": {"status": status}}

    def error(self, status: int, message: str, **details: Any) -> web.Response:
        body = {"error": reason(status), "message": message, "details": details}
        return self.reply(body, status)

    def reply(self, data: Any, status: int = 200) -> web.Response:
        """A JSON answer, with the headers Sharely sends."""
        return web.Response(
            body=json.dumps(data, separators=(",", ":")).encode(),
            status=status,
            content_type="application/json",
            headers={"X-API-Version": "v1"},
        )

    def build_app(self) -> web.Application:
        app = super().build_app()
        ws = "/v1/workspaces/{ws}"
        routes: list[tuple[str, str, str, Handler]] = [
            ("POST", "/workspaces/{ws}/generate-access-key-token", "sharely.token", self._token),
            ("POST", f"{ws}/knowledge", "sharely.knowledge.create", self._bind(create)),
            ("POST", f"{ws}/knowledge/link", "sharely.knowledge.link", self._bind(create_link)),
            ("POST", f"{ws}/knowledge/file", "sharely.knowledge.file", self._bind(upload)),
            ("GET", f"{ws}/upload-file-metadata/{{id}}", "sharely.upload_metadata", self._meta),
            ("GET", f"{ws}/knowledge", "sharely.knowledge.list", self._list),
            ("GET", f"{ws}/knowledge/{{id}}", "sharely.knowledge.get", self._get),
            (
                "DELETE",
                f"{ws}/knowledge/{{id}}{{children:(/children)?}}",
                "sharely.knowledge.delete",
                self._delete,
            ),
            (
                "PUT",
                f"{ws}/knowledge/{{id}}/metadata",
                "sharely.knowledge.metadata",
                self._bind(update_metadata),
            ),
            (
                "POST",
                f"{ws}/background-jobs",
                "sharely.background_jobs",
                self._bind(background_jobs),
            ),
        ]
        routes += directory_routes(self) + search_routes(self)
        for method, path, name, handler in routes:
            app.router.add_route(method, path, handler, name=name)
        return app

    def _bind(self, handler: Any) -> Handler:
        """A route handler living in a sibling module (``handler(fake, request)``)."""
        bound: Handler = functools.partial(handler, self)
        return bound

    async def check_auth(self, request: web.Request, route: str) -> web.StreamResponse | None:
        if not route.startswith("sharely."):
            return None
        if request.match_info.get("ws") != self.workspace_id:
            return self.error(403, "Insufficient permissions for this workspace")
        if route == "sharely.token":
            if request.headers.get("x-api-key") != self.api_key:
                self.auth_failures["api_key"] += 1
                return self.error(401, "Invalid or missing API key")
            return None
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        if token not in self.tokens:
            self.auth_failures["unknown" if token else "missing"] += 1
            return self.error(401, "Invalid or expired access token")
        exp = self.tokens[token]
        if exp is not None and time.time() + self.clock_skew >= exp:
            self.auth_failures["expired"] += 1
            return self.error(401, "Access token expired")
        org = request.headers.get("organizationid")
        if not org:
            self.auth_failures["organization"] += 1
            return self.error(400, "Missing required header: organizationid")
        if org != self.organization_id:
            self.auth_failures["organization"] += 1
            return self.error(403, "Access denied for this organization")
        return None

    async def read_json(self, request: web.Request) -> Any:
        """The request's JSON body ({} when empty), or None when it is not JSON."""
        try:
            raw = await request.read()
            return json.loads(raw) if raw else {}
        except ValueError:
            return None

    async def _token(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_json(request)
        if not isinstance(body, dict):
            return self.error(400, "Body must be a JSON object")
        if body.get("roleId") and body.get("customerRoleId"):
            return self.error(400, "Provide either roleId or customerRoleId, not both")
        self.token_requests.append(body)
        now = time.time() + self.clock_skew
        claims: dict[str, Any] = {
            "sub": self.workspace_id,
            "workspaceId": self.workspace_id,
            "iat": now,
            "jti": str(uuid.uuid4()),
        }
        for key in ("roleId", "customerRoleId"):
            if body.get(key):
                claims[key] = body[key]
        exp = now + self.token_lifetime
        if self.token_exp:
            claims["exp"] = exp
        header = {"alg": "HS256", "typ": "JWT"}
        token = ".".join(
            (
                _b64(json.dumps(header).encode()),
                _b64(json.dumps(claims).encode()),
                _b64(hashlib.sha256(json.dumps(claims).encode()).digest()),
            )
        )
        self.tokens[token] = exp
        return self.reply({"token": token})

    def advance(self) -> None:
        """Bring every background job up to date (finished ones apply their effect)."""
        for job in list(self.jobs.values()):
            job.status()

    _advance = advance

    async def _meta(self, request: web.Request) -> web.StreamResponse:
        self._advance()
        meta_id = request.match_info["id"]
        if meta_id not in self.uploads:
            return self.error(404, "Upload file metadata not found")
        kid = self.uploads[meta_id]
        item = self.items.get(kid) if kid else None
        knowledge = {"id": item.id, "metadata": dict(item.metadata)} if item else None
        return self.reply({"knowledge": knowledge, "spaceKnowledge": None})

    async def _list(self, request: web.Request) -> web.StreamResponse:
        self._advance()
        q = request.query
        try:
            limit = int(q.get("limit", "100"))
            offset = int(q.get("offset", "0"))
        except ValueError:
            return self.error(400, "limit and offset must be integers")
        if not 1 <= limit <= 1000 or offset < 0:
            return self.error(400, "limit must be 1..1000 and offset >= 0")
        items = list(self.items.values())
        if q.get("type"):
            if q["type"] not in ("FILE", "LINK", "TEXT", "URL"):
                return self.error(400, "type must be one of FILE, LINK, TEXT")
            kind = "STRING" if q["type"] == "TEXT" else q["type"]
            items = [i for i in items if i.type == kind]
        if q.get("categoryId") or q.get("roleId"):
            items = [
                i
                for i in items
                if self.directory.matches(i.id, q.get("categoryId"), q.get("roleId"))
            ]
        if q.get("language"):
            items = [i for i in items if i.language == q["language"]]
        page = items[offset : offset + limit]
        return self.reply(
            {"knowledge": [i.to_json(self.workspace_id) for i in page], "total": len(items)}
        )

    async def _get(self, request: web.Request) -> web.StreamResponse:
        self._advance()
        item = self.items.get(request.match_info["id"])
        if item is None:
            return self.error(404, "Knowledge not found")
        data = self.directory.decorate(item.to_json(self.workspace_id), self.workspace_id)
        return self.reply({"knowledge": data} if self.get_shape == "wrapped" else data)

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        self._advance()
        kid = request.match_info["id"]
        item = self.items.get(kid)
        if item is None:
            return self.error(404, "Knowledge not found")
        children = [i.id for i in self.items.values() if i.parent_id == kid]
        if not request.match_info.get("children"):
            if children:
                return self.error(
                    409,
                    "Knowledge has children; use DELETE .../children to delete them too",
                    children=len(children),
                )
            del self.items[kid]
            return self.reply({"success": True, "message": "Knowledge deleted"})

        def cascade(job: SharelyJob) -> None:
            todo = [kid]
            while todo:
                current = todo.pop()
                todo.extend(i.id for i in self.items.values() if i.parent_id == current)
                self.items.pop(current, None)
            job.result = {"knowledgeId": kid, "deleted": len(children) + 1}

        job = self.start_job("KNOWLEDGE_DELETION", cascade)
        return self.reply(
            {"success": True, "message": "Deletion started", "workflowId": job.id}, 202
        )
