"""A worker process of the scale-out tests: answers questions ``start .. start+count-1`` with
``ask_many`` paced by a RedisRateLimiter, and prints one JSON line per result.

    python tests/scale_worker.py '{"base_url": ..., "redis_url": ..., "key": ..., "rate": ...,
                                   "start": 0, "count": 500, "on_unavailable": "raise"}'
"""

from __future__ import annotations

import asyncio
import json
import sys

from fini_async import FiniClient, RedisRateLimiter
from fini_async.testing import WRITE_KEY


async def main(spec: dict[str, object]) -> None:
    limiter = RedisRateLimiter(
        str(spec["redis_url"]),
        str(spec["key"]),
        float(spec["rate"]),  # type: ignore[arg-type]
        on_unavailable=str(spec.get("on_unavailable", "raise")),
    )
    start = int(spec["start"])  # type: ignore[call-overload]
    count = int(spec["count"])  # type: ignore[call-overload]
    questions = [f"Question {i}: how do I upgrade my plan?" for i in range(start, start + count)]
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()  # "go": every worker starts at once
    async with (
        limiter,
        FiniClient(WRITE_KEY, base_url=str(spec["base_url"])) as client,
        client.bots.ask_many(questions, concurrency=8, rate_limit=limiter) as batch,
    ):
        async for result in batch:
            line = {"index": start + result.index, "ok": result.ok}
            if result.error is not None:
                line["error"] = type(result.error).__name__
            print(json.dumps(line), flush=True)
        print(json.dumps({"done": True, "rate_limited": batch.progress.rate_limited}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
