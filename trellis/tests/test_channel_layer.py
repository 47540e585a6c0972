"""The Redis channel layer tells which groups anyone listens to, and run events go only to those."""

import asyncio
import time
import uuid

import pytest
from channels.layers import get_channel_layer

from runs import events
from trellis.channel_layer import RedisLayer


@pytest.mark.asyncio
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


@pytest.mark.asyncio
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


@pytest.mark.asyncio
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


def test_messages_handed_over_while_the_loop_is_busy_go_as_one_batch_in_order():
    import threading

    class Layer:
        def __init__(self):
            self.asked, self.sent = [], []

        async def watched_groups(self, groups):
            self.asked.append(set(groups))
            return {g for g in groups if g.endswith("0")}

        async def group_send(self, group, payload):
            self.sent.append((group, payload["n"]))

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    busy, layer = threading.Event(), Layer()
    loop.call_soon_threadsafe(busy.wait)  # the loop is busy (a batch being sent) while messages come in
    wakes = []
    real_call_soon_threadsafe = loop.call_soon_threadsafe
    loop.call_soon_threadsafe = lambda *a: wakes.append(a) or real_call_soon_threadsafe(*a)
    sender = events._LoopSender(loop)
    for n in range(100):
        sender.submit(layer, f"run_{n % 20}", {"n": n})
    loop.call_soon_threadsafe = real_call_soon_threadsafe
    busy.set()
    asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), loop).result(5)
    # the loop was woken once to send them, not once per message
    assert len(wakes) == 1
    # one question for the whole batch, and only the watched groups' messages, in the order handed over
    assert layer.asked == [{f"run_{i}" for i in range(20)}]
    assert layer.sent == [(f"run_{n % 20}", n) for n in range(100) if n % 20 in (0, 10)]
    # and the sender is ready for the next batch
    loop.call_soon_threadsafe = lambda *a: wakes.append(a) or real_call_soon_threadsafe(*a)
    sender.submit(layer, "run_0", {"n": 100})
    loop.call_soon_threadsafe = real_call_soon_threadsafe
    asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), loop).result(5)
    assert layer.sent[-1] == ("run_0", 100) and len(layer.asked) == 2 and len(wakes) == 2
    loop.call_soon_threadsafe(loop.stop)


def test_through_redis_a_workers_messages_are_gathered_briefly_into_one_batch(monkeypatch):
    # given a worker's events, published over 50 ms through the Redis layer (gathering for 200 ms here)
    batches = []

    async def record(batch):
        batches.append([payload["n"] for _, _, payload in batch])

    monkeypatch.setattr(events, "_send", record)
    monkeypatch.setattr(events, "REDIS_GATHER_S", 0.2)
    monkeypatch.setattr(events, "_senders", {})
    for n in range(5):
        events.send_to_group(f"run_{uuid.uuid4().hex}", {"type": "run.events", "n": n})
        time.sleep(0.01)
    deadline = time.monotonic() + 5
    while not batches and time.monotonic() < deadline:
        time.sleep(0.01)
    # then they went as one batch, in order
    assert batches == [[0, 1, 2, 3, 4]]
