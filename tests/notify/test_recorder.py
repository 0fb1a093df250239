"""The recorder's bound: what was done and not yet recorded never exceeds it."""

from __future__ import annotations

import threading
import time

import pytest

from services.notify.recorder import GroupRecorder, RecordingFailed


def test_the_producer_waits_before_making_what_could_not_be_recorded_in_time() -> None:
    release = threading.Event()
    recorded: list[int] = []
    made: list[int] = []

    def slow_record(group: list[int]) -> None:
        release.wait(10)
        recorded.extend(group)

    def produce(recorder: GroupRecorder[int]) -> None:
        for number in range(10):
            recorder.make_room()
            made.append(number)  # the message is sent here
            recorder.add(number)

    with GroupRecorder(slow_record, most_unrecorded=3, name="test-recorder") as recorder:
        producer = threading.Thread(target=produce, args=(recorder,))
        producer.start()
        time.sleep(0.3)
        assert len(made) - len(recorded) <= 3, "never more than the bound ahead"
        assert len(made) == 3
        release.set()
        producer.join(10)
    assert recorded == list(range(10))


def test_after_a_failure_nothing_more_is_made() -> None:
    def failing(_group: list[int]) -> None:
        raise ConnectionError("the database went away")

    recorder = GroupRecorder(failing, most_unrecorded=2, name="test-recorder")
    with pytest.raises(RecordingFailed), recorder:
        recorder.add(1)
        time.sleep(0.2)
        recorder.make_room()
