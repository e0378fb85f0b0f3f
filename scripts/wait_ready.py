"""Wait until every URL given answers HTTP 200 (servers starting up); exit 1 after a timeout."""

import sys
import time
import urllib.request


def wait_ready(urls, timeout: float = 300.0) -> bool:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        url = pending[0]
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    pending.pop(0)
                    continue
        except OSError:
            pass
        time.sleep(0.5)
    return not pending


if __name__ == "__main__":
    sys.exit(0 if wait_ready(sys.argv[1:]) else 1)
