package dev.thoughtstream.ingest.webhook;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.ingest.IngestConfig;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Webhook mode's settings; only read (and required) when {@code INGEST_MODE=webhook}.
 *
 * @param port       {@code INGEST_WEBHOOK_PORT}: where the endpoint listens (plain HTTP, behind TLS termination);
 *                   0 picks a free port (tests)
 * @param path       {@code INGEST_WEBHOOK_PATH}: the endpoint's path; default {@code /telegram/<16 hex digits
 *                   derived from the secret>}, stable across restarts and instances yet not guessable
 * @param publicUrl  {@code INGEST_WEBHOOK_URL}: the public base URL Telegram calls (https, port 443/80/88/8443);
 *                   {@code setWebhook} is given this URL followed by {@code path}
 * @param secret     {@code INGEST_WEBHOOK_SECRET}: sent by Telegram in {@code X-Telegram-Bot-Api-Secret-Token}
 *                   (1-256 of {@code A-Z a-z 0-9 _ -})
 * @param ackTimeout {@code INGEST_WEBHOOK_ACK_TIMEOUT_MS}: how long one delivery waits for Kafka's acknowledgement
 *                   before it is answered 503 (Telegram then retries it)
 * @param deleteOnStop {@code INGEST_WEBHOOK_DELETE_ON_STOP}: call deleteWebhook when stopping (default true); false
 *                   for several instances behind one URL or rolling deploys, where one stopping instance must not
 *                   switch delivery off for the others
 * @param maxConnections {@code INGEST_WEBHOOK_MAX_CONNECTIONS}: setWebhook's {@code max_connections}, how many
 *                   deliveries Telegram keeps open at once (1–100, Telegram's default 40); the endpoint serves as
 *                   many at a time, and the ones waiting together are written to Kafka as one batch
 */
public record WebhookSettings(
        int port,
        String path,
        URI publicUrl,
        Secret secret,
        Duration ackTimeout,
        boolean deleteOnStop,
        int maxConnections) {
    private static final Pattern SECRET_SYNTAX = Pattern.compile("[A-Za-z0-9_-]{1,256}");
    private static final Pattern PATH_SYNTAX = Pattern.compile("(/[A-Za-z0-9._~-]+)+");

    public static WebhookSettings from(Config config) {
        if (!config.isSet(IngestConfig.WEBHOOK_URL)) {
            throw new ConfigException(
                    IngestConfig.WEBHOOK_URL,
                    "is required when " + IngestConfig.MODE + "=webhook (the public https URL Telegram should call)");
        }
        URI url = config.httpUrl(IngestConfig.WEBHOOK_URL, null);
        if (url.getQuery() != null || url.getFragment() != null) {
            throw new ConfigException(
                    IngestConfig.WEBHOOK_URL, "must not have a query or fragment but was '" + url + "'");
        }
        Secret secret = config.secret(IngestConfig.WEBHOOK_SECRET);
        if (!SECRET_SYNTAX.matcher(secret.reveal()).matches()) {
            // The value is not echoed: it is a secret.
            throw new ConfigException(
                    IngestConfig.WEBHOOK_SECRET,
                    "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)");
        }
        Optional<String> path = config.optional(IngestConfig.WEBHOOK_PATH);
        if (path.isPresent() && !PATH_SYNTAX.matcher(path.get()).matches()) {
            throw new ConfigException(
                    IngestConfig.WEBHOOK_PATH,
                    "expected an absolute path like /telegram/abc123 (letters, digits, . _ ~ -) but was '" + path.get()
                            + "'");
        }
        return new WebhookSettings(
                config.integer(IngestConfig.WEBHOOK_PORT, 8090, 0, 65535),
                path.orElseGet(() -> defaultPath(secret)),
                url,
                secret,
                config.millis(IngestConfig.WEBHOOK_ACK_TIMEOUT_MS, 8_000, 100, 50_000),
                config.bool(IngestConfig.WEBHOOK_DELETE_ON_STOP, true),
                config.integer(IngestConfig.WEBHOOK_MAX_CONNECTIONS, 40, 1, 100));
    }

    /**
     * A path no scanner guesses, identical on every instance sharing the secret, and revealing nothing of it (a
     * truncated SHA-256 of a domain-separated input).
     */
    static String defaultPath(Secret secret) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(("thoughtstream-webhook-path:" + secret.reveal()).getBytes(StandardCharsets.UTF_8));
            return "/telegram/" + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** What setWebhook is given: the public base URL with the endpoint's path appended. */
    public String webhookUrl() {
        String base = publicUrl.toString();
        if (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return base + path;
    }

    /** True when Telegram will accept the URL (it requires https); the emulator also takes http. */
    public boolean isHttps() {
        return "https".equalsIgnoreCase(publicUrl.getScheme());
    }

    @Override
    public String toString() {
        // The path is derived from the secret and is itself a capability: only its first characters are shown.
        return "WebhookSettings[port=" + port + ", path=" + path.substring(0, Math.min(path.length(), 12))
                + "..., publicUrl=" + publicUrl + ", secret=" + secret + ", ackTimeout=" + ackTimeout
                + ", deleteOnStop=" + deleteOnStop
                + ", maxConnections=" + maxConnections + "]";
    }
}
