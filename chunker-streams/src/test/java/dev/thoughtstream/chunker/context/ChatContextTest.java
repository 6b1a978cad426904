package dev.thoughtstream.chunker.context;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ContextMessage.Role;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChatContextTest {
    private static final long NOW = 10_000_000;

    @Test
    void retentionDropsOnlyFromTheOldEndAndStopsAtTheMinimum() {
        ContextPolicy policy = new ContextPolicy(Duration.ofMillis(1000), 2, 1000);
        ChatContext context =
                new ChatContext(List.of(user("a", NOW - 5000), user("b", NOW - 4000), user("c", NOW - 3000)), 0);

        ChatContext after = context.withMessage(bot("d", NOW - 2000), NOW, policy);

        assertEquals(List.of("c", "d"), texts(after.messages()));
    }

    @Test
    void aMessageExactlyAtTheWindowEdgeIsKept() {
        ContextPolicy policy = new ContextPolicy(Duration.ofMillis(1000), 0, 1000);
        ChatContext context = new ChatContext(List.of(user("edge", NOW - 1000), user("out", NOW - 1001)), 0);

        assertEquals(List.of("edge", "out"), texts(context.messages()));
        assertEquals(
                List.of("new"),
                texts(new ChatContext(List.of(user("out", NOW - 1001)), 0)
                        .withMessage(user("new", NOW), NOW, policy)
                        .messages()));
        assertEquals(
                List.of("edge", "new"),
                texts(new ChatContext(List.of(user("edge", NOW - 1000)), 0)
                        .withMessage(user("new", NOW), NOW, policy)
                        .messages()));
    }

    @Test
    void aSnapshotTooSmallForTheNewestMessageIsEmptyRatherThanACutMessage() {
        ContextPolicy policy = new ContextPolicy(Duration.ofHours(1), 10, 5);
        ChatContext context = new ChatContext(List.of(user("ok", NOW), bot("far too long", NOW)), 0);

        assertEquals(List.of(), context.snapshot(NOW, policy));
    }

    @Test
    void userMessagesRaiseTheLastEmittedMessageIdButNeverLowerIt() {
        ContextPolicy policy = new ContextPolicy(Duration.ofHours(1), 10, 100);
        ChatContext context = ChatContext.empty().withUserMessages(List.of(user("x", NOW)), 50, NOW, policy);

        assertEquals(50, context.lastUserMessageId());
        assertEquals(
                50,
                context.withUserMessages(List.of(user("y", NOW)), 40, NOW, policy)
                        .lastUserMessageId());
        assertEquals(50, context.withMessage(bot("z", NOW), NOW, policy).lastUserMessageId());
    }

    private static ContextMessage user(String text, long at) {
        return new ContextMessage(Role.USER, text, at);
    }

    private static ContextMessage bot(String text, long at) {
        return new ContextMessage(Role.ASSISTANT, text, at);
    }

    private static List<String> texts(List<ContextMessage> messages) {
        return messages.stream().map(ContextMessage::text).toList();
    }
}
