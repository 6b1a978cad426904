package dev.thoughtstream.chunker.thought;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EarlyCommitsTest {
    private static final long T0 = 1_800_000_000_000L;

    @Test
    void outputIsWorthACommitWhileTheInputIsBelowTheLimit() {
        EarlyCommits commits = new EarlyCommits(100);

        inputs(commits, 99, T0, 10);

        assertTrue(now(commits, T0 + 990), "99 updates in the last second is below 100");
    }

    @Test
    void outputWaitsForTheIntervalOnceTheInputReachesTheLimit() {
        EarlyCommits commits = new EarlyCommits(100);

        inputs(commits, 100, T0, 9);

        assertFalse(now(commits, T0 + 900), "100 updates in the last second is the limit");
    }

    @Test
    void theEarlierSecondCountsByHowMuchOfItIsStillWithinTheLastSecond() {
        // given 200 updates spread over one second, then nothing
        EarlyCommits commits = new EarlyCommits(100);
        inputs(commits, 200, T0, 5);

        // then a quarter of the way into the next second three quarters of them still count, and later fewer
        assertEquals(150.0, commits.ratePerSecond(T0 + 1250), 0.001);
        assertFalse(now(commits, T0 + 1250));
        assertEquals(50.0, commits.ratePerSecond(T0 + 1750), 0.001);
        assertTrue(now(commits, T0 + 1750), "the burst has mostly passed");
    }

    @Test
    void aQuietSecondForgetsTheBurstBeforeIt() {
        EarlyCommits commits = new EarlyCommits(100);
        inputs(commits, 1000, T0, 1);

        assertFalse(now(commits, T0 + 999));
        assertEquals(0.0, commits.ratePerSecond(T0 + 2500), 0.001);
        assertTrue(now(commits, T0 + 2500));
    }

    @Test
    void aWallClockThatStepsBackKeepsTheCountRatherThanForgettingIt() {
        EarlyCommits commits = new EarlyCommits(100);
        inputs(commits, 150, T0, 1);

        assertFalse(now(commits, T0 - 5000), "the updates just counted still count");
    }

    @Test
    void earlyCommitsComeAtMostOnceEveryTwentyMilliseconds() {
        EarlyCommits commits = new EarlyCommits(100);

        assertTrue(now(commits, T0));
        assertEquals(
                EarlyCommits.Decision.SOON,
                commits.decide(T0 + 10),
                "10 ms after the last early commit: asked again at the next punctuation");
        assertTrue(now(commits, T0 + 20));
    }

    @Test
    void zeroNeverAsksForACommit() {
        EarlyCommits commits = EarlyCommits.never();

        assertFalse(now(commits, T0), "no input at all, and still no early commit");
    }

    @Test
    void aNegativeLimitIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new EarlyCommits(-1));
    }

    private static boolean now(EarlyCommits commits, long nowMs) {
        return commits.decide(nowMs) == EarlyCommits.Decision.NOW;
    }

    private static void inputs(EarlyCommits commits, int count, long fromMs, long everyMs) {
        for (int i = 0; i < count; i++) {
            commits.recordInput(fromMs + i * everyMs);
        }
    }
}
