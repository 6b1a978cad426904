package dev.thoughtstream.ingest.intake;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * Which group messages are for the bot. In {@link GroupMode#ADDRESSED} a group message passes when it mentions the
 * bot ({@code @username} as a {@code mention} entity, or a {@code text_mention} of the bot's user), replies to one
 * of the bot's messages, or is a command ({@code /cmd} or {@code /cmd@thisbot}; {@code /cmd@otherbot} is for
 * another bot). Private chats and non-message updates are not judged here.
 */
final class GroupAddressing {
    private final GroupMode mode;
    private final long botId;
    private final String botUsername;

    /**
     * @param botId       the bot's user id (the token's prefix)
     * @param botUsername without '@', from {@code BOT_USERNAME} or getMe
     */
    GroupAddressing(GroupMode mode, long botId, String botUsername) {
        this.mode = mode;
        this.botId = botId;
        this.botUsername = botUsername.toLowerCase(Locale.ROOT);
    }

    /** True when {@code message} was written in a group and is not for the bot. */
    boolean isIgnored(JsonNode message) {
        if (mode == GroupMode.ALL || message.isMissingNode() || !TelegramMessages.isGroup(message)) {
            return false;
        }
        return !(repliesToBot(message) || isCommandForBot(message) || mentionsBot(message));
    }

    private boolean repliesToBot(JsonNode message) {
        return message.path("reply_to_message").path("from").path("id").asLong(0) == botId;
    }

    /**
     * A leading {@code /name} or {@code /name@bot}. Telegram marks it with a {@code bot_command} entity at offset 0;
     * the text is checked as well so a message with its entities stripped (e.g. relayed by another tool) still
     * counts.
     */
    private boolean isCommandForBot(JsonNode message) {
        String text = TelegramMessages.textOf(message);
        if (!text.startsWith("/") || text.length() < 2) {
            return false;
        }
        int end = 1;
        while (end < text.length() && !Character.isWhitespace(text.charAt(end))) {
            end++;
        }
        String command = text.substring(1, end);
        int at = command.indexOf('@');
        if (at < 0) {
            return !command.isEmpty();
        }
        return at > 0 && command.substring(at + 1).toLowerCase(Locale.ROOT).equals(botUsername);
    }

    private boolean mentionsBot(JsonNode message) {
        String text = TelegramMessages.textOf(message);
        for (JsonNode entity : TelegramMessages.entitiesOf(message)) {
            String type = entity.path("type").asText("");
            if (type.equals("text_mention") && entity.path("user").path("id").asLong(0) == botId) {
                return true;
            }
            if (type.equals("mention")) {
                int offset = entity.path("offset").asInt(-1);
                int length = entity.path("length").asInt(-1);
                if (offset >= 0
                        && length > 1
                        && offset + length <= text.length()
                        && text.substring(offset, offset + length)
                                .toLowerCase(Locale.ROOT)
                                .equals("@" + botUsername)) {
                    return true;
                }
            }
        }
        return false;
    }
}
