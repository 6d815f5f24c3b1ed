"""``python -m fini_async.testing [--host H] [--port N]``: run the emulator standalone."""

from __future__ import annotations

import argparse
import asyncio

from ._fini import READ_KEY, WRITE_KEY, FakeFini


async def _serve(host: str, port: int) -> None:
    fake = FakeFini(host=host, port=port)
    await fake.start()
    print(f"Fini emulator on {fake.url}", flush=True)
    print(f"  write key: {WRITE_KEY}\n  read-only key: {READ_KEY}", flush=True)
    print(
        f"  try: FINI_BASE_URL={fake.url} FINI_API_KEY={WRITE_KEY} fini-async ask 'What is Fini?'"
    )
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fini_async.testing")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
