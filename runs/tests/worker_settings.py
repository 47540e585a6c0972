"""Settings for the Celery worker that test_worker.py starts: the real settings, plus a queue of the
test's own so that concurrent test runs sharing one Redis never take each other's tasks."""

import os

from trellis.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["TRELLIS_TEST_QUEUE"]
