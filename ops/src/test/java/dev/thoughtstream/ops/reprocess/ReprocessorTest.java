package dev.thoughtstream.ops.reprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which topics a reprocess deletes, and where it writes the fence: names the chunker and Kafka Streams agree on. */
class ReprocessorTest {

    @Test
    void theInternalTopicsAreTheApplicationsChangelogAndRepartitionTopicsAsTheStreamsResetToolPicksThem() {
        assertTrue(Reprocessor.isInternalTopic("app", "app-chat-context-changelog"));
        assertTrue(Reprocessor.isInternalTopic("app", "app-KSTREAM-REPARTITION-0000000003-repartition"));
        // another application's, the fence, and the input are not
        assertFalse(Reprocessor.isInternalTopic("app", "app2-chat-context-changelog"));
        assertFalse(Reprocessor.isInternalTopic("app", "app-reprocess-fence"));
        assertFalse(Reprocessor.isInternalTopic("app", "tg.updates"));
    }

    @Test
    void theFenceTopicIsNamedAfterTheApplicationAndIsNotAnInternalTopic() {
        assertEquals("thoughtstream-chunker-reprocess-fence", Reprocessor.fenceTopic("thoughtstream-chunker"));
        assertFalse(
                Reprocessor.isInternalTopic("thoughtstream-chunker", Reprocessor.fenceTopic("thoughtstream-chunker")));
    }
}
