package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class DeadlineKeyTest {

    @Test
    void byteOrderIsDeadlineOrderThenChatIdOrderIncludingNegativeGroupIds() {
        Random random = new Random(7);
        long now = 1_772_440_000_000L;
        List<DeadlineKey> keys = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            keys.add(new DeadlineKey(now + random.nextInt(5000), random.nextLong()));
        }
        keys.add(new DeadlineKey(now, -1_001_234_567_890L));
        keys.add(new DeadlineKey(now, 1));
        keys.add(DeadlineKey.LOWEST);
        keys.add(DeadlineKey.lastDueAt(now));

        List<DeadlineKey> byValue = new ArrayList<>(keys);
        byValue.sort(Comparator.comparingLong(DeadlineKey::deadlineMs).thenComparingLong(DeadlineKey::chatId));
        List<DeadlineKey> byBytes = new ArrayList<>(keys);
        byBytes.sort((a, b) -> Arrays.compareUnsigned(a.toBytes(), b.toBytes()));

        assertEquals(byValue, byBytes);
    }

    @Test
    void everyKeyDueByNowLiesWithinTheScanBoundsAndNoLaterOne() {
        long now = 1_772_440_000_000L;
        byte[] low = DeadlineKey.LOWEST.toBytes();
        byte[] high = DeadlineKey.lastDueAt(now).toBytes();

        for (long chat : new long[] {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE}) {
            byte[] due = new DeadlineKey(now, chat).toBytes();
            byte[] notDue = new DeadlineKey(now + 1, chat).toBytes();
            assertEquals(true, Arrays.compareUnsigned(low, due) <= 0 && Arrays.compareUnsigned(due, high) <= 0);
            assertEquals(true, Arrays.compareUnsigned(notDue, high) > 0);
        }
    }

    @Test
    void theSerdeRoundTripsAndRejectsForeignBytes() {
        DeadlineKey key = new DeadlineKey(123_456_789L, -987L);

        byte[] bytes = DeadlineKey.SERDE.serializer().serialize("t", key);

        assertEquals(16, bytes.length);
        assertEquals(key, DeadlineKey.SERDE.deserializer().deserialize("t", bytes));
        assertThrows(
                SerializationException.class,
                () -> DeadlineKey.SERDE.deserializer().deserialize("t", new byte[3]));
    }
}
