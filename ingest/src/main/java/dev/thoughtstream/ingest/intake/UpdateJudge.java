package dev.thoughtstream.ingest.intake;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.redis.ClaimStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what a batch of updates becomes, before anything is written: an update Redis remembers as written (Telegram
 * redelivered it) or met twice in the batch is skipped, every other one is judged by {@link IntakeRules}. Once Kafka
 * has the batch, {@link #remember} records every judged id, written or not, so a redelivery is neither written nor
 * judged (nor answered) again; recording only after the acknowledgement means a crash in between may write a
 * duplicate but never loses an update. Redis down: everything is judged as new, and each failure is counted.
 *
 * <p>One dedup lookup for the whole batch and one record after it, so a batch costs the same Redis round trips
 * whatever its size. See docs/ingest.md.
 */
public final class UpdateJudge {
    private static final Logger LOG = LoggerFactory.getLogger(UpdateJudge.class);

    /** An update to write, possibly cut by the rules, with its id. */
    public record Accepted(long updateId, JsonNode update) {}

    /**
     * What a batch becomes.
     *
     * @param toWrite   the updates to write, in the batch's order
     * @param notices   the notices for the people, to go out with the batch
     * @param judgedIds every new update id judged (written or not), remembered once the batch is in Kafka
     * @param results   what became of each update, counted once the batch is in Kafka
     * @param maxUpdateId the highest update id in the batch, -1 for an empty one
     */
    public record Judgement(
            List<Accepted> toWrite,
            List<ReplyPart> notices,
            List<Long> judgedIds,
            List<IngestResult> results,
            long maxUpdateId) {}

    private final IntakeRules rules;
    private final ClaimStore claims;
    private final String dedupPrefix;
    private final Duration dedupTtl;
    private final AtomicLong duplicatesSkipped = new AtomicLong();
    private final AtomicLong dedupUnavailable = new AtomicLong();

    /**
     * @param dedupPrefix where update ids are remembered ({@link #dedupPrefix(long)}); the poller and the webhook share
     *                    it, so a switch between them deduplicates too
     * @param dedupTtl    how long an id is remembered
     */
    public UpdateJudge(IntakeRules rules, ClaimStore claims, String dedupPrefix, Duration dedupTtl) {
        this.rules = rules;
        this.claims = claims;
        this.dedupPrefix = dedupPrefix;
        this.dedupTtl = dedupTtl;
    }

    /** The dedup keys' prefix of one bot. */
    public static String dedupPrefix(long botId) {
        return "tg:update:" + botId + ":";
    }

    /** Judges {@code updates} (raw Update JSON objects, in Telegram's order); remembers nothing yet. */
    public Judgement judge(List<JsonNode> updates) {
        List<IngestResult> results = new ArrayList<>();
        long maxId = -1;
        List<JsonNode> fresh = new ArrayList<>(updates.size());
        List<Optional<String>> seen = lookUpWritten(updates);
        Set<Long> inBatch = new HashSet<>();
        for (int i = 0; i < updates.size(); i++) {
            JsonNode update = updates.get(i);
            long updateId = update.path("update_id").asLong(-1);
            maxId = Math.max(maxId, updateId);
            if (seen != null && seen.get(i).isPresent()) {
                duplicatesSkipped.incrementAndGet();
                results.add(IngestResult.DUPLICATE);
                LOG.info("update {} was written before (redelivered by Telegram); skipping it", updateId);
            } else if (!inBatch.add(updateId)) {
                // The same update twice in one batch (a webhook retry meeting its first delivery): written once.
                duplicatesSkipped.incrementAndGet();
                results.add(IngestResult.DUPLICATE);
                LOG.info("update {} is twice in one batch; writing it once", updateId);
            } else {
                fresh.add(update);
            }
        }
        List<Accepted> toWrite = new ArrayList<>();
        List<ReplyPart> notices = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        List<IntakeRules.Verdict> verdicts = rules.judgeAll(fresh);
        for (int i = 0; i < fresh.size(); i++) {
            long updateId = fresh.get(i).path("update_id").asLong(-1);
            IntakeRules.Verdict verdict = verdicts.get(i);
            results.add(verdict.result());
            ids.add(updateId);
            if (verdict.toWrite() != null) {
                toWrite.add(new Accepted(updateId, verdict.toWrite()));
            }
            if (verdict.notice() != null) {
                notices.add(verdict.notice());
            }
        }
        return new Judgement(toWrite, notices, ids, results, maxId);
    }

    /** Remembers every judged update id of a batch now in Kafka, in one call (one round trip on Redis). */
    public void remember(Judgement judgement) {
        List<Long> updateIds = judgement.judgedIds();
        if (updateIds.isEmpty()) {
            return;
        }
        List<String> keys = new ArrayList<>(updateIds.size());
        updateIds.forEach(id -> keys.add(key(id)));
        try {
            claims.putAll(keys, "1", dedupTtl);
        } catch (RuntimeException e) {
            dedupUnavailable.addAndGet(updateIds.size());
            LOG.warn(
                    "dedup store unavailable ({}); {} update(s) ({} to {}) may be written again if Telegram "
                            + "redelivers them",
                    e.toString(),
                    updateIds.size(),
                    updateIds.get(0),
                    updateIds.get(updateIds.size() - 1));
        }
    }

    /** Counts what became of each update of a batch now in Kafka ({@code ingest_updates_total}). */
    public void count(Judgement judgement) {
        judgement.results().forEach(rules::count);
    }

    /** Remembers one update Kafka acknowledged after its batch was given up on, so Telegram's retry skips it. */
    public void rememberLate(long updateId) {
        try {
            claims.put(key(updateId), "1", dedupTtl);
        } catch (RuntimeException e) {
            dedupUnavailable.incrementAndGet();
            LOG.warn(
                    "dedup store unavailable ({}); update {} may be written again if Telegram redelivers it",
                    e.toString(),
                    updateId);
        }
    }

    /**
     * Which of {@code updates} were written before, in their order, with one lookup for the whole batch; null when
     * the dedup store is unreachable (then all are written, and each is counted).
     */
    private List<Optional<String>> lookUpWritten(List<JsonNode> updates) {
        List<String> keys = new ArrayList<>(updates.size());
        for (JsonNode update : updates) {
            keys.add(key(update.path("update_id").asLong(-1)));
        }
        try {
            return claims.getAll(keys);
        } catch (RuntimeException e) {
            dedupUnavailable.addAndGet(updates.size());
            LOG.warn(
                    "dedup store unavailable ({}); writing {} update(s) without the duplicate check",
                    e.toString(),
                    updates.size());
            return null;
        }
    }

    private String key(long updateId) {
        return dedupPrefix + updateId;
    }

    /** Redelivered updates skipped because Redis remembered them, or met twice in one batch. */
    public long duplicatesSkipped() {
        return duplicatesSkipped.get();
    }

    /** Redis operations that failed; each means an update written without (or not recorded for) the dedup check. */
    public long dedupUnavailable() {
        return dedupUnavailable.get();
    }
}
