"""``client.folders``: the help-center folder tree and which agents use which folders.

Wire facts (see FINI-V2.md §5): the only read is the whole tree (a "snapshot" whose
``snapshotObjV2`` nests folders and their articles; the node shape is not documented, so nodes
keep their whole object in ``raw``). Update needs ``title``, ``description`` and ``active``
together. Create and move answer 404 **or 406** when the parent is missing or the tree change
is not allowed. Attaching folders to agents is one all-or-nothing batch answering
``{"status": true}``.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET, UnsetType

from .._config import TimeoutTypes
from .._exceptions import APIResponseValidationError, ValidationError
from .._validate import non_empty_str, one_of, optional_str, path_segment, str_list
from ._base import Resource
from ._quirks import OpenDecoder, ok_flag

if TYPE_CHECKING:
    from .._client import FiniClient  # noqa: F401 (named in the base class Resource["FiniClient"])

__all__ = ["JUNCTION_ACTIONS", "Folder", "FolderNode", "FolderTree", "FoldersResource"]

TREE_PATH = "/v2/hc-folders/public"
ONE_PATH = "/v2/hc-folders/{id}/public"
MOVE_PATH = "/v2/hc-folders/{id}/move/public"
JUNCTIONS_PATH = "/v2/hc-bot-folder-junctions/public"

#: The junction actions: ``ADD`` is documented; ``REMOVE`` is inferred (see FINI-V2.md §O6).
JUNCTION_ACTIONS = ("ADD", "REMOVE")


class Folder(msgspec.Struct, rename="camel", kw_only=True):
    """A help-center folder. ``parent_folder_id`` is None at the top level; ``raw`` holds the
    whole decoded object (the API documents few of its fields)."""

    id: str
    title: str = ""
    description: str = ""
    active: bool | None = None
    parent_folder_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = {}


class FolderNode(msgspec.Struct, rename="camel", kw_only=True):
    """A folder in the tree, with its subfolders (``children``) and its articles (each a raw
    mapping: the node shape is not documented). ``raw`` holds the whole node."""

    id: str
    title: str = ""
    description: str = ""
    active: bool | None = None
    parent_folder_id: str | None = None
    children: list[FolderNode] = []
    articles: list[dict[str, Any]] = []
    raw: dict[str, Any] = {}

    def walk(self) -> Iterable[FolderNode]:
        """This node and every node under it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


class FolderTree(msgspec.Struct, rename="camel", kw_only=True):
    """The folder tree snapshot: ``folders`` are the top-level nodes (``snapshotObjV2`` on the
    wire)."""

    id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    folders: list[FolderNode] = msgspec.field(default_factory=list, name="snapshotObjV2")
    raw: dict[str, Any] = {}

    def walk(self) -> Iterable[FolderNode]:
        """Every node of the tree, depth first."""
        for node in self.folders:
            yield from node.walk()


class _CreateBody(msgspec.Struct, rename="camel", omit_defaults=True):
    title: str
    description: str
    parent_folder_id: str | UnsetType = UNSET


class _UpdateBody(msgspec.Struct, rename="camel"):
    title: str
    description: str
    active: bool


class _MoveBody(msgspec.Struct, rename="camel"):
    parent_folder_id: str


class _Junction(msgspec.Struct, rename="camel"):
    folder_id: str
    bot_id: str
    action: str


class _JunctionsBody(msgspec.Struct):
    junctions: list[_Junction]


_folder = OpenDecoder(Folder)
_tree_decoder = OpenDecoder(FolderTree)


def _tree(content: bytes, status: int) -> FolderTree:
    tree = _tree_decoder(content, status)
    nodes = tree.raw.get("snapshotObjV2")
    if isinstance(nodes, list):
        _keep_raw(tree.folders, nodes)
    return tree


def _keep_raw(nodes: list[FolderNode], raws: list[Any]) -> None:
    for node, raw in zip(nodes, (r for r in raws if isinstance(r, Mapping)), strict=False):
        node.raw = dict(raw)
        children = raw.get("children")
        if isinstance(children, list):
            _keep_raw(node.children, children)


def _checked_flag(value: bool, field: str) -> None:
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be True or False, got {value!r}", field=field)


