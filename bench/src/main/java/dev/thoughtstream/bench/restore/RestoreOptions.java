package dev.thoughtstream.bench.restore;

import dev.thoughtstream.bench.Args;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The restore benchmark's parameters, from its command line.
 *
 * @param chats       {@code --chats}: chats in the context store (default 100,000, the target's scale)
 * @param messages    {@code --messages}: messages in each chat's context (default 100, the retention minimum)
 * @param partitions  {@code --partitions}: partitions of every chat-keyed topic, hence of the changelogs and tasks
 *                    (default 6, {@code TOPIC_PARTITIONS}' default)
 * @param probeChats  {@code --probe-chats}: chats that send one new message after the restore, to prove that the
 *                    chunker reads the restored contexts as its own (default 3)
 * @param dataDir     {@code --data-dir}: where the broker's log and the state directories go (default: a new
 *                    temporary directory, deleted at the end)
 * @param keep        {@code --keep}: leave the data directory in place for inspection
 */
public record RestoreOptions(
        int chats, int messages, int partitions, int probeChats, Optional<Path> dataDir, boolean keep) {
    public static final int DEFAULT_CHATS = 100_000;
    public static final int DEFAULT_MESSAGES = 100;
    public static final int DEFAULT_PARTITIONS = 6;
    public static final int DEFAULT_PROBE_CHATS = 3;

    public static final String USAGE =
            "restore [--chats N] [--messages M] [--partitions P] [--probe-chats K]" + " [--data-dir DIR] [--keep]";

    public RestoreOptions {
        if (chats < 1 || messages < 1 || partitions < 1 || probeChats < 0) {
            throw new IllegalArgumentException(
                    "--chats, --messages and --partitions must be at least 1 and " + "--probe-chats at least 0");
        }
        if (probeChats > chats) {
            throw new IllegalArgumentException(
                    "--probe-chats (" + probeChats + ") cannot exceed --chats (" + chats + ")");
        }
    }

    public static RestoreOptions defaults() {
        return new RestoreOptions(
                DEFAULT_CHATS, DEFAULT_MESSAGES, DEFAULT_PARTITIONS, DEFAULT_PROBE_CHATS, Optional.empty(), false);
    }

    /** @throws IllegalArgumentException naming the offending argument */
    public static RestoreOptions parse(String... args) {
        int chats = DEFAULT_CHATS;
        int messages = DEFAULT_MESSAGES;
        int partitions = DEFAULT_PARTITIONS;
        int probe = DEFAULT_PROBE_CHATS;
        Optional<Path> dataDir = Optional.empty();
        boolean keep = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--chats" -> chats = Args.wholeNumber(arg, Args.value(args, ++i, arg, USAGE));
                case "--messages" -> messages = Args.wholeNumber(arg, Args.value(args, ++i, arg, USAGE));
                case "--partitions" -> partitions = Args.wholeNumber(arg, Args.value(args, ++i, arg, USAGE));
                case "--probe-chats" -> probe = Args.wholeNumber(arg, Args.value(args, ++i, arg, USAGE));
                case "--data-dir" -> dataDir = Optional.of(Path.of(Args.value(args, ++i, arg, USAGE)));
                case "--keep" -> keep = true;
                default -> throw new IllegalArgumentException("unknown argument '" + arg + "'; usage: " + USAGE);
            }
        }
        return new RestoreOptions(chats, messages, partitions, Math.min(probe, chats), dataDir, keep);
    }
}
