"""Exit 0 when the web process on this host answers /healthz with 200: the image's HEALTHCHECK (the slim
image has no curl). /healthz itself checks the database and Redis."""
from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from any folder

import config  # noqa: E402


def main() -> int:
    url = f"http://127.0.0.1:{config.from_env()['PORT']}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:  # refused, timed out, or an HTTP error status such as 503
        print(f"{url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
