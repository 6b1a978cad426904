package dev.thoughtstream.ingest.intake;

/** Which group messages ingest writes ({@code INGEST_GROUP_MODE}). */
public enum GroupMode {
    /** Only messages that mention the bot, reply to one of its messages, or are commands for it. */
    ADDRESSED,
    /** Every group message (the bot joins every conversation of the group). */
    ALL
}
