package dev.thoughtstream.common.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class TopicsTest {

    @Test
    void everyTopicNameCarriesThePrefix() {
        Topics topics = Topics.withPrefix("staging.");

        assertEquals(
                List.of(
                        "staging.tg.updates",
                        "staging.chat.thoughts",
                        "staging.chat.replies",
                        "staging.chat.delivered",
                        "staging.pipeline.dead-letters"),
                topics.allNames());
    }

    @Test
    void noPrefixMeansTheArchitecturesNames() {
        Topics topics = Topics.withPrefix(null);

        assertEquals("tg.updates", topics.updates().name());
        assertEquals("chat.thoughts", topics.thoughts().name());
    }
}
