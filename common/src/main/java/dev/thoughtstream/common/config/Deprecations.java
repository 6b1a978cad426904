package dev.thoughtstream.common.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place a renamed variable is reported, so every service words it alike. */
public final class Deprecations {
    private static final Logger LOG = LoggerFactory.getLogger(Deprecations.class);

    private Deprecations() {}

    /** {@code oldName} was read because {@code newName} is unset; tell the operator what to write instead. */
    public static void usedOldName(String oldName, String newName, String newValue) {
        LOG.warn("{} is deprecated and will be removed: set {}={} instead", oldName, newName, newValue);
    }

    /** Both names are set: the new one wins, and the old one should go. */
    public static void ignoredOldName(String oldName, String newName) {
        LOG.warn("{} is deprecated and ignored because {} is set; remove it", oldName, newName);
    }
}
