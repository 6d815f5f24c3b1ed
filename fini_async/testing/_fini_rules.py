"""Emulated rules: the ``/v2/hc-rules`` routes with their documented defaults and quirks.

The list defaults to published ``intent`` rules; lists return summaries (no ``flowConfig``).
Drafts are generated from ``behaviorInstructions`` (kept, so they can be refined), show
``botIds: []`` and are published to at least one known agent (``bot_default`` unless
``fake.state["bots"]`` names others). Duplicating an intent rule gives a draft (which cannot be
refined: it has no source instructions), a business rule a published copy; a rule made from a
template (``defaultRuleId``) cannot be duplicated. Seed rules with ``fake.rules.add(...)``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._fini_wire import Checker, add_routes, json_body, now_iso
from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = ["FakeRule", "FakeRules"]

RULE_TYPES = ("intent", "business")
RULE_SOURCES = ("widget",)
TRIGGER_TYPES = ("on_escalation",)


@dataclass
class FakeRule:
    """One emulated rule."""

    name: str
    description: str
    type: str = "intent"
    is_draft: bool = False
    bot_ids: list[str] = field(default_factory=list)
    flow_config: Any = None
    input_schema: Any = None
    source: str | None = None
    trigger_type: str | None = None
    default_rule_id: str | None = None
    #: What the draft was generated from (None: it cannot be refined).
    instructions: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def wire(self, *, summary: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "type": self.type,
            "source": self.source,
            "triggerType": self.trigger_type,
            "isDraft": self.is_draft,
            "botIds": [] if self.is_draft else list(self.bot_ids),
            "defaultRuleId": self.default_rule_id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }
        if not summary:
            out["flowConfig"] = self.flow_config
            out["inputSchema"] = self.input_schema
        return out


class FakeRules:
    """The rules side of ``FakeFini`` (``fake.rules``)."""

    def __init__(self, fake: FakeFini) -> None:
        self.fake = fake
        self.rules: dict[str, FakeRule] = {}

    def add(self, name: str, description: str, **kw: Any) -> FakeRule:
        """Store a rule directly (no HTTP)."""
        rule = FakeRule(name, description, **kw)
        self.rules[rule.id] = rule
        return rule

    def known_bots(self) -> set[str]:
        return set(self.fake.state["bots"] or {"bot_default": None})


def _flow_from(instructions: str) -> dict[str, Any]:
    return {"type": "root", "children": [{"type": "instruction", "text": instructions}]}


def setup(fake: FakeFini, app: web.Application) -> None:
    base = "/v2/hc-rules"
    add_routes(
        fake,
        app,
        [
            ("GET", f"{base}/public", "rules.list", "read", _list_rules),
            ("POST", f"{base}/public", "rules.create", "write", _create),
            ("POST", f"{base}/draft/public", "rules.draft", "write", _draft),
            ("GET", f"{base}/{{id}}/public", "rules.get", "read", _get_rule),
            ("PATCH", f"{base}/{{id}}/public", "rules.update", "write", _update),
            ("DELETE", f"{base}/{{id}}/public", "rules.delete", "write", _delete),
            ("POST", f"{base}/{{id}}/refine/public", "rules.refine", "write", _refine),
            ("POST", f"{base}/{{id}}/publish/public", "rules.publish", "write", _publish),
            ("POST", f"{base}/{{id}}/duplicate/public", "rules.duplicate", "write", _duplicate),
        ],
    )


def _find(fake: FakeFini, request: web.Request) -> FakeRule | None:
    store = fake.rules
    return store.rules.get(request.match_info["id"])


def _bot_problem(fake: FakeFini, body: dict[str, Any]) -> web.Response | None:
    store = fake.rules
    unknown = [b for b in body.get("botIds", []) if b not in store.known_bots()]
    if unknown:
        return fake.error(400, [f"agent {b} does not exist in this workspace" for b in unknown])
    return None


async def _list_rules(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.rules
    query = request.query
    problems = []
    is_draft = query.get("isDraft", "false")
    if is_draft not in ("true", "false"):
        problems.append("isDraft must be a boolean value")
    kind = query.get("type", "intent")  # the surprising default: intent only
    if kind not in RULE_TYPES:
        problems.append("type must be one of the following values: intent, business")
    source = query.get("source")
    if source is not None and source not in RULE_SOURCES:
        problems.append("source must be one of the following values: widget")
    if problems:
        return fake.error(400, problems)
    out = [
        r.wire(summary=True)
        for r in store.rules.values()
        if r.is_draft == (is_draft == "true")
        and r.type == kind
        and (source is None or r.source == source)
    ]
    return json_response(out)


async def _get_rule(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    rule = _find(fake, request)
    if rule is None:
        return fake.error(404, "Rule not found")
    return json_response(rule.wire())


async def _create(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.rules
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.text("name")
    check.text("description")
    check.strings("botIds", required=False, non_empty=False)
    for key, allowed in (
        ("type", RULE_TYPES),
        ("source", RULE_SOURCES),
        ("triggerType", TRIGGER_TYPES),
    ):
        if key in body and body[key] not in allowed:
            check.problems.append(f"{key} must be one of: {', '.join(allowed)}")
    if (error := check.error() or _bot_problem(fake, body)) is not None:
        return error
    rule = store.add(
        body["name"],
        body["description"],
        type=body.get("type", "intent"),
        bot_ids=list(body.get("botIds", [])),
        flow_config=body.get("flowConfig"),
        input_schema=body.get("inputSchema"),
        source=body.get("source"),
        trigger_type=body.get("triggerType"),
        default_rule_id=body.get("defaultRuleId"),
    )
    return json_response(rule.wire(), status=201)


async def _update(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.text("name", required=False)
    check.text("description", required=False)
    check.strings("botIds", required=False, non_empty=False)
    if (error := check.error() or _bot_problem(fake, body)) is not None:
        return error
    rule = _find(fake, request)
    if rule is None:
        return fake.error(404, "Rule not found")
    for key, attr in (
        ("name", "name"),
        ("description", "description"),
        ("flowConfig", "flow_config"),
        ("botIds", "bot_ids"),
        ("inputSchema", "input_schema"),
    ):
        if key in body:
            setattr(rule, attr, body[key])
    rule.updated_at = now_iso()
    return json_response(rule.wire())


async def _delete(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.rules
    rule = _find(fake, request)
    if rule is None:
        return fake.error(404, "Rule not found")
    del store.rules[rule.id]
    return json_response({"success": True})


async def _draft(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.rules
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.text("behaviorInstructions")
    if (error := check.error()) is not None:
        return error
    text: str = body["behaviorInstructions"]
    rule = store.add(
        text.strip().split("\n")[0][:60],
        text,
        is_draft=True,
        flow_config=_flow_from(text),
        instructions=text,
    )
    return json_response(rule.wire(), status=201)


async def _refine(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.text("refinementInstructions")
    if (error := check.error()) is not None:
        return error
    rule = _find(fake, request)
    if rule is None or not rule.is_draft:
        return fake.error(404, "Draft rule not found")
    if rule.instructions is None:
        return fake.error(400, "This draft can no longer be refined")
    rule.instructions = f"{rule.instructions}\n{body['refinementInstructions']}"
    rule.description = rule.instructions
    rule.flow_config = _flow_from(rule.instructions)
    rule.updated_at = now_iso()
    return json_response(rule.wire())


async def _publish(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.strings("botIds")  # at least one
    if (error := check.error() or _bot_problem(fake, body)) is not None:
        return error
    rule = _find(fake, request)
    if rule is None or not rule.is_draft:
        return fake.error(404, "Draft rule not found")
    rule.is_draft = False
    rule.bot_ids = list(body["botIds"])
    rule.instructions = None
    rule.updated_at = now_iso()
    return json_response(rule.wire())


async def _duplicate(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.rules
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.text("name", required=False)
    check.text("description", required=False, empty=True)
    if (error := check.error()) is not None:
        return error
    rule = _find(fake, request)
    if rule is None:
        return fake.error(404, "Rule not found")
    if rule.default_rule_id is not None:
        return fake.error(400, "Rules created from a template cannot be duplicated")
    copy = store.add(
        body.get("name", f"{rule.name} (copy)"),
        body.get("description", rule.description),
        type=rule.type,
        is_draft=rule.type == "intent",  # intent -> draft copy, business -> published
        bot_ids=list(rule.bot_ids),
        flow_config=rule.flow_config,
        input_schema=rule.input_schema,
        source=rule.source,
        trigger_type=rule.trigger_type,
    )
    out = copy.wire()
    # the raw storage row: botIds are not expanded (nor hidden on a draft copy)
    out["botIds"] = [{"botId": b, "ruleId": copy.id} for b in rule.bot_ids]
    return json_response(out)
