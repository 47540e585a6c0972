"""Run the budget tests on SQLite as the default mode uses it (a file in WAL mode, IMMEDIATE transactions),
not pytest-django's shared in-memory database, whose table locks no real deployment has:

    DATABASE_URL=sqlite:///$(mktemp -u).sqlite3 .venv/bin/python -m pytest budgets/tests/test_reservations.py \\
        budgets/tests/test_prices.py --ds budgets.tests.sqlite_settings
"""

import tempfile
from pathlib import Path

from trellis.settings_test import *  # noqa: F403

DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / "trellis-budgets-test.sqlite3")}  # noqa: F405
