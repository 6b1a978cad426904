package dev.thoughtstream.testkit.telegram;

/**
 * What injecting (or editing) a person's message produced.
 *
 * @param updateId  the Update's id, as the bot will see it in getUpdates or the webhook
 * @param messageId the message id within its chat
 */
public record UserMessage(long updateId, int messageId) {}
