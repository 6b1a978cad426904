#!/usr/bin/env bash
# One-shot setup of the compose stack's broker, run by the `kafka-setup` service (apache/kafka image) before the
# services start: the feature levels the services need, then the pipeline's topics. Safe to run again.
#
# The services would create missing topics themselves (TopicAdmin); creating them here first means the partition
# count is decided once, by TOPIC_PARTITIONS, before any service races to it. Every chat-keyed topic must have the
# same count (co-partitioning), so an existing topic with another count is reported, never changed.
set -euo pipefail

bootstrap="${SETUP_BOOTSTRAP_SERVERS:-kafka:9092}"
bin="${KAFKA_BIN:-/opt/kafka/bin}"
prefix="${TOPIC_PREFIX:-}"
partitions="${TOPIC_PARTITIONS:-6}"
replication="${TOPIC_REPLICATION_FACTOR:-}"

# The pipeline's topics, as common/src/main/java/dev/thoughtstream/common/topic/Topics.java names them (a test
# keeps this line equal to Topics.allNames()).
topics=(tg.updates chat.thoughts chat.replies chat.delivered pipeline.dead-letters)

# Feature levels the services need (KIP-584 feature versioning). A data directory formatted by Kafka 4.3 already
# has both: `kafka-storage version-mapping` of 4.3 lists transaction.version=2 and share.version=1. A volume first
# formatted by an older broker keeps its older levels after the image is upgraded, so they are raised here:
#   transaction.version 2: KIP-890 transactions, which the chunker's exactly_once_v2 uses;
#   share.version 1: KIP-932 share groups, which llm-processor's LLM_MODE=auto|share uses to scale past the
#   partition count (without it, auto falls back to a classic consumer group).
required_features=(transaction.version=2 share.version=1)

finalized_level() {
  # `kafka-features describe` prints "Feature: <name> ... FinalizedVersionLevel: <level> ..." per feature.
  awk -v feature="$1" '$1 == "Feature:" && $2 == feature {
      for (i = 3; i < NF; i++) if ($i == "FinalizedVersionLevel:") { print $(i + 1); exit }
    }' <<<"$2"
}

echo "kafka-setup: waiting for the broker at $bootstrap"
for attempt in $(seq 1 60); do
  if features="$("$bin/kafka-features.sh" --bootstrap-server "$bootstrap" describe 2>/dev/null)"; then
    break
  fi
  if [[ $attempt == 60 ]]; then
    echo "kafka-setup: the broker at $bootstrap did not answer" >&2
    exit 1
  fi
  sleep 2
done

for required in "${required_features[@]}"; do
  name="${required%%=*}"
  wanted="${required#*=}"
  level="$(finalized_level "$name" "$features")"
  if [[ -z "$level" ]]; then
    echo "kafka-setup: the broker does not know the feature $name (Kafka 4.2 or newer is needed)" >&2
    exit 1
  fi
  if (( level >= wanted )); then
    echo "kafka-setup: $name is $level"
  else
    echo "kafka-setup: upgrading $name from $level to $wanted"
    "$bin/kafka-features.sh" --bootstrap-server "$bootstrap" upgrade --feature "$name=$wanted"
  fi
done

create_args=(--partitions "$partitions")
if [[ -n "$replication" ]]; then
  create_args+=(--replication-factor "$replication")
fi
for topic in "${topics[@]}"; do
  "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists --topic "$prefix$topic" \
    "${create_args[@]}"
done

# Report each topic's partition count; one that differs from TOPIC_PARTITIONS was there before. That is a warning,
# not a failure: changing TOPIC_PARTITIONS later must not keep the stack from starting.
for topic in "${topics[@]}"; do
  count="$("$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --describe --topic "$prefix$topic" \
    | awk '$1 == "Topic:" { for (i = 2; i < NF; i++) if ($i == "PartitionCount:") { print $(i + 1); exit } }')"
  if [[ "$count" == "$partitions" ]]; then
    echo "kafka-setup: $prefix$topic has $count partitions"
  else
    echo "kafka-setup: WARNING $prefix$topic has ${count:-unknown} partitions, not TOPIC_PARTITIONS=$partitions;" \
      "chat-keyed topics must all have the same count (it is left as it is)" >&2
  fi
done
