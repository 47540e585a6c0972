"""runs/persistence/sql.py: values for hand-written statements, as the ORM would write them."""

import datetime as dt
import uuid

from runs.persistence.sql import _sqlite_datetime, _uuid_hex


def test_sqlite_datetimes_and_uuids_are_written_as_djangos_sqlite_backend_writes_them():
    utc = dt.datetime(2026, 12, 6, 17, 4, 5, 123456, tzinfo=dt.UTC)
    assert _sqlite_datetime(utc) == "2026-12-06 17:04:05.123456"
    assert _sqlite_datetime(utc.astimezone(dt.timezone(dt.timedelta(hours=-5)))) == "2026-12-06 17:04:05.123456"
    assert _sqlite_datetime(utc.replace(microsecond=0)) == "2026-12-06 17:04:05"
    assert _sqlite_datetime(None) is None
    value = uuid.uuid4()
    assert _uuid_hex(value) == _uuid_hex(str(value)) == value.hex
    assert _uuid_hex(None) is None
