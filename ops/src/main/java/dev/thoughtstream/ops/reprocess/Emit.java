package dev.thoughtstream.ops.reprocess;

/** What the rebuilt chunker sends for the input it processes again. */
public enum Emit {
    /** Nothing: the input the chunker had processed before the reset only rebuilds its state (the fence). */
    NONE,
    /** Its thoughts and direct replies again: people may be answered twice (docs/operations.md). */
    THOUGHTS
}
