package dev.thoughtstream.common.config;

/**
 * The stages' default group ids and llm-processor's default consumption mode, in one place: the stages use them when
 * their variable is unset, and the operators' commands (which may not depend on a stage) look at the same groups.
 */
public final class StageDefaults {
    /** {@code CHUNKER_APPLICATION_ID}: the Kafka Streams application id, and so its consumer group. */
    public static final String CHUNKER_APPLICATION_ID = "thoughtstream-chunker";

    /** {@code LLM_GROUP_ID}: llm-processor's share group or consumer group. */
    public static final String LLM_GROUP_ID = "thoughtstream-llm";

    /**
     * {@code LLM_MODE}, as written in the variable. Group mode: under a real model's latency a share consumer takes
     * its next batch only when the slowest thought of its batch is finished, and the broker assigns each partition to
     * a few of the consumers only, so share mode fell behind a load that group mode keeps up with
     * (docs/benchmarks.md).
     */
    public static final String LLM_MODE = "group";

    /** {@code EMITTER_GROUP_ID}: the emitter's consumer group. */
    public static final String EMITTER_GROUP_ID = "thoughtstream-emitter";

    private StageDefaults() {}
}
