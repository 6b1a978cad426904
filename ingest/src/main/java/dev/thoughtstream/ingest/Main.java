package dev.thoughtstream.ingest;

import dev.thoughtstream.common.service.ServiceRunner;

/** ingest on its own: Telegram → tg.updates. Configuration and exit codes: see README and {@link ServiceRunner}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        ServiceRunner.main(new IngestFactory());
    }
}
