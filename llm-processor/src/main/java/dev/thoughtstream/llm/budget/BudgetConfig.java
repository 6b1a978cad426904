package dev.thoughtstream.llm.budget;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.Secret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The model provider's limits and how the instances share them; 0 means no limit in that dimension.
 *
 * @param maxConcurrentRequests {@code LLM_MAX_CONCURRENT_REQUESTS}: model requests in flight at once, cluster-wide
 * @param requestsPerMinute     {@code LLM_REQUESTS_PER_MINUTE}: model requests started per minute, cluster-wide
 * @param tokensPerMinute       {@code LLM_TOKENS_PER_MINUTE}: prompt and answer tokens per minute, cluster-wide
 * @param instances             {@code LLM_BUDGET_INSTANCES}: while Redis is unreachable (or not configured) each
 *                              instance keeps to 1/this of every limit (at least 1)
 * @param lease                 {@code LLM_BUDGET_LEASE_MS}: a request-in-flight permit expires this long after its
 *                              holder last renewed it (every third of it), so a crashed instance's permits come back
 * @param poll                  {@code LLM_BUDGET_POLL_MS}: how often an instance waiting for a permit held by another
 *                              instance looks again (its own releases wake it at once)
 * @param budgetId              the budget's name in Redis: {@code LLM_BUDGET_ID}, or a hash of the provider, its URL,
 *                              the model and the API key, so deployments with different keys never share a budget
 *                              by accident (the key itself never leaves the process)
 */
public record BudgetConfig(
        int maxConcurrentRequests,
        long requestsPerMinute,
        long tokensPerMinute,
        int instances,
        Duration lease,
        Duration poll,
        String budgetId) {

    public static final String MAX_CONCURRENT_REQUESTS = "LLM_MAX_CONCURRENT_REQUESTS";
    public static final String REQUESTS_PER_MINUTE = "LLM_REQUESTS_PER_MINUTE";
    public static final String TOKENS_PER_MINUTE = "LLM_TOKENS_PER_MINUTE";
    public static final String INSTANCES = "LLM_BUDGET_INSTANCES";
    public static final String LEASE_MS = "LLM_BUDGET_LEASE_MS";
    public static final String POLL_MS = "LLM_BUDGET_POLL_MS";
    public static final String BUDGET_ID = "LLM_BUDGET_ID";

    /** What the provider identity is read from (the llm-processor's own variables). */
    static final String PROVIDER = "LLM_PROVIDER";

    static final String API_URL = "LLM_API_URL";
    static final String API_KEY = "LLM_API_KEY";
    static final String MODEL = "LLM_MODEL";

    public static final long DEFAULT_LEASE_MS = 30_000;
    public static final long DEFAULT_POLL_MS = 250;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public BudgetConfig {
        if (maxConcurrentRequests < 0 || requestsPerMinute < 0 || tokensPerMinute < 0) {
            throw new IllegalArgumentException("limits must not be negative");
        }
        if (instances < 1) {
            throw new IllegalArgumentException("instances must be >= 1 but was " + instances);
        }
        Objects.requireNonNull(lease, "lease");
        Objects.requireNonNull(poll, "poll");
        if (lease.toMillis() < 3 || poll.isNegative() || poll.isZero() || poll.compareTo(lease) >= 0) {
            throw new IllegalArgumentException(
                    "need 0 < poll < lease (and lease >= 3 ms) but were " + poll + ", " + lease);
        }
        if (!ID.matcher(Objects.requireNonNull(budgetId, "budgetId")).matches()) {
            throw new IllegalArgumentException("budgetId must match " + ID + " but was '" + budgetId + "'");
        }
    }

    public static BudgetConfig from(Config config) {
        int concurrent = config.integer(MAX_CONCURRENT_REQUESTS, 0, 0, 1_000_000);
        long requests = config.longValue(REQUESTS_PER_MINUTE, 0, 0, 1_000_000_000L);
        long tokens = config.longValue(TOKENS_PER_MINUTE, 0, 0, 1_000_000_000_000L);
        int instances = config.integer(INSTANCES, 1, 1, 10_000);
        Duration lease = config.millis(LEASE_MS, DEFAULT_LEASE_MS, 1_000, 3_600_000);
        Duration poll = config.millis(POLL_MS, DEFAULT_POLL_MS, 10, 60_000);
        if (poll.compareTo(lease) >= 0) {
            throw new ConfigException(
                    POLL_MS, "is " + poll.toMillis() + " ms, not less than " + LEASE_MS + "=" + lease.toMillis());
        }
        String id = config.optional(BUDGET_ID).orElse(null);
        if (id != null && !ID.matcher(id).matches()) {
            throw new ConfigException(
                    BUDGET_ID, "expected 1 to 64 letters, digits, '.', '_' or '-' but was '" + id + "'");
        }
        // Read in every case, so that the variables a deployment sets are known to be read.
        String identity = String.join(
                "\n",
                config.string(PROVIDER, "scripted").toLowerCase(Locale.ROOT),
                config.string(API_URL, "").replaceAll("/+$", ""),
                config.string(MODEL, ""),
                config.optionalSecret(API_KEY).map(Secret::reveal).orElse(""));
        return new BudgetConfig(
                concurrent, requests, tokens, instances, lease, poll, id != null ? id : fingerprint(identity));
    }

    /** True when any dimension has a limit; otherwise {@link ProviderBudget#unlimited()} is the budget. */
    public boolean limited() {
        return maxConcurrentRequests > 0 || requestsPerMinute > 0 || tokensPerMinute > 0;
    }

    /** 1/{@link #instances} of {@code limit}, at least 1 (a limit of 0 stays 0: no limit). */
    long share(long limit) {
        return limit == 0 ? 0 : Math.max(1, limit / instances);
    }

    /** 64 bits of SHA-256: names the budget without revealing what it was computed from. */
    static String fingerprint(String identity) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
