package dev.thoughtstream.llm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ContextMessage.Role;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptBuilderTest {

    @Test
    void thePromptIsSystemThenContextOldestFirstThenTheThought() {
        Thought thought = new Thought(
                Thought.SCHEMA_VERSION,
                "7:20",
                7L,
                List.of(new ThoughtMessage(20, "so about today", 1_000), new ThoughtMessage(21, "it was long", 1_500)),
                20,
                21,
                1_000,
                3_000,
                List.of(
                        new ContextMessage(Role.USER, "hello", 100),
                        new ContextMessage(Role.ASSISTANT, "hi! how are you?", 200),
                        new ContextMessage(Role.USER, "tired", 300)));

        List<ChatMessage> messages = new PromptBuilder("be kind").messages(thought);

        assertEquals(5, messages.size());
        assertEquals(
                "be kind",
                assertInstanceOf(SystemMessage.class, messages.get(0)).text());
        assertEquals(
                "hello", assertInstanceOf(UserMessage.class, messages.get(1)).singleText());
        assertEquals(
                "hi! how are you?",
                assertInstanceOf(AiMessage.class, messages.get(2)).text());
        assertEquals(
                "tired", assertInstanceOf(UserMessage.class, messages.get(3)).singleText());
        assertEquals(
                "so about today\nit was long",
                assertInstanceOf(UserMessage.class, messages.get(4)).singleText());
    }

    @Test
    void aThoughtWithoutContextIsSystemThenThought() {
        Thought thought = new Thought(
                Thought.SCHEMA_VERSION, "7:1", 7L, List.of(new ThoughtMessage(1, "hey", 0)), 1, 1, 0, 0, null);

        List<ChatMessage> messages = new PromptBuilder("be kind").messages(thought);

        assertEquals(2, messages.size());
        assertInstanceOf(SystemMessage.class, messages.get(0));
        assertEquals("hey", assertInstanceOf(UserMessage.class, messages.get(1)).singleText());
    }

    @Test
    void blankContextTurnsAreLeftOut() {
        Thought thought = new Thought(
                Thought.SCHEMA_VERSION,
                "7:1",
                7L,
                List.of(new ThoughtMessage(1, "hey", 0)),
                1,
                1,
                0,
                0,
                List.of(new ContextMessage(Role.ASSISTANT, "  ", 0), new ContextMessage(Role.USER, "yo", 0)));

        List<ChatMessage> messages = new PromptBuilder("be kind").messages(thought);

        assertEquals(3, messages.size());
        assertEquals("yo", assertInstanceOf(UserMessage.class, messages.get(1)).singleText());
    }

    @Test
    void aBlankSystemPromptIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new PromptBuilder(" \n"));
    }
}
