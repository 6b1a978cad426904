package dev.thoughtstream.emitter;

import dev.thoughtstream.common.service.ServiceRunner;

/** The emitter on its own: chat.replies → Telegram (+ chat.delivered). Configuration and exit codes: see README and {@link ServiceRunner}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        ServiceRunner.main(new EmitterFactory());
    }
}
