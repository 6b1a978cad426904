package dev.thoughtstream.bench.restore;

import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.StateRestoreListener;

/**
 * Kafka Streams' own account of a restore: it calls this listener when it starts restoring a store's changelog
 * partition, after each batch, and when the partition is caught up. Times are taken in the callbacks
 * ({@link System#nanoTime}), so they cover exactly the restoration, not the rebalance before it.
 */
final class RestoreTimings implements StateRestoreListener {
    private final Map<String, StoreRestore> stores = new TreeMap<>();
    private long firstStartNanos = Long.MAX_VALUE;
    private long lastEndNanos = Long.MIN_VALUE;

    /** One store's restore over all its partitions. */
    record StoreRestore(int partitions, int finished, long records, long startNanos, long endNanos) {
        double seconds() {
            return (endNanos - startNanos) / 1e9;
        }
    }

    @Override
    public synchronized void onRestoreStart(
            TopicPartition partition, String storeName, long startingOffset, long endingOffset) {
        long now = System.nanoTime();
        firstStartNanos = Math.min(firstStartNanos, now);
        stores.merge(
                storeName,
                new StoreRestore(1, 0, 0, now, now),
                (a, b) -> new StoreRestore(
                        a.partitions() + 1, a.finished(), a.records(), Math.min(a.startNanos(), now), a.endNanos()));
    }

    @Override
    public void onBatchRestored(TopicPartition partition, String storeName, long batchEndOffset, long numRestored) {
        // The totals come with onRestoreEnd.
    }

    @Override
    public synchronized void onRestoreEnd(TopicPartition partition, String storeName, long totalRestored) {
        long now = System.nanoTime();
        lastEndNanos = Math.max(lastEndNanos, now);
        stores.computeIfPresent(
                storeName,
                (name, a) -> new StoreRestore(
                        a.partitions(),
                        a.finished() + 1,
                        a.records() + totalRestored,
                        a.startNanos(),
                        Math.max(a.endNanos(), now)));
    }

    synchronized Map<String, StoreRestore> stores() {
        return new TreeMap<>(stores);
    }

    /** Seconds from the first partition's restore start to the last one's end; 0 when nothing was restored. */
    synchronized double totalSeconds() {
        return firstStartNanos == Long.MAX_VALUE || lastEndNanos == Long.MIN_VALUE
                ? 0.0
                : (lastEndNanos - firstStartNanos) / 1e9;
    }

    synchronized long totalRecords() {
        return stores.values().stream().mapToLong(StoreRestore::records).sum();
    }
}
