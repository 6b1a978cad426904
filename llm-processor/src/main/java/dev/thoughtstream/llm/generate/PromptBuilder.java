package dev.thoughtstream.llm.generate;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.Thought;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds the model's prompt for a thought: the system prompt, then the conversation before the thought (oldest
 * first, the person's turns as user messages, the bot's as AI messages), then the thought itself as the last user
 * message.
 */
public final class PromptBuilder {
    private final String systemPrompt;

    public PromptBuilder(String systemPrompt) {
        Objects.requireNonNull(systemPrompt, "systemPrompt");
        if (systemPrompt.isBlank()) {
            throw new IllegalArgumentException("systemPrompt must not be blank");
        }
        this.systemPrompt = systemPrompt;
    }

    public List<ChatMessage> messages(Thought thought) {
        List<ChatMessage> messages = new ArrayList<>(thought.context().size() + 2);
        messages.add(SystemMessage.from(systemPrompt));
        for (ContextMessage turn : thought.context()) {
            // An empty turn says nothing, and some providers reject empty message content.
            if (turn.text().isBlank()) {
                continue;
            }
            messages.add(switch (turn.role()) {
                case USER -> UserMessage.from(turn.text());
                case ASSISTANT -> AiMessage.from(turn.text());
            });
        }
        messages.add(UserMessage.from(thought.text()));
        return messages;
    }

    public ChatRequest request(Thought thought) {
        return ChatRequest.builder().messages(messages(thought)).build();
    }
}
