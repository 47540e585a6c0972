"""The Redis channel layer tells which groups anyone listens to, and run events go only to those."""

import asyncio
import time
import uuid

import pytest
from channels.layers import get_channel_layer

from runs import events
from trellis.channel_layer import RedisLayer

pytestmark = pytest.mark.asyncio


async def test_watched_groups_are_those_with_a_member_whose_membership_has_not_expired():
    layer = get_channel_layer()
    assert isinstance(layer, RedisLayer)
    listened, left, expired, never = (f"run_{uuid.uuid4().hex}" for _ in range(4))
    channel = await layer.new_channel()
    for group in (listened, left, expired):
        await layer.group_add(group, channel)
    await layer.group_discard(left, channel)
    # a membership older than group_expiry is one group_send would discard
    stale = time.time() - layer.group_expiry - 5
    await layer.connection(layer.consistent_hash(expired)).zadd(layer._group_key(expired), {channel: stale})
    assert await layer.watched_groups({listened, left, expired, never}) == {listened}
    assert await layer.watched_groups(set()) == set()
    await layer.group_discard(listened, channel)


async def test_a_batch_of_run_events_is_sent_only_to_the_runs_someone_watches(monkeypatch):
    layer = get_channel_layer()
    watched_run, *others = (uuid.uuid4() for _ in range(50))
    channel = await layer.new_channel()
    await layer.group_add(events.run_group(watched_run), channel)
    sent = []
    real_send = layer.group_send
    monkeypatch.setattr(layer, "group_send", lambda group, payload: sent.append(group) or real_send(group, payload))
    # when events of 50 runs are broadcast together, one of them watched
    batch = [
        (layer, events.run_group(run_id), {"type": "run.events", "events": [{"seq": seq}]})
        for seq in (1, 2)
        for run_id in (watched_run, *others)
    ]
    await events._send(batch)
    # then only the watched run's messages went through group_send, in order, and its listener got them
    assert sent == [events.run_group(watched_run)] * 2
    got = [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(2)]
    assert [m["events"][0]["seq"] for m in got] == [1, 2]
    await layer.group_discard(events.run_group(watched_run), channel)


async def test_when_the_layer_cannot_tell_who_listens_every_message_is_sent(monkeypatch):
    layer = get_channel_layer()

    async def fails(groups):
        raise ConnectionError("redis went away")

    monkeypatch.setattr(layer, "watched_groups", fails)
    sent = []
    monkeypatch.setattr(layer, "group_send", lambda group, payload: sent.append(group) or asyncio.sleep(0))
    groups = [f"run_{uuid.uuid4().hex}" for _ in range(3)]
    await events._send([(layer, group, {"type": "run.events", "events": []}) for group in groups])
    assert sent == groups
