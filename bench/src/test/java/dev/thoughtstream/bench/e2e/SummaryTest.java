package dev.thoughtstream.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SummaryTest {

    @Test
    void percentilesAreNearestRankSoEachIsAValueThatOccurred() {
        List<Double> samples = new ArrayList<>();
        for (int i = 100; i >= 1; i--) {
            samples.add((double) i);
        }
        Summary s = Summary.of(samples);
        assertEquals(100, s.count());
        assertEquals(50, s.p50());
        assertEquals(95, s.p95());
        assertEquals(99, s.p99());
        assertEquals(100, s.max());
    }

    @Test
    void eachFigureIsPrintedBesideItsRatioToTheFloor() {
        Summary pipeline = Summary.of(List.of(20.0, 40.0));
        Summary floor = Summary.of(List.of(2.0, 4.0));
        String line = pipeline.formatAgainst(floor);
        assertTrue(line.startsWith("p50 20.0 (10.0x floor)"), line);
        assertTrue(line.contains("max 40.0 (10.0x floor)"), line);
    }

    @Test
    void noSamplesPrintsNotAvailableRatherThanANumber() {
        Summary empty = Summary.of(List.of());
        assertEquals(0, empty.count());
        assertTrue(empty.format().startsWith("p50 n/a"), empty.format());
        assertTrue(Summary.of(List.of(1.0)).formatAgainst(empty).contains("(n/a)"));
    }
}
