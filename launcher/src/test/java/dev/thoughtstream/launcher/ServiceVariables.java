package dev.thoughtstream.launcher;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.ServiceFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which variables a service reads, learnt from the code itself: its runner's shared settings and its factory's
 * validation run over a {@link Config#observed observed} configuration, in every mode that reaches other variables.
 * One answer for the tests that hold documentation and deployment files to the code.
 */
final class ServiceVariables {
    /** Read outside {@link Config}: by log4j2.xml and by {@code Config.load()} itself. */
    static final Set<String> READ_OUTSIDE_CONFIG = Set.of("LOG_LEVEL", "LOG_LEVEL_ROOT", "DOTENV_FILE");
    /** The container's hostname, the default of {@code INSTANCE_ID}: set by Docker, never by an operator. */
    static final Set<String> UNDOCUMENTED_BY_DESIGN = Set.of(KafkaSettings.HOSTNAME);

    /** The modes that reach every variable: Redis named two ways, webhook ingest, each LLM provider. */
    private static final List<Map<String, String>> MODES = List.of(
            Map.of(),
            Map.of("REDIS_URL", "", "REDIS_HOST", "redis", "REDIS_PORT", "6379"),
            Map.of(
                    "INGEST_MODE",
                    "webhook",
                    "INGEST_WEBHOOK_URL",
                    "https://bot.example.com",
                    "INGEST_WEBHOOK_SECRET",
                    "s3cret"),
            Map.of("LLM_PROVIDER", "openai", "LLM_API_KEY", "sk-test"),
            Map.of("LLM_PROVIDER", "ollama"));

    private ServiceVariables() {}

    /**
     * Every variable {@code factory} reads in any mode, as its runner reads them; a prefix lookup appears as
     * {@code PREFIX*} (e.g. {@code KAFKA_CLIENT_*}).
     */
    static Set<String> readBy(ServiceFactory factory) {
        Set<String> names = new TreeSet<>();
        for (Map<String, String> mode : MODES) {
            Config config = Config.of(environment(mode)).observed(names::add);
            Infra.Settings.from(config, factory.usesRedis());
            factory.validate(config);
        }
        names.removeAll(UNDOCUMENTED_BY_DESIGN);
        return names;
    }

    /** True when {@code name} is in {@code read}, or {@code read} has a prefix lookup ({@code PREFIX*}) it matches. */
    static boolean isRead(String name, Set<String> read) {
        if (read.contains(name)) {
            return true;
        }
        return read.stream()
                .anyMatch(r -> r.endsWith("*")
                        && name.startsWith(r.substring(0, r.length() - 1))
                        && name.length() > r.length() - 1);
    }

    /** A complete, valid environment: the required variables set, plus {@code mode}. */
    private static Map<String, String> environment(Map<String, String> mode) {
        Map<String, String> env = new HashMap<>(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "kafka:9092",
                "TG_BOT_TOKEN", "123456:ABCdef",
                "REDIS_URL", "redis://redis:6379"));
        env.putAll(mode);
        return env;
    }
}
