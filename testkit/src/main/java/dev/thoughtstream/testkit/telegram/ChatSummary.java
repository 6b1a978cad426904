package dev.thoughtstream.testkit.telegram;

/**
 * A chat the emulator knows (somebody wrote from it).
 *
 * @param id           chat id
 * @param type         "private", "group" or "supergroup"
 * @param title        a group's title, or the person's first name for a private chat
 * @param messages     messages the chat holds: the person's and the bot's, not counting edits, deletions (a
 *                     deleted message is gone) or chat actions such as "typing"
 * @param lastActivity epoch millis of the latest transcript entry
 * @param blocked      whether the person blocked the bot
 */
public record ChatSummary(long id, String type, String title, int messages, long lastActivity, boolean blocked) {}
