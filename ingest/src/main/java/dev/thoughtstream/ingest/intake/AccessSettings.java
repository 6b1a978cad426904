package dev.thoughtstream.ingest.intake;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.telegram.TelegramLimits;
import dev.thoughtstream.ingest.IngestConfig;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Who may talk to the bot and how much (see {@link IntakeRules}).
 *
 * @param allowedUsers     {@code ALLOWED_USER_IDS}: user ids allowed anywhere; with {@code allowedChats} both empty
 *                         everyone is allowed
 * @param allowedChats     {@code ALLOWED_CHAT_IDS}: chats (e.g. a group) in which everyone is allowed
 * @param deniedText       {@code ACCESS_DENIED_TEXT}: the one refusal a person not allowed gets
 * @param groupMode        {@code INGEST_GROUP_MODE}: which group messages are written
 * @param botUsername      {@code BOT_USERNAME} (shared with the chunker), without '@'; empty: asked with getMe
 * @param maxMessagesPerMinute {@code INGEST_MAX_MSGS_PER_MIN}: per person, per minute; 0 = no flood guard
 * @param floodNoticeText  {@code FLOOD_NOTICE_TEXT}: the one notice per minute a person over the limit gets
 * @param maxMessageChars  {@code INGEST_MAX_MESSAGE_CHARS}: longer texts and captions are cut to this length
 * @param tooLongText      {@code TOO_LONG_NOTICE_TEXT}: tells the person their message was cut; {@code {max}} is
 *                         replaced by the limit
 */
public record AccessSettings(
        Set<Long> allowedUsers,
        Set<Long> allowedChats,
        String deniedText,
        GroupMode groupMode,
        String botUsername,
        int maxMessagesPerMinute,
        String floodNoticeText,
        int maxMessageChars,
        String tooLongText) {
    public static final String DEFAULT_DENIED_TEXT =
            "Sorry, this is a private bot and I can't talk with you. I won't answer further messages.";
    public static final String DEFAULT_FLOOD_TEXT =
            "You're writing faster than I can read, so I'm skipping some messages. Please give me a minute.";
    public static final String DEFAULT_TOO_LONG_TEXT =
            "That message was very long, so I only read its first {max} characters.";
    private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9_]{5,32}");

    /** Every update passes: no allow-lists, every group message, no flood guard, no size cap (the old behaviour). */
    public static AccessSettings openToAll() {
        return new AccessSettings(
                Set.of(),
                Set.of(),
                DEFAULT_DENIED_TEXT,
                GroupMode.ALL,
                "",
                0,
                DEFAULT_FLOOD_TEXT,
                Integer.MAX_VALUE,
                DEFAULT_TOO_LONG_TEXT);
    }

    public static AccessSettings from(Config config) {
        return new AccessSettings(
                config.longSet(IngestConfig.ALLOWED_USER_IDS),
                config.longSet(IngestConfig.ALLOWED_CHAT_IDS),
                text(config, IngestConfig.ACCESS_DENIED_TEXT, DEFAULT_DENIED_TEXT),
                config.enumValue(IngestConfig.GROUP_MODE, GroupMode.class, GroupMode.ADDRESSED),
                botUsername(config),
                config.integer(IngestConfig.MAX_MSGS_PER_MIN, 30, 0, 100_000),
                text(config, IngestConfig.FLOOD_NOTICE_TEXT, DEFAULT_FLOOD_TEXT),
                config.integer(IngestConfig.MAX_MESSAGE_CHARS, TelegramLimits.MAX_MESSAGE_CHARS, 100, 1_000_000),
                text(config, IngestConfig.TOO_LONG_NOTICE_TEXT, DEFAULT_TOO_LONG_TEXT));
    }

    /** True when neither allow-list is set: everyone may write. */
    public boolean isOpen() {
        return allowedUsers.isEmpty() && allowedChats.isEmpty();
    }

    /** The too-long notice with the limit filled in. */
    public String tooLongNotice() {
        return tooLongText.replace("{max}", Integer.toString(maxMessageChars));
    }

    /** Same rules as the chunker's texts: {@code \n} stands for a line break; must fit one Telegram message. */
    private static String text(Config config, String variable, String defaultText) {
        String text = config.string(variable, defaultText).replace("\\n", "\n");
        if (text.length() > TelegramLimits.MAX_MESSAGE_CHARS - 20) {
            throw new ConfigException(
                    variable,
                    "is " + text.length() + " characters long; Telegram sends at most "
                            + TelegramLimits.MAX_MESSAGE_CHARS);
        }
        return text;
    }

    /** Same syntax as the chunker's {@code BOT_USERNAME} (one variable for both). */
    private static String botUsername(Config config) {
        String name = config.string(IngestConfig.BOT_USERNAME, "");
        if (name.startsWith("@")) {
            name = name.substring(1);
        }
        if (!name.isEmpty() && !USERNAME.matcher(name).matches()) {
            throw new ConfigException(
                    IngestConfig.BOT_USERNAME,
                    "expected a Telegram username (5-32 letters, digits or _) but was '" + name + "'");
        }
        return name;
    }
}
