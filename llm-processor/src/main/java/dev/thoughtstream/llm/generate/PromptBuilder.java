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
    /**
     * Tokens the provider budget reserves for the answer on top of the prompt. No {@code max_tokens} is sent, and
     * the system prompt asks for a few short chat messages, which stay well below this; the budget learns the real
     * number when the call ends.
     */
    public static final int ANSWER_TOKEN_ALLOWANCE = 512;
    /** About four characters of English text per token: OpenAI's rule of thumb for its tokenizers. */
    static final int CHARS_PER_TOKEN = 4;

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
            messages.add(
                    switch (turn.role()) {
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

    /**
     * A rough count of the request's prompt tokens for the provider budget: its messages' characters divided by
     * {@value #CHARS_PER_TOKEN}, rounded up, plus a few per message for the role markup. Good enough for a budget
     * that is corrected by the provider's reported usage once each call ends; no tokenizer is loaded for it.
     */
    public static int estimatedPromptTokens(ChatRequest request) {
        long chars = 0;
        for (ChatMessage message : request.messages()) {
            if (message instanceof SystemMessage system) {
                chars += system.text().length();
            } else if (message instanceof UserMessage user) {
                chars += user.hasSingleText()
                        ? user.singleText().length()
                        : user.toString().length();
            } else if (message instanceof AiMessage ai) {
                chars += ai.text() == null ? 0 : ai.text().length();
            } else {
                chars += message.toString().length();
            }
        }
        long tokens = (chars + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN
                + 4L * request.messages().size();
        return (int) Math.min(Integer.MAX_VALUE, tokens);
    }
}
