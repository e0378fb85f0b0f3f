"""Wait until every URL answers HTTP 200 while the given processes live.

    python scripts/wait_ready.py [--pid PID ...] URL [URL ...]

Exit 0 when all URLs answered, 1 when a watched process exited first or after 5 minutes.
"""

import argparse
import os
import sys
import time
import urllib.request


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pid", type=int, action="append", default=[])
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    pending = list(args.urls)
    while pending and time.monotonic() < deadline:
        if not all(alive(pid) for pid in args.pid):
            return 1
        if answers(pending[0]):
            pending.pop(0)
        else:
            time.sleep(0.5)
    return 0 if not pending else 1


if __name__ == "__main__":
    sys.exit(main())
