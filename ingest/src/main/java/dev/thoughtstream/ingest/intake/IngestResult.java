package dev.thoughtstream.ingest.intake;

import java.util.Locale;

/** What became of one update; the {@code result} label of {@code ingest_updates_total}. */
public enum IngestResult {
    /** Written to the updates topic as received. */
    WRITTEN,
    /** Written before (Telegram redelivered it); skipped. */
    DUPLICATE,
    /** From someone not on the allow-lists; not written (the first one is answered with a refusal). */
    DENIED,
    /** Over the person's per-minute limit; not written (the first one of the minute is answered with a notice). */
    FLOOD,
    /** Group chatter not addressed to the bot; not written. */
    GROUP_IGNORED,
    /** Longer than the size cap; written cut to the cap with a visible marker, and the person told. */
    TOO_LONG;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
