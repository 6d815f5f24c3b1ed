"""Batch answering on a Ray cluster: :func:`ask_dataset` answers a Ray Data dataset's questions
with a pool of async actors, each holding one :class:`FiniClient` (the ``ray`` extra).

::

    import ray
    from fini_async import RedisRateLimiter
    from fini_async.ray import ask_dataset

    ds = ray.data.read_parquet("questions.parquet")
    limiter = RedisRateLimiter("redis://10.0.0.5:6379/0", "fini:prod", rate=50)
    answered = ask_dataset(ds, column="question", concurrency=4, rate_limit=limiter)
    answered.write_parquet("answers/")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._exceptions import ValidationError
from ._ratelimit import RateLimiter, TokenBucket, check_rate
from ._redis_ratelimit import RedisRateLimiter

if TYPE_CHECKING:
    import ray.data

__all__ = ["ask_dataset"]

#: FiniClient options an actor's client may be given (``client_options``).
_CLIENT_OPTIONS = frozenset(
    {"timeout", "max_retries", "max_connections", "default_headers", "max_retry_after"}
)


class _Secret:
    """An API key on its way to the actors: pickled with them, never shown."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"

    def __getstate__(self) -> str:
        return self.value

    def __setstate__(self, state: str) -> None:
        self.value = state


@dataclass(frozen=True)
class _Settings:
    """Everything an actor needs, shipped to it by Ray (its repr hides the key)."""

    api_key: _Secret | None
    base_url: str | None
    client_options: Mapping[str, Any]
    column: str
    answer_column: str
    error_column: str
    requests_per_actor: int
    rate_limit: RateLimiter | float | None
    options: Mapping[str, Any] = field(default_factory=dict)


class _AskActor:
    """One Ray Data actor: one FiniClient (bound to the actor's event loop on first use) and one
    rate limiter, shared by the batches Ray hands it at once."""

    def __init__(self, settings: _Settings) -> None:
        from ._client import FiniClient

        self._settings = settings
        key = settings.api_key.value if settings.api_key is not None else None
        # Nothing opens here: the client binds to the actor's event loop at its first request.
        self._client = FiniClient(key, base_url=settings.base_url, **settings.client_options)
        rate = settings.rate_limit
        self._limiter: RateLimiter | None = (
            TokenBucket(rate) if isinstance(rate, (int, float)) else rate
        )

    def __repr__(self) -> str:
        return "_AskActor()"

    async def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        s = self._settings
        questions = batch[s.column]
        count = len(questions)
        answers: list[str | None] = [None] * count
        errors: list[str | None] = [None] * count
        try:
            # A row that is not a string (None, say) gets ask_many's ValidationError as its error.
            async with self._client.bots.ask_many(
                list(questions),
                concurrency=s.requests_per_actor,
                rate_limit=self._limiter,
                **s.options,
            ) as results:
                async for result in results:
                    if result.answer is not None:
                        answers[result.index] = result.answer.answer
                    else:
                        errors[result.index] = _describe(result.error)
        except Exception as exc:  # never fail the job: every row left unanswered gets the error
            for i in range(count):
                if answers[i] is None and errors[i] is None:
                    errors[i] = _describe(exc)
        out = dict(batch)
        out[s.answer_column] = np.array(answers, dtype=object)
        out[s.error_column] = np.array(errors, dtype=object)
        return out


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    return f"{type(error).__name__}: {error}"


