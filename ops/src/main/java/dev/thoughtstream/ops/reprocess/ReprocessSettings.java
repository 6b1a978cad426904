package dev.thoughtstream.ops.reprocess;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The chunker's local state directory as the chunker reads it: {@code STREAMS_STATE_DIR}, with the chunker's default
 * (a launcher test keeps the two equal; ops depends on no stage). Kafka Streams keeps an application's stores in
 * {@code <state.dir>/<application.id>}, which is what a reprocess clears.
 */
public final class ReprocessSettings {
    public static final String STREAMS_STATE_DIR = "STREAMS_STATE_DIR";

    private ReprocessSettings() {}

    public static Path defaultStateDir() {
        return Path.of(System.getProperty("user.home"), ".thoughtstream", "chunker-state");
    }

    /** @throws ConfigException naming the variable when it is not a path */
    public static Path stateDir(Config config) {
        try {
            return Path.of(config.string(STREAMS_STATE_DIR, defaultStateDir().toString()));
        } catch (InvalidPathException e) {
            throw new ConfigException(STREAMS_STATE_DIR, "is not a valid path: " + e.getMessage());
        }
    }
}
