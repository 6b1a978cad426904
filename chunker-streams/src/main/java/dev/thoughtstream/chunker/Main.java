package dev.thoughtstream.chunker;

import dev.thoughtstream.common.service.ServiceRunner;

/** The chunker on its own: tg.updates → chat.thoughts. Configuration and exit codes: see README and {@link ServiceRunner}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        ServiceRunner.main(new ChunkerFactory());
    }
}
