"""The per-trigger rate limit counts in the shared cache, so every web process sees the same count."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from runs.triggers import ratelimit

ROOT = Path(__file__).resolve().parents[3]


def test_the_count_is_shared_with_another_process(settings):
    # A day-long window: the count cannot roll over between the two processes.
    bucket = f"test:{uuid.uuid4().hex}"
    script = (
        "import django; django.setup(); from runs.triggers.ratelimit import hit; "
        f"print([hit({bucket!r}, limit=3, window_s=86400) for _ in range(2)])"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "trellis.settings_test", "REDIS_URL": settings.REDIS_URL}

    other = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)

    assert other.stdout.strip() == "[None, None]", other.stderr
    assert ratelimit.hit(bucket, limit=3, window_s=86400) is None  # the third call overall
    retry_after = ratelimit.hit(bucket, limit=3, window_s=86400)  # the fourth
    assert retry_after is not None and 1 <= retry_after <= 86400
