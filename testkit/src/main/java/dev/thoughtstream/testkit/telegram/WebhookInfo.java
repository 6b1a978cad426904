package dev.thoughtstream.testkit.telegram;

/**
 * The webhook as the emulator sees it.
 *
 * @param url                 the webhook URL, "" when none is set (as in Telegram's getWebhookInfo)
 * @param hasSecretToken      whether a secret token is sent with each delivery
 * @param pendingUpdateCount  updates not yet delivered/confirmed
 * @param lastErrorDate       epoch seconds of the latest failed delivery, null if none
 * @param lastErrorMessage    why the latest delivery failed, null if none
 * @param deliveredCount      updates delivered successfully since the webhook was set
 * @param failedAttempts      failed delivery attempts since the webhook was set
 * @param maxConnections      the most deliveries at once (setWebhook's {@code max_connections}; 0 without webhook)
 * @param expiredCount        updates dropped undelivered because they were a day old (Telegram drops them too, without
 *                            telling the bot) since the last setWebhook or deleteWebhook
 */
public record WebhookInfo(
        String url,
        boolean hasSecretToken,
        int pendingUpdateCount,
        Long lastErrorDate,
        String lastErrorMessage,
        long deliveredCount,
        long failedAttempts,
        int maxConnections,
        long expiredCount) {

    public boolean isActive() {
        return !url.isEmpty();
    }
}
