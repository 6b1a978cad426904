package dev.thoughtstream.chunker.thought;

import dev.thoughtstream.common.telegram.ChatCommand;
import java.util.Objects;

/**
 * What the bot says without asking the model.
 *
 * @param greeting    {@code BOT_GREETING}: the answer to {@code /start}
 * @param help        {@code BOT_HELP_TEXT}: the answer to {@code /help}
 * @param reset       {@code BOT_RESET_TEXT}: the confirmation of {@code /reset}
 * @param nonText     {@code NON_TEXT_REPLY}: the answer to a message without words (a sticker, a voice note, a
 *                    photo without caption...)
 * @param botUsername {@code BOT_USERNAME}: the bot's username without {@code @}; {@code /cmd@other} is then not
 *                    ours. Empty: any {@code /cmd@name} is taken as ours
 */
public record BotReplies(String greeting, String help, String reset, String nonText, String botUsername) {
    public static final String DEFAULT_GREETING = "Hi! I'm thoughtstream. Write to me the way you would write to a "
            + "friend: several short messages in a row are fine, I answer once you have finished your thought. "
            + "/help shows what else I understand.";
    public static final String DEFAULT_HELP = "Just write to me, in as many messages as you like; I answer when you "
            + "pause.\n/start - say hello\n/help - this message\n/reset - forget our conversation and start over";
    public static final String DEFAULT_RESET = "Done: I have forgotten our conversation. Let's start over.";
    public static final String DEFAULT_NON_TEXT = "I can only read text for now \u2014 could you tell me in words?";

    public BotReplies {
        Objects.requireNonNull(greeting, "greeting");
        Objects.requireNonNull(help, "help");
        Objects.requireNonNull(reset, "reset");
        Objects.requireNonNull(nonText, "nonText");
        Objects.requireNonNull(botUsername, "botUsername");
    }

    public String forCommand(ChatCommand command) {
        return switch (command) {
            case START -> greeting;
            case HELP -> help;
            case RESET -> reset;
        };
    }
}
