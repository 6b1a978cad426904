package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A rebalance moves waiting parts to their partition's new owner; none is lost and none is sent twice. */
class EmitterRebalanceTest {
    private EmitterFixture fx;
    private final List<Long> chats = new ArrayList<>();

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("rebalance");
        // One chat per partition.
        for (long id = 5_401; chats.size() < TestKafka.PARTITIONS; id++) {
            long candidate = id;
            if (chats.stream().noneMatch(c -> fx.partitionOf(c) == fx.partitionOf(candidate))) {
                chats.add(candidate);
                fx.chatOpens(candidate);
            }
        }
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void partitionsTakenOverByASecondInstanceHaveTheirWaitingPartsSentThereOnceAndTheRestFollowOnClose() {
        // given an instance typing a part for every partition, for a minute each
        EmitterService first = fx.startEmitter(Map.of("TYPING_MIN_MS", "60000", "TYPING_MAX_MS", "60000"));
        for (long chat : chats) {
            fx.produce(EmitterFixture.part(chat, "r-" + chat, 0, true, "for " + chat));
        }
        Await.until(
                "typing in every chat",
                EmitterFixture.TIMEOUT,
                () -> chats.stream().allMatch(c -> fx.typingCalls(c) >= 1));

        // when a second, quick instance joins the group
        fx.startEmitter();

        // then it gets at least one partition and sends that partition's part at once
        Await.until(
                "a part sent by the new instance",
                EmitterFixture.TIMEOUT,
                () -> chats.stream().anyMatch(c -> !fx.emulator.botTexts(c).isEmpty()));

        // and when the first instance stops, the second sends the rest
        first.close();
        for (long chat : chats) {
            assertEquals(List.of("for " + chat), fx.awaitBotTexts(chat, 1));
        }
        // and every part reached its chat once and was reported once, SENT
        for (long chat : chats) {
            assertEquals(1, fx.sendMessageCalls(chat), "chat " + chat);
            List<Delivery> outcomes = fx.awaitDeliveries("the outcome for " + chat, 1, d -> d.chatId() == chat).stream()
                    .filter(d -> d.chatId() == chat)
                    .toList();
            assertEquals(1, outcomes.size(), outcomes.toString());
            assertEquals(Delivery.Outcome.SENT, outcomes.get(0).outcome());
        }
    }
}
