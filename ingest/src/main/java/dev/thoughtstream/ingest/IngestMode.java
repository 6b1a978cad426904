package dev.thoughtstream.ingest;

/** How Telegram's updates reach ingest ({@code INGEST_MODE}). */
public enum IngestMode {
    /** ingest asks Telegram with getUpdates (no public address needed; one poller at a time). */
    POLLING,
    /** Telegram POSTs each update to ingest's HTTPS endpoint (behind TLS termination; any number of instances). */
    WEBHOOK
}
