package dev.thoughtstream.llm.handle;

import dev.thoughtstream.common.config.RedisOutage;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.llm.ScaleConfig;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may call the model for a thought: a claim {@code llm:thought:<thoughtId>} in Redis ({@code SET NX PX}), holding
 * the id of the handling while it generates and {@value #DONE} once the thought is finished, so a thought delivered
 * again makes no model call. The claim's TTL outlasts the reply timeout, so a live handling never loses it.
 *
 * <p>A handling id is {@code <owner>/<n>}, the owner being {@code <instanceId>#<incarnation>}. A claim left by a dead
 * process is taken over at once (compare-and-set) instead of waiting out its TTL when its holder is this instance's
 * previous process, or an instance whose current incarnation ({@code llm:incarnation:<instanceId>}) is a newer one;
 * every other claim waits for its TTL. Why that is safe, and what it means for a reply: docs/llm-processor.md,
 * "Idempotence".
 */
public final class ThoughtClaims {
    private static final Logger LOG = LoggerFactory.getLogger(ThoughtClaims.class);
    static final String DONE = "done";
    static final String KEY_PREFIX = "llm:thought:";
    /** {@code llm:incarnation:<instanceId>} holds the owner of the instance's current (newest) process. */
    static final String INCARNATION_PREFIX = "llm:incarnation:";

    /** What {@link #acquire} found. */
    public enum Claim {
        /** This handling holds the claim: call the model. */
        CLAIMED,
        /** Redis failed and {@code LLM_REDIS_OUTAGE=fail-open}: call the model without a claim. */
        UNCHECKED,
        /** The thought was finished before. */
        DONE,
        /** Another handling holds the claim and has not finished. */
        ELSEWHERE,
        /** Redis failed and {@code LLM_REDIS_OUTAGE=fail-closed}: ask again later. */
        UNAVAILABLE
    }

    private final ClaimStore store;
    private final Duration claimTtl;
    private final Duration doneTtl;
    private final boolean failOpen;
    private final ProcessorMetrics metrics;
    /** This process's {@code <instanceId>#<incarnation>}; handling ids start with it. */
    private final String owner;
    /** The instance id part of {@link #owner}; empty without an instance id. */
    private final String instanceId;
    /** Set once this process is recorded as its instance's current incarnation. */
    private volatile boolean incarnationRecorded;

    public ThoughtClaims(ClaimStore store, ScaleConfig scale, ProcessorMetrics metrics, String owner) {
        this.store = Objects.requireNonNull(store, "store");
        this.owner = Objects.requireNonNull(owner, "owner");
        this.instanceId = owner.indexOf('#') > 0 ? owner.substring(0, owner.indexOf('#')) : "";
        this.claimTtl = scale.claimTtl();
        this.doneTtl = scale.doneTtl();
        this.failOpen = scale.redisOutage() == RedisOutage.FAIL_OPEN;
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    public static String key(String thoughtId) {
        return KEY_PREFIX + thoughtId;
    }

    /** The owner part of a handling id: {@code <instanceId>#<incarnation>} (or anything older handling ids held). */
    private static String ownerOf(String holder) {
        int slash = holder.indexOf('/');
        return slash < 0 ? holder : holder.substring(0, slash);
    }

    /** The instance id of an owner; empty when it has none. */
    private static String instanceOf(String holderOwner) {
        int hash = holderOwner.indexOf('#');
        return hash <= 0 ? "" : holderOwner.substring(0, hash);
    }

    /**
     * True when {@code holder} (a handling id) belongs to a previous process of the instance {@code owner} names:
     * the same instance id, another incarnation. Never without an instance id, and never for a holder written
     * without one or before handling ids carried the owner.
     */
    public static boolean leftByPreviousIncarnation(String holder, String owner) {
        String mine = instanceOf(owner);
        String holderOwner = ownerOf(holder);
        return !mine.isEmpty() && mine.equals(instanceOf(holderOwner)) && !holderOwner.equals(owner);
    }

    /**
     * Records this process as its instance's current incarnation, once, before it claims anything: from then on any
     * instance recognises the claims of this instance's earlier processes as left by the dead. Nothing without an
     * instance id. Throws what Redis throws.
     */
    public void recordIncarnation() {
        if (incarnationRecorded || instanceId.isEmpty()) {
            return;
        }
        // As long as a claim: by the time the record expires, every claim of an earlier process has expired too.
        store.put(INCARNATION_PREFIX + instanceId, owner, claimTtl);
        incarnationRecorded = true;
        LOG.info("recorded {} as the current process of instance {}", owner, instanceId);
    }

    /** Why {@code holder}'s process is known to be dead, or empty when it may be alive. Reads Redis at most once. */
    private Optional<String> deadHolder(String holder) {
        if (leftByPreviousIncarnation(holder, owner)) {
            return Optional.of("this instance's previous process");
        }
        String holderOwner = ownerOf(holder);
        String holderInstance = instanceOf(holderOwner);
        if (holderInstance.isEmpty() || holderInstance.equals(instanceId)) {
            return Optional.empty();
        }
        Optional<String> current = store.get(INCARNATION_PREFIX + holderInstance);
        if (current.isPresent() && !current.get().equals(holderOwner)) {
            return Optional.of("a previous process of instance " + holderInstance + ", now " + current.get());
        }
        return Optional.empty();
    }

    /** Claims {@code thoughtId} for {@code handlingId}, or says why not. */
    public Claim acquire(String thoughtId, String handlingId) {
        String key = key(thoughtId);
        try {
            recordIncarnation();
            // A few tries at most: the claim can expire, or change hands, between two of these calls.
            for (int tries = 0; tries < 3; tries++) {
                if (store.claim(key, handlingId, claimTtl)) {
                    return Claim.CLAIMED;
                }
                Optional<String> holder = store.get(key);
                if (holder.isEmpty()) {
                    continue;
                }
                if (DONE.equals(holder.get())) {
                    return Claim.DONE;
                }
                Optional<String> dead = deadHolder(holder.get());
                if (dead.isPresent()) {
                    if (store.replace(key, holder.get(), handlingId, claimTtl)) {
                        metrics.claimTakenOver();
                        LOG.info("thought {}: took over claim {} left by {}", thoughtId, holder.get(), dead.get());
                        return Claim.CLAIMED;
                    }
                    continue;
                }
                LOG.info("thought {} is claimed by handling {}; not calling the model", thoughtId, holder.get());
                return Claim.ELSEWHERE;
            }
            return Claim.ELSEWHERE;
        } catch (RuntimeException e) {
            metrics.redisError();
            if (failOpen) {
                LOG.warn(
                        "thought {}: cannot claim it in Redis ({}); generating without a claim ({}=fail-open), so "
                                + "a redelivery could call the model again",
                        thoughtId,
                        e.toString(),
                        ScaleConfig.REDIS_OUTAGE);
                return Claim.UNCHECKED;
            }
            LOG.warn(
                    "thought {}: cannot claim it in Redis ({}); waiting for Redis ({}=fail-closed)",
                    thoughtId,
                    e.toString(),
                    ScaleConfig.REDIS_OUTAGE);
            return Claim.UNAVAILABLE;
        }
    }

    /** Records that the thought is finished, over any claim. A failure is counted; a redelivery may then regenerate. */
    public void markDone(String thoughtId) {
        try {
            store.put(key(thoughtId), DONE, doneTtl);
        } catch (RuntimeException e) {
            metrics.redisError();
            LOG.warn(
                    "thought {} is finished but Redis did not record it ({}); a redelivery would generate it again",
                    thoughtId,
                    e.toString());
        }
    }

    /**
     * Gives up {@code handlingId}'s claim so the thought's next delivery can start at once instead of waiting for the
     * TTL. Only our own claim is deleted (read, compare, delete: the claim cannot have expired and been taken by
     * someone else in between unless this handling outlived its TTL, which the reply timeout prevents).
     */
    public void release(String thoughtId, String handlingId) {
        String key = key(thoughtId);
        try {
            if (store.get(key).filter(handlingId::equals).isPresent()) {
                store.delete(key);
            }
        } catch (RuntimeException e) {
            metrics.redisError();
            LOG.warn(
                    "thought {}: cannot release claim {} ({}); it expires after {}",
                    thoughtId,
                    handlingId,
                    e.toString(),
                    claimTtl);
        }
    }
}
