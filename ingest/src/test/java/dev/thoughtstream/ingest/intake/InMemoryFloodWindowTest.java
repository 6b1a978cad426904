package dev.thoughtstream.ingest.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** devstack's no-Redis flood window ranks like the Redis one: by update id, per person and window. */
class InMemoryFloodWindowTest {

    @Test
    void positionsCountEachPersonsUpdatesInTheWindowAndARedeliveryKeepsItsPlace() {
        InMemoryFloodWindow window = new InMemoryFloodWindow();

        assertEquals(0, window.position(7, 100, 11));
        assertEquals(1, window.position(7, 100, 12));
        assertEquals(0, window.position(8, 100, 13), "another person counts apart");
        assertEquals(2, window.position(7, 100, 14));
        assertEquals(1, window.position(7, 100, 12), "a redelivered update is judged as before");
    }

    @Test
    void aNewWindowStartsFromZeroAndALateUpdateOfAnOldWindowIsLetThrough() {
        InMemoryFloodWindow window = new InMemoryFloodWindow();
        window.position(7, 100, 11);
        window.position(7, 100, 12);

        assertEquals(0, window.position(7, 101, 20));
        assertEquals(0, window.position(7, 100, 13));
    }
}
