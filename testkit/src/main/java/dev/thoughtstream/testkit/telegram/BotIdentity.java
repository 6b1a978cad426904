package dev.thoughtstream.testkit.telegram;

import java.util.Objects;

/**
 * Who the emulated bot is: what {@code getMe} answers and what {@code from} says on the bot's messages.
 *
 * @param id        the bot's user id (positive, like every Telegram user id)
 * @param username  the bot's username without '@'
 * @param firstName the bot's display name
 */
public record BotIdentity(long id, String username, String firstName) {
    /** A harmless default for tests and the laptop stack. */
    public static final BotIdentity DEFAULT = new BotIdentity(7_000_000_001L, "thoughtstream_bot", "Thoughtstream");

    public BotIdentity {
        if (id <= 0) {
            throw new IllegalArgumentException("bot id must be positive, was " + id);
        }
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(firstName, "firstName");
        if (username.isBlank() || firstName.isBlank()) {
            throw new IllegalArgumentException("bot username and first name must not be blank");
        }
    }
}
