package dev.thoughtstream.ops;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.StageDefaults;
import dev.thoughtstream.common.topic.Topics;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What the operators' commands read: the services' own variables, so that a command run with a service's environment
 * looks at that service's topics and groups. The group ids are read from the stages' variables with the stages'
 * defaults ({@link StageDefaults}, which the stages use too; ops depends on no stage).
 *
 * @param kafka            the broker and the topic prefix, as every service reads them
 * @param chunkerGroup     {@code CHUNKER_APPLICATION_ID}: the Kafka Streams application's group
 * @param llmGroup         {@code LLM_GROUP_ID}: llm-processor's share group or consumer group
 * @param llmShare         {@code LLM_MODE} is {@code share} or {@code auto}: the group is looked up as a share group
 *                         when the broker does not know it yet
 * @param emitterGroup     {@code EMITTER_GROUP_ID}: the emitter's consumer group
 */
public record OpsSettings(
        KafkaSettings kafka, String chunkerGroup, String llmGroup, boolean llmShare, String emitterGroup) {

    public static final String CHUNKER_APPLICATION_ID = "CHUNKER_APPLICATION_ID";
    public static final String LLM_GROUP_ID = "LLM_GROUP_ID";
    public static final String LLM_MODE = "LLM_MODE";
    public static final String EMITTER_GROUP_ID = "EMITTER_GROUP_ID";

    /** Every variable the commands read besides the shared Kafka ones. */
    public static final List<String> GROUP_VARIABLES =
            List.of(CHUNKER_APPLICATION_ID, LLM_GROUP_ID, LLM_MODE, EMITTER_GROUP_ID);

    // Kafka allows only these characters in a group id that also names topics (the Streams application id).
    private static final Pattern GROUP_ID = Pattern.compile("[a-zA-Z0-9._-]{1,200}");

    public OpsSettings {
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(chunkerGroup, "chunkerGroup");
        Objects.requireNonNull(llmGroup, "llmGroup");
        Objects.requireNonNull(emitterGroup, "emitterGroup");
    }

    /** @throws ConfigException naming the variable when one is missing or malformed */
    public static OpsSettings from(Config config) {
        KafkaSettings kafka = KafkaSettings.from(config);
        String mode = config.string(LLM_MODE, StageDefaults.LLM_MODE).toLowerCase(Locale.ROOT);
        if (!mode.equals("share") && !mode.equals("group") && !mode.equals("auto")) {
            throw new ConfigException(LLM_MODE, "expected one of share | group | auto but was '" + mode + "'");
        }
        return new OpsSettings(
                kafka,
                groupId(config, CHUNKER_APPLICATION_ID, StageDefaults.CHUNKER_APPLICATION_ID),
                groupId(config, LLM_GROUP_ID, StageDefaults.LLM_GROUP_ID),
                // auto is share wherever the broker supports share groups; where it does not, lag says so.
                !mode.equals("group"),
                groupId(config, EMITTER_GROUP_ID, StageDefaults.EMITTER_GROUP_ID));
    }

    private static String groupId(Config config, String name, String defaultValue) {
        String id = config.string(name, defaultValue);
        if (!GROUP_ID.matcher(id).matches()) {
            throw new ConfigException(name, "expected 1 to 200 of a-z A-Z 0-9 . _ - but was '" + id + "'");
        }
        return id;
    }

    public Topics topics() {
        return Topics.withPrefix(kafka.topicPrefix());
    }
}
