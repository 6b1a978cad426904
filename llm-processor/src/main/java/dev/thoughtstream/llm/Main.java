package dev.thoughtstream.llm;

import dev.thoughtstream.common.service.ServiceRunner;

/** The llm-processor on its own: chat.thoughts → chat.replies. Configuration and exit codes: see README and {@link ServiceRunner}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        ServiceRunner.main(new LlmProcessorFactory());
    }
}
