"""``client.tags``: tags, and their groups under ``client.tags.groups``.

Wire facts (see FINI-V2.md §7): one path, ``/v2/tag-groups/{id}/tags/public``, takes a **group**
id for GET (list) and POST (create) but a **tag** id for PUT (update) and DELETE. The methods
say which by their argument names: ``group_id`` or ``tag_id``. Unknown ids answer **500** on the
group routes, the tags-of-a-group routes and tag update (raised here as :class:`NotFoundError`
with ``status_code`` 500), and **200 null** on get-one-tag (:class:`NotFoundError` with
``status_code`` 200). Fini-managed groups (``company_id`` None) are listed but read-only. Lists
are top-level arrays, newest first. Listing across groups needs repeated ``tagGroupIds``
parameters (a comma-separated value is refused).
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from msgspec import UNSET, UnsetType
from multidict import MultiDict

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._validate import non_empty_str, optional_str, path_segment, str_list
from ._base import Resource, ignore_body
from ._quirks import ListDecoder, OpenDecoder, not_found, not_found_on_500

if TYPE_CHECKING:
    from .._client import FiniClient
    from .._transport import Transport

__all__ = ["Tag", "TagGroup", "TagGroupsResource", "TagsResource"]

GROUPS_PATH = "/v2/tag-groups/public"
GROUP_PATH = "/v2/tag-groups/{id}/public"
#: GET/POST take a group id here, PUT/DELETE a tag id.
GROUP_TAGS_PATH = "/v2/tag-groups/{id}/tags/public"
ACROSS_PATH = "/v2/tag-groups/tags/public"
TAG_PATH = "/v2/tags/{id}/public"

T = TypeVar("T")


class TagGroup(msgspec.Struct, rename="camel", kw_only=True):
    """A tag group. ``company_id`` is None for the groups Fini manages (read-only; often
    ``mandatory``). ``prompt`` tells the AI when to pick its tags; ``multiselect`` lets it pick
    several; an output group (``is_output_tag_group``) cannot be used in rules. ``raw`` holds
    the whole decoded object."""

    id: str
    title: str = ""
    description: str | None = None
    prompt: str | None = None
    multiselect: bool = False
    mandatory: bool = False
    is_output_tag_group: bool = False
    company_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = {}

    @property
    def is_managed(self) -> bool:
        """Whether Fini manages this group (read-only: no company owns it)."""
        return self.company_id is None


class Tag(msgspec.Struct, rename="camel", kw_only=True):
    """A tag of a group. ``raw`` holds the whole decoded object."""

    id: str
    tag_group_id: str | None = None
    tag_name: str = ""
    tag_description: str | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = {}


class _GroupBody(msgspec.Struct, rename="camel", omit_defaults=True):
    title: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    prompt: str | UnsetType = UNSET
    multiselect: bool | UnsetType = UNSET
    is_output_tag_group: bool | UnsetType = UNSET


class _TagBody(msgspec.Struct, rename="camel", omit_defaults=True):
    tag_name: str | UnsetType = UNSET
    tag_description: str | UnsetType = UNSET


_group = OpenDecoder(TagGroup)
_groups = ListDecoder(_group)
_tag = OpenDecoder(Tag)
_tags = ListDecoder(_tag)


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be True or False, got {value!r}", field=field)
    return value


def _group_body(
    *,
    title: str | None,
    description: str | None,
    prompt: str | None,
    multiselect: bool | None,
    is_output_tag_group: bool | None,
) -> _GroupBody:
    body = _GroupBody()
    if title is not None:
        body.title = non_empty_str(title, "title")
    if description is not None:
        body.description = optional_str(description, "description") or ""
    if prompt is not None:
        body.prompt = optional_str(prompt, "prompt") or ""
    if multiselect is not None:
        body.multiselect = _flag(multiselect, "multiselect")
    if is_output_tag_group is not None:
        body.is_output_tag_group = _flag(is_output_tag_group, "is_output_tag_group")
    return body


def _id(value: Any, field: str) -> str:
    if isinstance(value, (Tag, TagGroup)):
        value = value.id
    return path_segment(value, field)


class _Unknown500(Resource["FiniClient"]):
    __slots__ = ()

    def _capped(self, max_retries: int | None) -> int:
        # a 500 here usually means "no such id": retrying it more than once only adds delay
        retries = self._transport.max_retries if max_retries is None else max_retries
        return min(retries, 1)

    async def _mapped(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        return await not_found_on_500(call, what)


class TagGroupsResource(_Unknown500):
    """The workspace's tag groups (``client.tags.groups``)."""

    __slots__ = ()

    async def list(
        self,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[TagGroup]:
        """Every tag group, newest first, Fini-managed ones included."""
        return await self._get(
            GROUPS_PATH,
            into=_groups,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def get(
        self,
        group_id: str | TagGroup,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> TagGroup:
        """One tag group. Documented quirk: an unknown id answers 500, raised as
        :class:`NotFoundError` (``status_code`` 500; a real server failure looks the same,
        so it is retried at most once)."""
        gid = _id(group_id, "group_id")
        path = GROUP_PATH.format(id=gid)
        return await self._mapped(
            lambda: self._get(
                path,
                into=_group,
                timeout=timeout,
                max_retries=self._capped(max_retries),
                extra_headers=extra_headers,
            ),
            f"tag group {gid!r}",
        )

    async def create(
        self,
        title: str,
        *,
        description: str | None = None,
        prompt: str | None = None,
        multiselect: bool | None = None,
        is_output_tag_group: bool | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> TagGroup:
        """Create a custom tag group (owned by the workspace, not mandatory). Never retried
        once the server may have created it."""
        body = _group_body(
            title=title,
            description=description,
            prompt=prompt,
            multiselect=multiselect,
            is_output_tag_group=is_output_tag_group,
        )
        return await self._post(
            GROUPS_PATH,
            into=_group,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def update(
        self,
        group_id: str | TagGroup,
        *,
        title: str | None = None,
        description: str | None = None,
        prompt: str | None = None,
        multiselect: bool | None = None,
        is_output_tag_group: bool | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> TagGroup:
        """Change some fields of a custom group (what is not given is kept; at least one is
        required). Documented quirk: an unknown id **or a Fini-managed group** answers 500,
        raised as :class:`NotFoundError` (``status_code`` 500)."""
        body = _group_body(
            title=title,
            description=description,
            prompt=prompt,
            multiselect=multiselect,
            is_output_tag_group=is_output_tag_group,
        )
        if body == _GroupBody():
            raise ValidationError("update needs at least one field to change", field="title")
        gid = _id(group_id, "group_id")
        path = GROUP_PATH.format(id=gid)
        return await self._mapped(
            lambda: self._put(
                path,
                into=_group,
                body=body,
                timeout=timeout,
                max_retries=self._capped(max_retries),
                extra_headers=extra_headers,
            ),
            f"custom tag group {gid!r}",
        )

    async def delete(
        self,
        group_id: str | TagGroup,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        """Delete a custom group (whatever the body of the answer). An unknown or Fini-managed
        group raises :class:`NotFoundError` (a 404, or a 500 as its sibling routes answer).
        Whether its tags go with it is not documented (the emulator deletes them). Not retried
        once the server may have processed it."""
        gid = _id(group_id, "group_id")
        path = GROUP_PATH.format(id=gid)
        await self._mapped(
            lambda: self._delete(
                path,
                into=ignore_body,
                timeout=timeout,
                max_retries=max_retries,
                extra_headers=extra_headers,
            ),
            f"custom tag group {gid!r}",
        )


class TagsResource(_Unknown500):
    """The workspace's tags (``client.tags``); their groups are ``client.tags.groups``.

    Methods taking a group say ``group_id``, those taking a tag say ``tag_id``, although the
    API uses one path for both."""

    __slots__ = ("groups",)

    def __init__(self, client: FiniClient, transport: Transport) -> None:
        super().__init__(client, transport)
        #: The tag groups.
        self.groups = TagGroupsResource(client, transport)

    async def list(
        self,
        group_id: str | TagGroup,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Tag]:
        """The tags of one group, newest first. Documented quirk: an unknown group answers
        500, raised as :class:`NotFoundError` (``status_code`` 500)."""
        gid = _id(group_id, "group_id")
        path = GROUP_TAGS_PATH.format(id=gid)
        return await self._mapped(
            lambda: self._get(
                path,
                into=_tags,
                timeout=timeout,
                max_retries=self._capped(max_retries),
                extra_headers=extra_headers,
            ),
            f"tag group {gid!r}",
        )

    async def list_in_groups(
        self,
        group_ids: Iterable[str | TagGroup],
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Tag]:
        """The tags of several groups in one flat list, newest first (not grouped: see each
        tag's ``tag_group_id``). Sent as repeated ``tagGroupIds`` parameters, the only form the
        API accepts. :class:`ValidationError` for an empty list or an id holding a comma."""
        if isinstance(group_ids, (str, TagGroup)):
            group_ids = [group_ids]
        ids = str_list(
            [g.id if isinstance(g, TagGroup) else g for g in group_ids],
            "group_ids",
            allow_empty=False,
        )
        for item in ids:
            if "," in item:
                raise ValidationError(
                    f"group_ids must be single ids, got {item!r}", field="group_ids"
                )
        params = MultiDict([("tagGroupIds", item) for item in dict.fromkeys(ids)])
        return await self._get(
            ACROSS_PATH,
            into=_tags,
            params=params,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def get(
        self,
        tag_id: str | Tag,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Tag:
        """One tag. Documented quirk: an unknown id answers 200 with ``null``, raised as
        :class:`NotFoundError` (``status_code`` 200)."""
        tid = _id(tag_id, "tag_id")
        path = TAG_PATH.format(id=tid)
        resp = await self._send(
            "GET",
            path,
            idempotent=True,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )
        tag = _tag.maybe(resp.content, resp.status)
        if tag is None:
            raise not_found(
                resp,
                f"no tag with id {tid!r} (the API answered null)",
                method="GET",
                url=self._transport.base_url + path,
            )
        return tag

    async def create(
        self,
        group_id: str | TagGroup,
        tag_name: str,
        *,
        tag_description: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Tag:
        """Create a tag in a custom group. Documented quirk: an unknown group answers 500,
        raised as :class:`NotFoundError` (``status_code`` 500). Never retried once the server
        may have created it."""
        body = _TagBody(tag_name=non_empty_str(tag_name, "tag_name"))
        if tag_description is not None:
            body.tag_description = optional_str(tag_description, "tag_description") or ""
        gid = _id(group_id, "group_id")
        path = GROUP_TAGS_PATH.format(id=gid)
        return await self._mapped(
            lambda: self._post(
                path,
                into=_tag,
                body=body,
                idempotent=False,
                timeout=timeout,
                extra_headers=extra_headers,
            ),
            f"custom tag group {gid!r}",
        )

    async def update(
        self,
        tag_id: str | Tag,
        *,
        tag_name: str | None = None,
        tag_description: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Tag:
        """Rename or redescribe a tag (at least one of the two). Sent to the group path with
        the **tag** id, as the API wants. Documented quirk: an unknown tag answers 500, raised
        as :class:`NotFoundError` (``status_code`` 500)."""
        body = _TagBody()
        if tag_name is not None:
            body.tag_name = non_empty_str(tag_name, "tag_name")
        if tag_description is not None:
            body.tag_description = optional_str(tag_description, "tag_description") or ""
        if body == _TagBody():
            raise ValidationError("update needs tag_name or tag_description", field="tag_name")
        tid = _id(tag_id, "tag_id")
        path = GROUP_TAGS_PATH.format(id=tid)
        return await self._mapped(
            lambda: self._put(
                path,
                into=_tag,
                body=body,
                timeout=timeout,
                max_retries=self._capped(max_retries),
                extra_headers=extra_headers,
            ),
            f"tag {tid!r}",
        )

    async def delete(
        self,
        tag_id: str | Tag,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        """Delete a tag (sent to the group path with the **tag** id). An unknown tag raises
        :class:`NotFoundError` (a 404, or a 500 as tag update answers). Not retried once the
        server may have processed it."""
        tid = _id(tag_id, "tag_id")
        path = GROUP_TAGS_PATH.format(id=tid)
        await self._mapped(
            lambda: self._delete(
                path,
                into=ignore_body,
                timeout=timeout,
                max_retries=max_retries,
                extra_headers=extra_headers,
            ),
            f"tag {tid!r}",
        )