class FoldersResource(Resource["FiniClient"]):
    """The workspace's help-center folders (``client.folders``)."""

    __slots__ = ()

    async def tree(
        self,
        *,
        bot_id: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> FolderTree:
        """The folder tree; with ``bot_id``, only the folders attached to that agent. An empty
        tree is a normal answer."""
        params = None if bot_id is None else {"botId": non_empty_str(bot_id, "bot_id")}
        return await self._get(
            TREE_PATH,
            into=_tree,
            params=params,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def list(
        self,
        *,
        bot_id: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[FolderNode]:
        """Every folder of :meth:`tree`, flattened depth first (one request)."""
        tree = await self.tree(
            bot_id=bot_id, timeout=timeout, max_retries=max_retries, extra_headers=extra_headers
        )
        return [*tree.walk()]

    async def create(
        self,
        title: str,
        *,
        description: str = "",
        parent_folder_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Folder:
        """Create a folder (at the top level unless ``parent_folder_id``). :class:`NotFoundError`
        or :class:`NotAcceptableError` (406) when the parent is missing or the change is not
        allowed. Never retried once the server may have created it."""
        body = _CreateBody(
            title=non_empty_str(title, "title"),
            description=optional_str(description, "description") or "",
        )
        if parent_folder_id is not None:
            body.parent_folder_id = non_empty_str(parent_folder_id, "parent_folder_id")
        return await self._post(
            TREE_PATH,
            into=_folder,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def update(
        self,
        folder: str | Folder | FolderNode,
        *,
        title: str | None = None,
        description: str | None = None,
        active: bool | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Folder:
        """Update a folder. The route needs ``title``, ``description`` and ``active`` together:
        given an id, all three are required (:class:`ValidationError`); given a
        :class:`Folder` or :class:`FolderNode`, its values fill the ones not given.
        :class:`NotFoundError` (404) for an unknown folder."""
        base = folder if isinstance(folder, (Folder, FolderNode)) else None
        if base is not None:
            title = base.title if title is None else title
            description = base.description if description is None else description
            active = (True if base.active is None else base.active) if active is None else active
        if title is None or description is None or active is None:
            raise ValidationError(
                "title, description and active are required together (pass a Folder to keep "
                "the values not given)",
                field="title"
                if title is None
                else "description"
                if description is None
                else "active",
            )
        _checked_flag(active, "active")
        body = _UpdateBody(
            title=non_empty_str(title, "title"),
            description=optional_str(description, "description") or "",
            active=active,
        )
        return await self._put(
            ONE_PATH.format(id=_id_of(folder)),
            into=_folder,
            body=body,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def move(
        self,
        folder: str | Folder | FolderNode,
        parent_folder_id: str,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Folder:
        """Move a folder under ``parent_folder_id``. :class:`NotFoundError` (404) or
        :class:`NotAcceptableError` (406, the API's answer where 403 might be expected) when
        the folder or the destination is missing or the move is not allowed (into its own
        subtree, say)."""
        return await self._put(
            MOVE_PATH.format(id=_id_of(folder)),
            into=_folder,
            body=_MoveBody(parent_folder_id=non_empty_str(parent_folder_id, "parent_folder_id")),
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def delete(
        self,
        folder: str | Folder | FolderNode,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Folder:
        """Delete a folder; returns the deleted folder. :class:`NotFoundError` for an unknown
        id. What becomes of the folders and articles inside is not documented: the emulator
        refuses (406) to delete a folder that still holds any. Not retried once the server
        may have processed it."""
        return await self._delete(
            ONE_PATH.format(id=_id_of(folder)),
            into=_folder,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def link_bot(
        self,
        folder_ids: str | Iterable[str],
        bot_id: str,
        *,
        action: str = "ADD",
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        """Attach folders to an agent (``action="REMOVE"`` detaches them: an inferred value,
        see :data:`JUNCTION_ACTIONS`). One request for all the folders; the API checks the
        whole batch (400 for a malformed item or unknown action). Not retried once sent.
        :class:`APIResponseValidationError` if the answer says ``status: false``."""
        ids = [folder_ids] if isinstance(folder_ids, str) else folder_ids
        folders = str_list(ids, "folder_ids", allow_empty=False)
        bot = non_empty_str(bot_id, "bot_id")
        act = one_of(action, JUNCTION_ACTIONS, "action")
        body = _JunctionsBody(
            junctions=[_Junction(folder_id=f, bot_id=bot, action=act) for f in folders]
        )
        resp = await self._send(
            "POST",
            JUNCTIONS_PATH,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        if not ok_flag(resp.content, resp.status):
            raise APIResponseValidationError(
                "the API answered status false", body=resp.content, status_code=resp.status
            )


def _id_of(value: Any) -> str:
    if isinstance(value, (Folder, FolderNode)):
        value = value.id
    return path_segment(value, "folder")
