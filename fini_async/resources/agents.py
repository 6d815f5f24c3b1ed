"""``client.agents``: the workspace's agents and their prompts (the "hc-prompt" routes).

Wire facts (FINI-V2.md §8-9): the agent list is a top-level array, not paginated. A prompt read
is *merged*: the workspace template plus the agent's latest saved version, each section with
the helper fields ``defaultPrompt`` and ``custom``. Saving appends a new version (never patches
in place) and needs all three section arrays. An unknown agent answers 404; an agent of another
workspace answers **406** ("invalid agent"), where other routes would answer 403. The save
route has no ``/public`` suffix.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._models import Lenient, iso_to_datetime, ms_to_datetime
from .._validate import path_segment
from ._base import Resource
from .bots import BOTS_PATH, Bot

if TYPE_CHECKING:
    from .._client import FiniClient  # noqa: F401 (named in the base class Resource["FiniClient"])

__all__ = ["PROMPT_SECTIONS", "AgentsResource", "Prompt"]

PROMPT_PATH = "/v2/bots/{id}/hc-prompt/public"
HISTORY_PATH = "/v2/bots/{id}/hc-prompt/history/public"
SAVE_PATH = "/v2/bots/{id}/hc-prompt"  # no /public: documented

#: The three section arrays of a prompt, as the keyword arguments of ``update_prompt`` name them.
PROMPT_SECTIONS = ("hc_planning_prompt", "hc_guideline_prompt", "hc_channel_prompt")

_Time = str | int | float | None


class Prompt(msgspec.Struct, rename="camel"):
    """An agent's prompt: one saved version, or (from ``get_prompt``) the merged view.

    The three section arrays hold the sections as plain dicts, so that keys this SDK does not
    know survive a read-edit-save round trip (``PromptSection``'s schema is not documented).
    Merged reads add ``defaultPrompt`` and ``custom`` to each section; saving does not need
    them. ``created``/``updated`` are the timestamps as aware datetimes."""

    bot_id: str | None = None
    id: str | None = None
    version: int | str | None = None
    created_at: _Time = None
    updated_at: _Time = None
    hc_planning_prompt: list[dict[str, Any]] = []
    hc_guideline_prompt: list[dict[str, Any]] = []
    hc_channel_prompt: list[dict[str, Any]] = []

    @property
    def created(self) -> datetime | None:
        return _when(self.created_at)

    @property
    def updated(self) -> datetime | None:
        return _when(self.updated_at)


class _SaveBody(msgspec.Struct, rename="camel"):
    hc_planning_prompt: list[dict[str, Any]]
    hc_guideline_prompt: list[dict[str, Any]]
    hc_channel_prompt: list[dict[str, Any]]


def _when(value: _Time) -> datetime | None:
    return iso_to_datetime(value) if isinstance(value, str) else ms_to_datetime(value)


_bots = Lenient(list[Bot])
_prompt = Lenient(Prompt)
_prompts = Lenient(list[Prompt])


def _decode_history(content: bytes, status: int) -> list[Prompt]:
    """A top-level array (documented); ``{history|versions|data: [...]}`` too."""
    if content.lstrip()[:1] == b"{":
        raw: Any = msgspec.json.decode(content)
        for key in ("history", "versions", "data", "prompts"):
            if isinstance(raw.get(key), list):
                return _prompts.convert(raw[key], data=content, status=status)
    return _prompts.decode(content, status=status)


def _sections(value: Any, field: str) -> list[dict[str, Any]]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(f"{field} must be a list of sections (mappings)", field=field)
    out = []
    for index, section in enumerate(value):
        if not isinstance(section, Mapping) or not all(isinstance(k, str) for k in section):
            raise ValidationError(
                f"{field}[{index}] must be a mapping with string keys", field=field
            )
        out.append(dict(section))
    return out


class AgentsResource(Resource["FiniClient"]):
    """The workspace's agents (``client.bots.list()`` is the same list) and their prompts."""

    __slots__ = ()

    async def list(
        self,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Bot]:
        """The workspace's agents, newest first (deleted ones excluded; none: ``[]``). The API
        answers the whole list in one top-level array: no pagination, no filter."""
        return await self._get(
            BOTS_PATH,
            into=_bots,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def get_prompt(
        self,
        bot_id: str,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Prompt:
        """The agent's merged prompt: the workspace template plus its latest saved version
        (with no saved version, the template, with ``bot_id`` set to ``bot_id``).

        :class:`NotFoundError` for an unknown agent. An agent of another workspace answers
        **406** (:class:`NotAcceptableError`), not 403. :class:`ValidationError` for an empty
        id, before any request."""
        return await self._get(
            PROMPT_PATH.format(id=path_segment(bot_id, "bot_id")),
            into=_prompt,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def prompt_history(
        self,
        bot_id: str,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Prompt]:
        """The agent's saved prompt versions, newest first (merged like :meth:`get_prompt`);
        ``[]`` when it has none (the template is not listed). The API answers a top-level
        array, unpaginated. Errors as :meth:`get_prompt` (404 unknown, 406 other workspace)."""
        return await self._get(
            HISTORY_PATH.format(id=path_segment(bot_id, "bot_id")),
            into=_decode_history,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def update_prompt(
        self,
        bot_id: str,
        prompt: Prompt | None = None,
        *,
        hc_planning_prompt: Iterable[Mapping[str, Any]] | None = None,
        hc_guideline_prompt: Iterable[Mapping[str, Any]] | None = None,
        hc_channel_prompt: Iterable[Mapping[str, Any]] | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Prompt:
        """Save a new version of the agent's prompt and return the stored version (not merged:
        no ``defaultPrompt``/``custom``).

        The API needs all three section arrays, sent whole: the safe pattern is
        ``p = await client.agents.get_prompt(bot_id)``, edit ``p``'s sections, then
        ``await client.agents.update_prompt(bot_id, p)``. Keyword arrays replace the
        corresponding arrays of ``prompt``. :class:`ValidationError`, before any request, when
        an array is missing (no ``prompt`` and not all three keywords) or holds a non-mapping.

        Saving appends a version, so it is retried only when the server surely did not
        process it (connect failure, 429, 503). 404 unknown agent, 406 (not 403) an agent of
        another workspace, 400 when the server refuses the sections."""
        path = SAVE_PATH.format(id=path_segment(bot_id, "bot_id"))
        if prompt is not None and not isinstance(prompt, Prompt):
            raise ValidationError(
                f"prompt must be a Prompt (from get_prompt), got {type(prompt).__name__}",
                field="prompt",
            )
        given = {
            "hc_planning_prompt": hc_planning_prompt,
            "hc_guideline_prompt": hc_guideline_prompt,
            "hc_channel_prompt": hc_channel_prompt,
        }
        arrays: dict[str, list[dict[str, Any]]] = {}
        for name in PROMPT_SECTIONS:
            value = given[name]
            if value is None and prompt is not None:
                value = getattr(prompt, name)
            if value is None:
                raise ValidationError(
                    f"{name} is required: the API needs all three section arrays, sent whole "
                    "(pass the Prompt from get_prompt, edited)",
                    field=name,
                )
            arrays[name] = _sections(value, name)
        return await self._post(
            path,
            into=_prompt,
            body=_SaveBody(**arrays),
            idempotent=False,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )
