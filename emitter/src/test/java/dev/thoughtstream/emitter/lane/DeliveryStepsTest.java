package dev.thoughtstream.emitter.lane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.emitter.lane.DeliverySteps.Event;
import dev.thoughtstream.emitter.lane.DeliverySteps.Step;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Walks the delivery table: every step is reachable, every way ends, and the ways docs/emitter.md tells are in it. */
class DeliveryStepsTest {

    private static Step walk(Step from, Event... events) {
        Step at = from;
        for (Event event : events) {
            at = DeliverySteps.next(at, event);
        }
        return at;
    }

    @Test
    void aPartThatNothingStopsGoesCheckReadTypePaceSendDone() {
        // given a queued part, when nothing stands in its way
        Step end = walk(
                Step.QUEUED, Event.START, Event.CLEAR, Event.ELAPSED, Event.ELAPSED, Event.GRANTED, Event.FINISHED);

        // then it is done after one attempt
        assertEquals(Step.DONE, end);
    }

    @Test
    void aPartOfSeveralMessagesIsCheckedAgainBeforeEachNextMessage() {
        assertEquals(Step.CHECKING, walk(Step.SENDING, Event.NEXT_MESSAGE));
        assertEquals(Step.CHECKING, walk(Step.CHECKING, Event.NEXT_MESSAGE), "a message found sent earlier");
    }

    @Test
    void aMessageTelegramDidNotTakeWaitsAndAsksForANewPermit() {
        assertEquals(Step.PACING, walk(Step.SENDING, Event.NOT_TAKEN, Event.ELAPSED));
    }

    @Test
    void aRedisOutageWaitsAndRepeatsTheStepItInterrupted() {
        assertEquals(Step.CHECKING, walk(Step.CHECKING, Event.REDIS_DOWN, Event.ELAPSED));
        assertEquals(Step.PACING, walk(Step.SENDING, Event.REDIS_DOWN, Event.ELAPSED));
    }

    @Test
    void everyStepOnTheWayCanBeDroppedAsStaleLetGoOrFailed() {
        for (Step step : Step.values()) {
            if (step.terminal()) {
                continue;
            }
            assertEquals(Step.DONE, DeliverySteps.next(step, Event.STALE), step + " on STALE");
            assertEquals(Step.LEFT, DeliverySteps.next(step, Event.ABANDONED), step + " on ABANDONED");
            assertEquals(Step.DONE, DeliverySteps.next(step, Event.ERROR), step + " on ERROR");
        }
    }

    @Test
    void everyStepIsReachableFromQueuedAndEveryStepCanReachAnEnd() {
        // when the table is walked from QUEUED
        Set<Step> reached = reachableFrom(Step.QUEUED);

        // then every step is on some way
        assertEquals(EnumSet.allOf(Step.class), reached);
        // and from every step some way leads to DONE
        for (Step step : Step.values()) {
            if (step != Step.LEFT) {
                assertTrue(reachableFrom(step).contains(Step.DONE), step + " cannot reach DONE");
            }
        }
    }

    @Test
    void theEndsAreFinal() {
        for (Step end : List.of(Step.DONE, Step.LEFT)) {
            assertTrue(DeliverySteps.exits(end).isEmpty(), end + " has exits");
            assertThrows(IllegalStateException.class, () -> DeliverySteps.next(end, Event.START));
        }
    }

    @Test
    void anEventAStepDoesNotExpectIsABug() {
        // given a part waiting for a permit, when its typing delay "ends"
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> DeliverySteps.next(Step.PACING, Event.ELAPSED));

        // then the table refuses, naming both
        assertTrue(e.getMessage().contains("PACING") && e.getMessage().contains("ELAPSED"), e.getMessage());
    }

    @Test
    void onlyTheStepsWithABlockingCallWaitForItToHearNews() {
        Set<Step> running = EnumSet.noneOf(Step.class);
        for (Step step : Step.values()) {
            if (step.callRunning()) {
                running.add(step);
            }
        }
        assertEquals(EnumSet.of(Step.CHECKING, Step.SENDING), running);
    }

    private static Set<Step> reachableFrom(Step start) {
        Set<Step> seen = EnumSet.of(start);
        Deque<Step> todo = new ArrayDeque<>(List.of(start));
        while (!todo.isEmpty()) {
            for (Step next : DeliverySteps.exits(todo.poll()).values()) {
                if (seen.add(next)) {
                    todo.add(next);
                }
            }
        }
        return seen;
    }
}
