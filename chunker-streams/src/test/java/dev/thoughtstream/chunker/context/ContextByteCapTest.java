package dev.thoughtstream.chunker.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ContextMessage.Role;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.serde.JsonSerde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The byte cap on one chat's stored context ({@code CONTEXT_MAX_BYTES}) and how a message is weighed. */
class ContextByteCapTest {
    private static final long NOW = 1_772_440_000_000L;
    private static final int CAP = 1024;

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "plain ascii",
                "quote \" and backslash \\",
                "tab\tnewline\ncr\rbell\u0007nul\u0000",
                "del\u007f slash /",
                "é ß ü",
                "日本語のテキスト",
                "emoji 😀👍🏽",
                "lone \ud800 surrogate",
                "\u2028 separators \u2029"
            })
    void aTextIsWeighedExactlyAsJacksonWritesIt(String text) throws Exception {
        byte[] json = Json.mapper().writeValueAsBytes(text);

        // the JSON string minus its two quotes
        assertEquals(json.length - 2, ContextBytes.encodedLength(text));
    }

    @Test
    void randomTextsAreWeighedExactlyAsJacksonWritesThem() throws Exception {
        Random random = new Random(11);
        for (int i = 0; i < 500; i++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(40);
            for (int j = 0; j < length; j++) {
                text.append((char) random.nextInt(Character.MAX_VALUE + 1));
            }
            String s = text.toString();
            assertEquals(Json.mapper().writeValueAsBytes(s).length - 2, ContextBytes.encodedLength(s), s);
        }
    }

    @Test
    void aMessagesWeightIsAnUpperBoundOfItsJson() throws Exception {
        ContextMessage widest = new ContextMessage(Role.ASSISTANT, "x", Long.MIN_VALUE);

        // its JSON plus the comma that separates it from the next one in the list
        assertTrue(Json.mapper().writeValueAsBytes(widest).length + 1 <= ContextBytes.of(widest));
    }

    @Test
    void givenMessagesOverTheCap_whenPruned_thenTheOldestGoEvenBelowTheMinimumMessages() {
        // given a policy whose minimum (100) would keep everything, and a cap of 1024 bytes
        ContextPolicy policy = policy(CAP);
        // and five messages of 300 bytes each (236 characters + 64 overhead): three would weigh 900, four 1200
        List<ContextMessage> messages = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            messages.add(new ContextMessage(i % 2 == 0 ? Role.ASSISTANT : Role.USER, i + "x".repeat(235), NOW));
        }
        assertEquals(300, ContextBytes.of(messages.get(0)));

        // when the context is pruned
        List<ContextMessage> kept = ChatContext.prune(messages, NOW, policy);

        // then only the newest three remain, although the minimum is a hundred
        assertEquals(messages.subList(2, 5), kept);
        assertTrue(new ChatContext(kept, 0).bytes() <= CAP);
    }

    @Test
    void givenOneMessageHeavierThanTheCap_whenPruned_thenItIsKeptAloneCutToFitAndMarkedAsCut() {
        ContextPolicy policy = policy(CAP);
        // an emoji straddles the cut point: 6 + 6 bytes each, so a cut inside one would split a surrogate pair
        String text = "start " + "😀".repeat(200);
        ContextMessage older = new ContextMessage(Role.USER, "earlier", NOW);
        ContextMessage huge = new ContextMessage(Role.ASSISTANT, text, NOW + 1);

        List<ContextMessage> kept = ChatContext.prune(List.of(older, huge), NOW + 1, policy);

        assertEquals(1, kept.size());
        ContextMessage cut = kept.get(0);
        assertEquals(Role.ASSISTANT, cut.role());
        assertEquals(NOW + 1, cut.atMs());
        assertTrue(cut.text().endsWith(ContextBytes.TRUNCATION_MARKER), cut.text());
        String prefix = cut.text().substring(0, cut.text().length() - ContextBytes.TRUNCATION_MARKER.length());
        assertTrue(text.startsWith(prefix));
        assertFalse(Character.isHighSurrogate(prefix.charAt(prefix.length() - 1)), "a surrogate pair was split");
        assertTrue(ContextBytes.of(cut) <= CAP, "weighs " + ContextBytes.of(cut));
        // as much as fits: one more emoji would not
        assertTrue(ContextBytes.of(cut) + 12 > CAP, "weighs " + ContextBytes.of(cut));
    }

    @Test
    void aMessageThatFitsIsNotCut() {
        ContextMessage message = new ContextMessage(Role.USER, "short", NOW);

        assertSame(message, ContextBytes.truncated(message, CAP));
    }

    @Test
    void aDeliveryReportedAgainAfterItWasStoredCutIsStillRecognised() {
        ContextPolicy policy = policy(CAP);
        ContextMessage huge = new ContextMessage(Role.ASSISTANT, "y".repeat(5000), NOW);
        ChatContext context = ChatContext.empty().withMessage(huge, NOW, policy);

        assertTrue(context.remembers(huge, policy));
        assertFalse(context.remembers(new ContextMessage(Role.ASSISTANT, "z".repeat(5000), NOW), policy));
    }

    @Test
    void aContextAtTheCapSerializesWithinTheCapPlusTheEnvelope() {
        // given the heaviest kinds of text: escapes and emoji, pruned with the widest bookkeeping numbers
        ContextPolicy policy = policy(CAP * 4);
        List<ContextMessage> messages = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            messages.add(new ContextMessage(Role.ASSISTANT, "\"\u0001😀\\" + i, Long.MIN_VALUE));
        }
        ChatContext context = new ChatContext(
                ChatContext.prune(messages, NOW, policy), Long.MIN_VALUE, Long.MIN_VALUE, Long.MIN_VALUE);

        byte[] stored = new JsonSerde<>(ChatContext.class).serialize("t", context);

        assertTrue(context.messages().size() < messages.size(), "the cap cut the context");
        assertTrue(context.bytes() <= policy.maxBytes());
        assertTrue(
                stored.length <= policy.maxBytes() + ContextBytes.ENVELOPE_BYTES,
                stored.length + " bytes stored for a cap of " + policy.maxBytes());
    }

    @Test
    void theNextPruneTimeIsWhenTheOldestMessageLeavesTheWindowOrTheIdleTtlEndsWhicheverIsFirst() {
        ContextPolicy policy =
                new ContextPolicy(Duration.ofMinutes(1), 2, 1000, CAP, Duration.ofHours(1), Duration.ofSeconds(1), 10);
        List<ContextMessage> three = List.of(
                new ContextMessage(Role.USER, "a", NOW - 30_000),
                new ContextMessage(Role.ASSISTANT, "b", NOW - 20_000),
                new ContextMessage(Role.USER, "c", NOW));

        // more than the minimum: the oldest leaves the window one millisecond after it is a window old
        assertEquals(NOW - 30_000 + 60_000 + 1, new ChatContext(three, 0, NOW, 0).nextPruneAtMs(policy));
        // at the minimum: nothing leaves by age, only the idle TTL remains
        assertEquals(NOW + 3_600_000, new ChatContext(three.subList(1, 3), 0, NOW, 0).nextPruneAtMs(policy));
        // a chat idle for almost the TTL: the TTL comes first
        assertEquals(NOW - 3_599_990 + 3_600_000, new ChatContext(three, 0, NOW - 3_599_990, 0).nextPruneAtMs(policy));
    }

    private static ContextPolicy policy(int maxBytes) {
        return new ContextPolicy(
                Duration.ofHours(6), 100, 1_000_000, maxBytes, Duration.ofDays(30), Duration.ofMinutes(1), 1000);
    }
}
