"""The development/CI broker is real Kafka: keyed messages keep per-key order through a group."""

from __future__ import annotations

import time
from collections import defaultdict
from uuid import uuid4

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

MESSAGES = 50
KEYS = [f"patient-{n}" for n in range(7)]


def test_keyed_messages_round_trip_in_order_through_a_consumer_group(
    kafka_bootstrap: str,
) -> None:
    topic = f"sonar.test.broker.{uuid4().hex[:12]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="sonar-test-admin")
    try:
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        described = admin.describe_topics([topic])
    finally:
        admin.close()
    assert len(described[0]["partitions"]) == 3

    sent: dict[str, list[int]] = defaultdict(list)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    try:
        futures = []
        for sequence in range(MESSAGES):
            key = KEYS[sequence % len(KEYS)]
            sent[key].append(sequence)
            futures.append(producer.send(topic, key=key.encode(),
                                         value=f"{key}:{sequence}".encode()))
        producer.flush(timeout=30)
        metadata = [future.get(timeout=30) for future in futures]  # every send acknowledged
    finally:
        producer.close()
    partitions_of_key: dict[str, set[int]] = defaultdict(set)
    for sequence, record_metadata in enumerate(metadata):
        partitions_of_key[KEYS[sequence % len(KEYS)]].add(record_metadata.partition)
    assert all(len(partitions) == 1 for partitions in partitions_of_key.values())
    assert len({record.partition for record in metadata}) > 1  # the keys spread out

    received: dict[str, list[int]] = defaultdict(list)
    consumer = KafkaConsumer(topic, bootstrap_servers=kafka_bootstrap,
                             group_id=f"sonar-test-{uuid4().hex[:8]}",
                             auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        count = 0
        deadline = time.monotonic() + 60
        while count < MESSAGES and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    key, _, sequence = record.value.decode().partition(":")
                    assert key == record.key.decode()
                    received[key].append(int(sequence))
                    count += 1
        consumer.commit()
        assert consumer.assignment()  # it joined the group and got partitions
    finally:
        consumer.close()

    assert received == sent  # nothing lost, nothing duplicated, each key in send order
