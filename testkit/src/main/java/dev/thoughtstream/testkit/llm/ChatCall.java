package dev.thoughtstream.testkit.llm;

import java.util.List;

/** A parsed chat request, independent of the wire format. */
record ChatCall(String model, List<LlmMessage> messages, boolean stream, boolean includeUsage) {
    ChatCall {
        messages = List.copyOf(messages);
    }

    int promptTokens() {
        return messages.stream().mapToInt(m -> Tokens.count(m.content())).sum();
    }
}
