package dev.thoughtstream.common.lane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyedLanesTest {

    @Test
    void aKeysItemsBecomeTheHeadOneAfterAnotherInTheOrderTheyWereAdded() {
        // given three items of one key
        KeyedLanes<Long, String> lanes = new KeyedLanes<>();
        boolean firstStarts = lanes.add(1L, "a");
        boolean secondStarts = lanes.add(1L, "b");
        lanes.add(1L, "c");

        // when the heads are done one by one
        List<String> heads = new ArrayList<>();
        heads.add(lanes.head(1L));
        for (String next = lanes.advance(1L); next != null; next = lanes.advance(1L)) {
            heads.add(next);
        }

        // then only the first was a head at once, and they came in order; the key is forgotten at the end
        assertTrue(firstStarts);
        assertFalse(secondStarts);
        assertEquals(List.of("a", "b", "c"), heads);
        assertEquals(0, lanes.keys());
        assertEquals(0, lanes.size());
        assertNull(lanes.head(1L));
    }

    @Test
    void keysAreIndependent() {
        // given a busy key
        KeyedLanes<Long, String> lanes = new KeyedLanes<>();
        lanes.add(1L, "1a");
        lanes.add(1L, "1b");

        // when another key gets an item
        boolean otherStarts = lanes.add(2L, "2a");

        // then it is that key's head at once, whatever the first key holds
        assertTrue(otherStarts);
        assertEquals("2a", lanes.head(2L));
        assertEquals(2, lanes.keys());
        assertEquals(3, lanes.size());
    }

    @Test
    void removingQueuedItemsLeavesHeadsAndTheOrderOfTheRest() {
        // given two keys with queued items
        KeyedLanes<Long, String> lanes = new KeyedLanes<>();
        lanes.add(1L, "drop-head");
        lanes.add(1L, "keep-1");
        lanes.add(1L, "drop-1");
        lanes.add(1L, "keep-2");
        lanes.add(2L, "keep-head");
        lanes.add(2L, "drop-2");

        // when the queued items named "drop" are removed
        List<String> removed = lanes.removeQueued(item -> item.startsWith("drop"));

        // then the heads stay, whatever they are called, and the rest keep their order
        assertEquals(List.of("drop-1", "drop-2"), removed.stream().sorted().toList());
        assertEquals("drop-head", lanes.head(1L));
        assertEquals(List.of("keep-1", "keep-2"), toList(lanes.queued(1L)));
        assertEquals("keep-head", lanes.head(2L));
        assertEquals(List.of(), toList(lanes.queued(2L)));
        assertEquals(4, lanes.size());
    }

    @Test
    void clearForgetsEverything() {
        // given work under two keys
        KeyedLanes<Long, String> lanes = new KeyedLanes<>();
        lanes.add(1L, "a");
        lanes.add(2L, "b");
        lanes.add(2L, "c");

        // when cleared
        lanes.clear();

        // then nothing is held, and a new item starts at once
        assertEquals(0, lanes.keys());
        assertEquals(0, lanes.size());
        assertTrue(lanes.add(2L, "d"));
    }

    private static List<String> toList(Iterable<String> items) {
        List<String> out = new ArrayList<>();
        items.forEach(out::add);
        return out;
    }
}
