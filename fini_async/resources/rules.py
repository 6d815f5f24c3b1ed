"""``client.rules``: rules (intent and business), their drafts, refining and publishing.

Wire facts (see FINI-V2.md §6): the list route's defaults surprise: without ``isDraft`` it
lists **published** rules only, and without ``type`` it lists **intent** rules only (not all).
:meth:`RulesResource.list` sends both explicitly, with those defaults as its keyword defaults.
Create makes a published rule; a draft is generated from instructions, refined, then published
to at least one agent. Duplicating an intent rule gives a draft, a business rule a published
copy. Lists and duplicates do not expand ``botIds``; drafts show ``botIds: []``. The rule
object is open (``flowConfig`` and ``inputSchema`` are passed through as JSON).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET, UnsetType

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._validate import non_empty_str, one_of, optional_str, path_segment, str_list
from ._base import Resource, ignore_body
from ._quirks import ListDecoder, OpenDecoder

if TYPE_CHECKING:
    from .._client import FiniClient  # noqa: F401 (named in the base class Resource["FiniClient"])

__all__ = ["RULE_SOURCES", "RULE_TYPES", "TRIGGER_TYPES", "Rule", "RulesResource"]

LIST_PATH = "/v2/hc-rules/public"
ONE_PATH = "/v2/hc-rules/{id}/public"
DRAFT_PATH = "/v2/hc-rules/draft/public"
REFINE_PATH = "/v2/hc-rules/{id}/refine/public"
PUBLISH_PATH = "/v2/hc-rules/{id}/publish/public"
DUPLICATE_PATH = "/v2/hc-rules/{id}/duplicate/public"

#: The rule types the API documents today (others pass through on reads).
RULE_TYPES = ("intent", "business")
#: The documented rule sources.
RULE_SOURCES = ("widget",)
#: The documented trigger types.
TRIGGER_TYPES = ("on_escalation",)


class Rule(msgspec.Struct, rename="camel", kw_only=True):
    """A rule, in full (:meth:`RulesResource.get`) or as a summary (lists: no
    ``flow_config``). ``bot_ids`` holds what the API sent: ids, or raw rows where it does not
    expand them; drafts have ``[]``. ``type``, ``source`` and ``trigger_type`` are open sets.
    ``raw`` holds the whole decoded object."""

    id: str
    name: str = ""
    description: str = ""
    type: str | None = None
    source: str | None = None
    trigger_type: str | None = None
    is_draft: bool | None = None
    bot_ids: list[Any] = []
    flow_config: Any = None
    input_schema: Any = None
    default_rule_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = {}


class _CreateBody(msgspec.Struct, rename="camel", omit_defaults=True):
    name: str
    description: str
    type: str
    flow_config: Any | UnsetType = UNSET
    bot_ids: list[str] | UnsetType = UNSET
    source: str | UnsetType = UNSET
    trigger_type: str | UnsetType = UNSET
    default_rule_id: str | UnsetType = UNSET
    input_schema: Any | UnsetType = UNSET


class _UpdateBody(msgspec.Struct, rename="camel", omit_defaults=True):
    name: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    flow_config: Any | UnsetType = UNSET
    bot_ids: list[str] | UnsetType = UNSET
    input_schema: Any | UnsetType = UNSET


class _DraftBody(msgspec.Struct, rename="camel"):
    behavior_instructions: str


class _RefineBody(msgspec.Struct, rename="camel"):
    refinement_instructions: str


class _PublishBody(msgspec.Struct, rename="camel"):
    bot_ids: list[str]


class _DuplicateBody(msgspec.Struct, omit_defaults=True):
    name: str | UnsetType = UNSET
    description: str | UnsetType = UNSET


_rule = OpenDecoder(Rule)
_rules = ListDecoder(_rule)


class RulesResource(Resource["FiniClient"]):
    """The workspace's rules (``client.rules``)."""

    __slots__ = ()

    async def list(
        self,
        *,
        type: str = "intent",
        is_draft: bool = False,
        source: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Rule]:
        """Rule summaries of one ``type`` (``"intent"`` by default, as the API: pass
        ``"business"`` for the others; there is no "all types"), published ones by default
        (``is_draft=True`` for drafts), optionally of one ``source``. Both defaults are sent
        explicitly. :class:`ValidationError` for an unknown ``type``/``source``."""
        if not isinstance(is_draft, bool):
            raise ValidationError(
                f"is_draft must be True or False, got {is_draft!r}", field="is_draft"
            )
        params = {
            "type": one_of(type, RULE_TYPES, "type"),
            "isDraft": "true" if is_draft else "false",
        }
        if source is not None:
            params["source"] = one_of(source, RULE_SOURCES, "source")
        return await self._get(
            LIST_PATH,
            into=_rules,
            params=params,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def get(
        self,
        id: str | Rule,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Rule:
        """One rule in full. :class:`NotFoundError` (404) when the workspace has no such rule."""
        return await self._get(
            ONE_PATH.format(id=_id_of(id)),
            into=_rule,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def create(
        self,
        name: str,
        description: str,
        *,
        type: str = "intent",
        flow_config: Any = None,
        bot_ids: Iterable[str] | None = None,
        source: str | None = None,
        trigger_type: str | None = None,
        default_rule_id: str | None = None,
        input_schema: Any = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Rule:
        """Create a **published** rule. ``description`` is the text the planner routes on;
        ``type`` is always sent (``"intent"`` unless told). ``bot_ids`` are assigned after
        creation. :class:`BadRequestError` for an unknown agent or a ``flow_config`` that
        names a missing action or form. Never retried once the server may have created it."""
        body = _CreateBody(
            name=non_empty_str(name, "name"),
            description=non_empty_str(description, "description"),
            type=one_of(type, RULE_TYPES, "type"),
        )
        if flow_config is not None:
            body.flow_config = flow_config
        if bot_ids is not None:
            body.bot_ids = str_list(bot_ids, "bot_ids")
        if source is not None:
            body.source = one_of(source, RULE_SOURCES, "source")
        if trigger_type is not None:
            body.trigger_type = one_of(trigger_type, TRIGGER_TYPES, "trigger_type")
        if default_rule_id is not None:
            body.default_rule_id = non_empty_str(default_rule_id, "default_rule_id")
        if input_schema is not None:
            body.input_schema = input_schema
        return await self._post(
            LIST_PATH,
            into=_rule,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def update(
        self,
        id: str | Rule,
        *,
        name: str | None = None,
        description: str | None = None,
        flow_config: Any = None,
        bot_ids: Iterable[str] | None = None,
        input_schema: Any = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Rule:
        """Change some fields of a rule (a PATCH: what is not given is kept). At least one
        field is required (:class:`ValidationError`). ``bot_ids`` replaces the assignment.
        :class:`NotFoundError` (404) for an unknown rule."""
        body = _UpdateBody()
        if name is not None:
            body.name = non_empty_str(name, "name")
        if description is not None:
            body.description = non_empty_str(description, "description")
        if flow_config is not None:
            body.flow_config = flow_config
        if bot_ids is not None:
            body.bot_ids = str_list(bot_ids, "bot_ids")
        if input_schema is not None:
            body.input_schema = input_schema
        if body == _UpdateBody():
            raise ValidationError("update needs at least one field to change", field="name")
        return await self._patch(
            ONE_PATH.format(id=_id_of(id)),
            into=_rule,
            body=body,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def delete(
        self,
        id: str | Rule,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        """Delete a rule (whatever the body of the answer). :class:`NotFoundError` for an
        unknown id. Not retried once the server may have processed it."""
        await self._delete(
            ONE_PATH.format(id=_id_of(id)),
            into=ignore_body,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def create_draft(
        self,
        behavior_instructions: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Rule:
        """Generate a draft rule (``is_draft`` True, ``bot_ids`` ``[]``) from plain-language
        instructions. Not retried once sent (each call generates a new draft)."""
        body = _DraftBody(
            behavior_instructions=non_empty_str(behavior_instructions, "behavior_instructions")
        )
        return await self._post(
            DRAFT_PATH,
            into=_rule,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def refine(
        self,
        id: str | Rule,
        refinement_instructions: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Rule:
        """Refine a draft with more instructions; returns the refined draft.
        :class:`NotFoundError` (404) for an unknown rule or one that is not a draft;
        :class:`BadRequestError` (400) when the draft can no longer be refined (its source
        instructions are gone: a duplicated draft, say). Not retried once sent."""
        body = _RefineBody(
            refinement_instructions=non_empty_str(
                refinement_instructions, "refinement_instructions"
            )
        )
        return await self._post(
            REFINE_PATH.format(id=_id_of(id)),
            into=_rule,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def publish(
        self,
        id: str | Rule,
        bot_ids: Iterable[str],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Rule:
        """Publish a draft to at least one agent (an empty ``bot_ids`` is refused before
        sending, as the API would answer 400). :class:`BadRequestError` for an agent outside
        the workspace; :class:`NotFoundError` for an unknown rule or one that is not a draft.
        Not retried once sent."""
        if isinstance(bot_ids, str):
            raise ValidationError("bot_ids must be a list of agent ids", field="bot_ids")
        body = _PublishBody(bot_ids=str_list(bot_ids, "bot_ids", allow_empty=False))
        return await self._post(
            PUBLISH_PATH.format(id=_id_of(id)),
            into=_rule,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def duplicate(
        self,
        id: str | Rule,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Rule:
        """Copy a rule, optionally renamed. Documented asymmetry: an intent rule's copy is a
        **draft**, a business rule's copy is **published**; the copy's ``bot_ids`` are raw
        (not expanded). :class:`BadRequestError` for a rule made from a template;
        :class:`NotFoundError` for an unknown rule. Not retried once sent."""
        body = _DuplicateBody()
        if name is not None:
            body.name = non_empty_str(name, "name")
        text = optional_str(description, "description")
        if text is not None:
            body.description = text
        return await self._post(
            DUPLICATE_PATH.format(id=_id_of(id)),
            into=_rule,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )


def _id_of(value: Any) -> str:
    if isinstance(value, Rule):
        value = value.id
    return path_segment(value, "id")
