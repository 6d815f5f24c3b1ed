import anyio
import pytest

from fini_async._exceptions import ValidationError
from fini_async._ratelimit import TokenBucket


async def test_bucket_caps_rate() -> None:
    bucket = TokenBucket(100, burst=5)
    start = anyio.current_time()
    for _ in range(45):
        await bucket.acquire()
    # 5 burst + 40 at 100/s => at least ~0.4 s
    assert anyio.current_time() - start >= 0.35


def test_bucket_rejects_bad_rate() -> None:
    with pytest.raises(ValidationError):
        TokenBucket(0)
