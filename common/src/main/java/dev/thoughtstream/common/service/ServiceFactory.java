package dev.thoughtstream.common.service;

import dev.thoughtstream.common.config.Config;

/**
 * How a module builds its service: one factory per module, used by the module's {@code Main}, by the launcher's
 * subcommand and by devstack, so that a service is wired in exactly one place.
 */
public interface ServiceFactory {

    /** The service's name: the launcher's subcommand, the log and health name. */
    String name();

    /** Whether the service uses Redis (claims, the staleness signal); the chunker does not. */
    default boolean usesRedis() {
        return true;
    }

    /**
     * Reads and checks every setting of the service beyond the shared ones ({@link Infra.Settings}), touching
     * nothing (no network, no thread): a bad value fails here, before anything starts. A
     * {@link dev.thoughtstream.common.config.ConfigCheck} calls it once per bad variable to find them all.
     *
     * @throws dev.thoughtstream.common.config.ConfigException naming the variable
     */
    void validate(Config config);

    /**
     * Builds the service from its settings and the shared infrastructure; starts nothing (the caller calls
     * {@link Service#start()}). What the service creates for itself (threads, HTTP clients) it releases on
     * {@link Service#close()}; {@code infra} stays the caller's.
     *
     * @throws dev.thoughtstream.common.config.ConfigException naming the variable
     */
    Service create(Config config, Infra infra);
}
