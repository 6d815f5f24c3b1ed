"""Sharely's knowledge API: ``SharelyClient`` and its types."""

from .._public import public_module as _public_module
from ._auth import SharelyTokenAuth, jwt_expiry
from ._categories import CategoriesResource
from ._client import DEFAULT_SHARELY_BASE_URL, SharelyClient
from ._knowledge import ALLOWED_UPLOAD_TYPES, KnowledgeList, KnowledgeResource, content_type_for
from ._models import (
    TEMPORAL_STATUS_CODES,
    Accepted,
    BackgroundJob,
    Category,
    CreatedKnowledge,
    CreatedRole,
    DeletedKnowledge,
    Knowledge,
    KnowledgePage,
    KnowledgeRef,
    RagAnswer,
    RagChunk,
    Role,
    SearchResult,
    Space,
    Taxonomy,
    TaxonomyLanguage,
    UpdatedMetadata,
    UploadedFile,
    UploadFileMetadata,
    UserSpace,
    Workspace,
    WorkspaceSettings,
    classify_job_status,
    normalise_job_status,
)
from ._roles import RolesResource
from ._spaces import SpacesResource
from ._taxonomies import TaxonomiesResource
from ._workspace import WorkspaceResource

SharelyBackgroundJob = BackgroundJob
SharelyCreatedKnowledge = CreatedKnowledge
SharelyDeletedKnowledge = DeletedKnowledge
SharelyKnowledge = Knowledge
SharelyKnowledgeList = KnowledgeList
SharelyKnowledgePage = KnowledgePage
SharelyKnowledgeRef = KnowledgeRef
SharelyUpdatedMetadata = UpdatedMetadata
SharelyUploadedFile = UploadedFile
SharelyUploadFileMetadata = UploadFileMetadata

__all__ = [
    "ALLOWED_UPLOAD_TYPES",
    "DEFAULT_SHARELY_BASE_URL",
    "TEMPORAL_STATUS_CODES",
    "Accepted",
    "BackgroundJob",
    "CategoriesResource",
    "Category",
    "CreatedKnowledge",
    "CreatedRole",
    "DeletedKnowledge",
    "Knowledge",
    "KnowledgeList",
    "KnowledgePage",
    "KnowledgeRef",
    "KnowledgeResource",
    "RagAnswer",
    "RagChunk",
    "Role",
    "RolesResource",
    "SearchResult",
    "SharelyBackgroundJob",
    "SharelyClient",
    "SharelyCreatedKnowledge",
    "SharelyDeletedKnowledge",
    "SharelyKnowledge",
    "SharelyKnowledgeList",
    "SharelyKnowledgePage",
    "SharelyKnowledgeRef",
    "SharelyTokenAuth",
    "SharelyUpdatedMetadata",
    "SharelyUploadFileMetadata",
    "SharelyUploadedFile",
    "Space",
    "SpacesResource",
    "TaxonomiesResource",
    "Taxonomy",
    "TaxonomyLanguage",
    "UpdatedMetadata",
    "UploadFileMetadata",
    "UploadedFile",
    "UserSpace",
    "Workspace",
    "WorkspaceResource",
    "WorkspaceSettings",
    "classify_job_status",
    "content_type_for",
    "jwt_expiry",
    "normalise_job_status",
]

_public_module(globals(), __all__, __name__)