def ask_dataset(
    ds: ray.data.Dataset,
    *,
    column: str = "question",
    concurrency: int = 2,
    rate_limit: float | RateLimiter | None = None,
    requests_per_actor: int = 32,
    batch_size: int = 64,
    api_key: str | None = None,
    base_url: str | None = None,
    client_options: Mapping[str, Any] | None = None,
    answer_column: str = "answer",
    error_column: str = "error",
    num_cpus: float = 0.5,
    **options: Any,
) -> ray.data.Dataset:
    """Answer every row's ``column`` with ``bots.ask_question``; returns the dataset (lazy, like
    any Ray Data transform) with two more columns: ``answer`` (the answer's text, None if the
    call failed) and ``error`` (``"RateLimitError: ..."``, None if it succeeded). A failed row
    never fails the job.

    ``concurrency`` actors (Ray Data's map_batches ``concurrency``) each hold one
    :class:`FiniClient` and answer the batches (``batch_size`` rows) Ray hands them with
    ``ask_many`` (``requests_per_actor`` requests in flight per batch). ``rate_limit`` paces them
    all: a number is split evenly among the actors (a local bucket each); a
    :class:`RedisRateLimiter` is shared by them (and by any other process using its key).
    ``options`` are ``ask_question``'s (``instruction=...``, ``timeout=...``).

    ``api_key`` and ``base_url`` default to the actors' ``FINI_API_KEY`` and ``FINI_BASE_URL``;
    an explicit key travels to the actors with their settings and never shows in a repr or log.
    ``client_options`` go to each actor's FiniClient (``timeout``, ``max_retries``, ...).

    Raises:
        ValidationError: for a bad argument or option, before anything runs.
        ConfigurationError: if Ray Data is not installed (the ``ray`` extra).
    """
    from .resources.bots import check_ask_options

    _check_sizes(
        concurrency=concurrency,
        requests_per_actor=requests_per_actor,
        batch_size=batch_size,
        column=column,
        answer_column=answer_column,
        error_column=error_column,
    )
    check_rate(num_cpus, "num_cpus")
    limit = _actor_rate(rate_limit, concurrency)
    check_ask_options(options)
    client_options = _check_client(api_key, client_options)
    _require_ray_data()
    settings = _Settings(
        api_key=_Secret(api_key) if api_key is not None else None,
        base_url=base_url,
        client_options=client_options,
        column=column,
        answer_column=answer_column,
        error_column=error_column,
        requests_per_actor=requests_per_actor,
        rate_limit=limit,
        options=dict(options),
    )
    return ds.map_batches(
        _AskActor,
        fn_constructor_args=(settings,),
        concurrency=concurrency,
        batch_size=batch_size,
        batch_format="numpy",
        num_cpus=num_cpus,
    )


def _check_sizes(
    *, concurrency: Any, requests_per_actor: Any, batch_size: Any, **columns: Any
) -> None:
    """ask_dataset's counts are positive integers and its column names non-empty strings."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValidationError(
            f"concurrency must be a positive integer (actors), got {concurrency!r}",
            field="concurrency",
        )
    for name, value in (("requests_per_actor", requests_per_actor), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(f"{name} must be a positive integer, got {value!r}", field=name)
    for name, text in columns.items():
        if not isinstance(text, str) or not text:
            raise ValidationError(f"{name} must be a non-empty string", field=name)


def _actor_rate(rate_limit: Any, concurrency: int) -> RateLimiter | float | None:
    """What each actor paces itself with: a shared RedisRateLimiter as it is, a number split
    evenly among the actors (each then makes a local bucket of its share)."""
    if rate_limit is None or isinstance(rate_limit, RedisRateLimiter):
        limiter: RedisRateLimiter | None = rate_limit
        return limiter
    if isinstance(rate_limit, (int, float)) and not isinstance(rate_limit, bool):
        total = check_rate(rate_limit)
        assert total is not None
        return total / concurrency
    raise ValidationError(
        "rate_limit must be a number (split among the actors) or a RedisRateLimiter (shared "
        f"by them); a {type(rate_limit).__name__} would be copied into each actor",
        field="rate_limit",
    )


def _check_client(api_key: Any, client_options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The actors' FiniClient options (a copy), checked, with the key they get."""
    options = dict(client_options or {})
    unknown = set(options) - _CLIENT_OPTIONS
    if unknown:
        raise ValidationError(
            f"unknown client option(s): {', '.join(sorted(unknown))}", field="client_options"
        )
    if api_key is not None and (not isinstance(api_key, str) or not api_key):
        raise ValidationError("api_key must be a non-empty string", field="api_key")
    return options


def _require_ray_data() -> None:
    from ._exceptions import ConfigurationError

    try:
        import numpy  # noqa: F401  (the actors build numpy columns)
        import ray.data  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "fini_async.ray needs Ray Data: pip install 'fini-async[ray]'"
        ) from None
