package dev.thoughtstream.testkit.telegram;

/**
 * A planned failure: the next {@code remaining} matching Bot API calls fail the way Telegram fails.
 *
 * @param method            lower-cased method name the fault applies to
 * @param status            HTTP status / error_code to answer
 * @param retryAfterSeconds sent as parameters.retry_after when positive
 * @param remaining         how many more calls will fail
 * @param chatId            only calls for this chat; null for any call of the method
 * @param description       the description to answer
 */
public record Fault(String method, int status, int retryAfterSeconds, int remaining, Long chatId, String description) {}
