"""How a source's refresh reads to the :class:`~fini_async.JobPoller` behind
``client.sources.wait_for_refresh``: the linked job's status, or a settled state when no job is
linked (a source with an error and no job has failed)."""

from __future__ import annotations

from .._poller import make_classifier
from ._sources_models import SourceDocument

__all__ = ["classify_refresh", "refresh_state"]

#: The state a source reports for the poller when no job is linked to it.
_NO_JOB = "NONE"


def refresh_state(doc: SourceDocument) -> str:
    if doc.linked_job_status:
        return doc.linked_job_status
    return "FAILED" if doc.error else _NO_JOB


classify_refresh = make_classifier(
    completed=["COMPLETED", _NO_JOB],
    failed=["FAILED"],
    running=["PENDING", "IN_PROGRESS"],
    name="source refreshes",
)
