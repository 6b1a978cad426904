package dev.thoughtstream.testkit.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class EchoResponderTest {
    private final Responder responder = Responder.echo();

    private String replyTo(String userText) {
        return responder.reply(List.of(LlmMessage.system("Be kind."), LlmMessage.user(userText)));
    }

    @Test
    void replyStartsWithAShortEchoOfTheLastUserMessage() {
        String reply = responder.reply(List.of(
                LlmMessage.user("an older message"),
                LlmMessage.assistant("an older answer"),
                LlmMessage.user("I baked bread today!")));

        assertTrue(reply.startsWith("You said: I baked bread today."), reply);
    }

    @Test
    void longMessagesAreShortenedInTheEcho() {
        String reply = replyTo("one two three four five six seven eight nine ten eleven");

        assertTrue(reply.startsWith("You said: one two three four five six seven eight…."), reply);
    }

    @Test
    void theSameConversationAlwaysGetsTheSameReplyAndDifferentOnesUsuallyDiffer() {
        assertEquals(replyTo("What should I cook tonight?"), replyTo("What should I cook tonight?"));
        assertNotEquals(
                replyTo("What should I cook tonight?").substring(10),
                replyTo("Any plans?").substring(10));
    }

    @Test
    void repliesHaveSeveralSentencesAndSometimesParagraphs() {
        List<String> replies = IntStream.range(0, 40)
                .mapToObj(i -> replyTo("message number " + i))
                .toList();

        for (String reply : replies) {
            long sentences =
                    reply.chars().filter(c -> c == '.' || c == '?' || c == '!').count();
            assertTrue(sentences >= 3, reply);
        }
        assertTrue(replies.stream().anyMatch(r -> r.contains("\n\n")), "some replies have paragraphs");
        assertTrue(replies.stream().anyMatch(r -> !r.contains("\n")), "some replies are one paragraph");
    }

    @Test
    void aConversationWithoutUserMessageStillGetsAReply() {
        assertTrue(responder.reply(List.of(LlmMessage.system("Be kind."))).startsWith("You said: nothing."));
    }
}
