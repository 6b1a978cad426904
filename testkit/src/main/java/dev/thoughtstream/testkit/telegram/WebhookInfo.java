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
 */
public record WebhookInfo(
        String url,
        boolean hasSecretToken,
        int pendingUpdateCount,
        Long lastErrorDate,
        String lastErrorMessage,
        long deliveredCount,
        long failedAttempts,
        int maxConnections) {

    public boolean isActive() {
        return !url.isEmpty();
    }
}
