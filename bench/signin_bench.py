"""Benchmark: the time of a refused sign-in, for an email with an account (wrong password) and for one
without, at the production bcrypt cost (accounts.BCRYPT_COST). Equal times mean the answer does not tell who
has an account (docs/SECURITY.md; tests/test_signin_time.py proves the equal work without timing it).

    .venv/bin/python bench/signin_bench.py [--repeat 20]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import machine, row, timed  # noqa: E402
from mockup import create_app  # noqa: E402
from mockup.extensions import db  # noqa: E402
from mockup.services import accounts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    app = create_app({
        "APP_ENV": "testing", "DATA_DIR": str(folder / "data"), "BCRYPT_COST": accounts.BCRYPT_COST,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}", "EMBEDDED_RUNNER_AUTOSTART": False,
    })
    with app.app_context():
        db.create_all()
        accounts.register("known@example.com", "the right password", "Known")
        accounts.authenticate("nobody@example.com", "warm-up")  # the dummy hash is made once per process
        known, unknown = [], []
        for _ in range(args.repeat):  # taken in turns, so a busy moment of the machine hits both alike
            known += timed(lambda: accounts.authenticate("known@example.com", "a wrong password"), 1)
            unknown += timed(lambda: accounts.authenticate("nobody@example.com", "a wrong password"), 1)
    print(f"{machine()}, bcrypt cost {accounts.BCRYPT_COST}, {args.repeat} sign-ins each")
    print(row("known email, wrong password", known))
    print(row("unknown email", unknown))


if __name__ == "__main__":
    main()
