"""ObjectWriter keeps at most two parts in memory: a stalled S3 holds the producer back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from devstack import services
from devstack.faultproxy import FaultProxy
from exporter.upload import MAX_PARTS_IN_MEMORY, ObjectTarget, ObjectWriter

MiB = 1024 * 1024
PART = 5 * MiB
BLOCK = MiB


@pytest.fixture
def stalled_s3(s3_server: services.MotoThread) -> Iterator[FaultProxy]:
    # Part 1 passes; the upload of part 2 hangs until release().
    with FaultProxy((s3_server.host, s3_server.port), hold_after_bytes=PART + MiB) as proxy:
        yield proxy


def test_producer_waits_while_two_parts_are_in_memory(
    stalled_s3: FaultProxy, s3_client: Any, bucket: str
) -> None:
    target = ObjectTarget(bucket, "bounded.bin", "application/octet-stream", "attachment")
    written: list[int] = []
    failures: list[BaseException] = []
    data = [bytes([i]) * BLOCK for i in range(20)]  # 20 MiB: four parts

    def produce(writer: ObjectWriter) -> None:
        try:
            for block in data:
                writer.write(block)
                written.append(len(block))
            writer.finish()
        except BaseException as exc:  # reported to the test below
            failures.append(exc)

    with ObjectWriter(lambda: services.s3_client(stalled_s3.url), target, part_size=PART) as writer:
        producer = threading.Thread(target=produce, args=(writer,))
        producer.start()
        assert stalled_s3.wait_held(timeout=30)
        # Part 1 is uploaded, part 2 hangs: the producer may fill part 3, then must wait.
        producer.join(timeout=2)
        assert producer.is_alive()
        in_memory = sum(written) - PART  # part 1 is uploaded and freed
        assert PART <= in_memory <= MAX_PARTS_IN_MEMORY * PART

        stalled_s3.release()
        producer.join(timeout=30)

    assert not producer.is_alive() and failures == []
    body = s3_client.get_object(Bucket=bucket, Key="bounded.bin")["Body"].read()
    assert body == b"".join(data)
