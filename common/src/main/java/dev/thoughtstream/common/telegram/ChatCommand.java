package dev.thoughtstream.common.telegram;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bot's commands, declared once: the chunker answers them itself, without the model, and the emitter
 * registers this list (names and descriptions) with Telegram's {@code setMyCommands}.
 */
public enum ChatCommand {
    /** Replies with {@code BOT_GREETING}. An open thought stays open. */
    START("Say hello"),
    /** Replies with {@code BOT_HELP_TEXT}. An open thought stays open. */
    HELP("What I understand"),
    /** Forgets the chat's context and its open thought, then replies with {@code BOT_RESET_TEXT}. */
    RESET("Forget our conversation and start over");

    private final String description;

    ChatCommand(String description) {
        this.description = description;
    }

    /** What Telegram shows next to the command in the menu. */
    public String description() {
        return description;
    }

    /**
     * A command as Telegram marks one (a {@code bot_command} entity at the start of the message): {@code /}, a
     * name of up to 32 letters, digits or underscores, optionally {@code @botusername}, then the end of the text or
     * anything that cannot continue the name (a space before arguments, punctuation...).
     */
    private static final Pattern COMMAND =
            Pattern.compile("^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?![A-Za-z0-9_@])");

    /** The name as typed after the slash ({@code start}, ...). */
    public String commandName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The command {@code text} invokes, if it is one of ours. Arguments after the command are allowed and ignored
     * ({@code /start payload}, {@code /reset now}). {@code /cmd@name} is ours when {@code botUsername} is empty
     * (not configured: every addressee is accepted) or equals {@code name} ignoring case, as Telegram usernames
     * do; a command addressed to another bot in a group is not ours. Names are matched ignoring case. An unknown
     * command, or one for another bot, is not a command here: the caller treats it as ordinary text.
     */
    public static Optional<ChatCommand> recognise(String text, String botUsername) {
        Matcher m = COMMAND.matcher(text.stripLeading());
        if (!m.find()) {
            return Optional.empty();
        }
        String addressee = m.group(2);
        if (addressee != null && !botUsername.isEmpty() && !addressee.equalsIgnoreCase(botUsername)) {
            return Optional.empty();
        }
        String name = m.group(1).toLowerCase(Locale.ROOT);
        for (ChatCommand command : values()) {
            if (command.commandName().equals(name)) {
                return Optional.of(command);
            }
        }
        return Optional.empty();
    }
}
