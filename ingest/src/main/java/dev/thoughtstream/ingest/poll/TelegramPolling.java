package dev.thoughtstream.ingest.poll;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.ingest.BotApiClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The getUpdates loop of one term, on its own poller thread: each batch is handed to the term, and confirmed (by the
 * next getUpdates' offset) only once the term returned; failed calls are retried after {@link PollBackOff} (or
 * Telegram's {@code retry_after}, if longer). Plus the one getUpdates that confirms on shutdown what was written.
 * Messages of its exceptions and logs never hold the bot token.
 *
 * <p>It reads the raw JSON itself rather than through TelegramBots' long polling because that client drops every
 * update whose id is not above the last it saw: when Telegram restarts update ids lower after a long idle (Bot API
 * docs, getUpdates: "If there are no new updates for at least a week, then identifier of the next update will be
 * chosen randomly instead of sequentially"), the Bot API server answers the old offset from the head of its queue
 * without confirming anything (tdlib/telegram-bot-api, Client.cpp, {@code Client::do_get_updates}), so that client
 * would fetch and drop the same updates forever. This loop notices the restart, counts it and polls on from the new
 * ids. See docs/ingest.md.
 */
final class TelegramPolling {
    private static final Logger LOG = LoggerFactory.getLogger(TelegramPolling.class);
    /** How long the poller thread may take to end on its own once stopped, before it is interrupted. */
    private static final Duration OWN_STOP = Duration.ofMillis(500);
    /** How long the poller thread may take to stop. */
    private static final Duration POLLER_STOP = Duration.ofSeconds(10);
    /** How long the confirming getUpdates on shutdown may take. */
    private static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(5);
    /** How much longer than the long poll itself a getUpdates may take before it counts as failed. */
    private static final Duration READ_MARGIN = Duration.ofSeconds(15);
    /** The most updates Telegram hands out per getUpdates. */
    static final int LIMIT = 100;

    /** What the loop asks of its term. */
    interface Batches {
        /** Right before each getUpdates, no I/O: false sends none and ends the loop. */
        boolean mayPoll();

        /** Each non-empty batch, in Telegram's order; returns once it may be confirmed, throws to end the loop. */
        void consume(List<JsonNode> updates);

        /** Telegram restarted its update ids: {@code first} arrived after {@code last}, and is not above it. */
        void idsRestarted(long last, long first);

        /** The loop itself failed (a bug): it has ended. */
        void pollerFailed(Throwable failure);
    }

    private final TelegramSettings telegram;
    private final int pollTimeout;
    private final Duration backoffMax;
    private final ExecutorService httpExecutor;
    private final BotApiClient botApi;
    private final PollCounts polls;
    private final ExecutorService poller;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private volatile Future<?> loop;
    private volatile BotApiClient.PendingUpdates inFlight;
    /** The first getUpdates has been sent: a message written from now on is fetched by a poll under way. */
    private volatile boolean asked;
    /** The id of the last update of the last batch the term took (-1 before the first): what is confirmable. */
    private volatile long last = -1;

    /**
     * @param pollTimeout getUpdates' long-poll timeout in seconds (0..50, the most the Bot API server holds a poll)
     * @param backoffMax  the longest wait between failed getUpdates ({@link PollBackOff})
     * @param polls       counts each getUpdates by outcome
     */
    TelegramPolling(TelegramSettings telegram, int pollTimeout, Duration backoffMax, PollCounts polls) {
        this.telegram = telegram;
        this.polls = polls;
        this.pollTimeout = pollTimeout;
        this.backoffMax = backoffMax;
        this.httpExecutor = Executors.newCachedThreadPool(NamedThreads.daemon("ingest-telegram-http"));
        this.botApi = BotApiClient.onOwnConnections(telegram, httpExecutor);
        this.poller = Executors.newSingleThreadExecutor(NamedThreads.daemon("ingest-telegram-poller"));
    }

    /**
     * Deletes a webhook, if one is set (getUpdates is refused while one is; pending updates are kept), then starts the
     * poller thread.
     *
     * @throws IllegalStateException when Telegram cannot be reached
     */
    void start(Batches batches) {
        try {
            botApi.deleteWebhook();
        } catch (IllegalStateException e) {
            throw new IllegalStateException(
                    "cannot start long polling at " + telegram.apiUrl() + ": " + e.getMessage(), null);
        }
        loop = poller.submit(() -> {
            try {
                pollLoop(batches);
            } catch (RuntimeException | Error e) {
                batches.pollerFailed(e);
            }
        });
    }

    private void pollLoop(Batches batches) {
        PollBackOff backOff = new PollBackOff(backoffMax);
        while (!isStopping()) {
            if (!batches.mayPoll()) {
                return;
            }
            long offset = last < 0 ? 0 : last + 1;
            List<JsonNode> updates;
            try {
                updates = fetch(offset);
            } catch (CancellationException e) {
                if (isStopping()) {
                    return;
                }
                // Only stopPolling cancels; anything else is a bug, reported by the caller of this loop.
                throw e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IllegalStateException e) {
                if (isStopping()) {
                    return;
                }
                polls.failed();
                long wait = backOff.nextBackOffMillis();
                if (e instanceof BotApiClient.Refused refused && refused.retryAfterSeconds() > 0) {
                    wait = Math.max(wait, TimeUnit.SECONDS.toMillis(refused.retryAfterSeconds()));
                }
                LOG.warn("getUpdates with offset {} failed: {}; trying again in {} ms", offset, e.getMessage(), wait);
                pause(wait);
                continue;
            }
            backOff.reset();
            polls.answered(updates.size());
            if (updates.isEmpty()) {
                continue;
            }
            long first = updates.get(0).path("update_id").asLong(-1);
            if (last >= 0 && first >= 0 && first <= last) {
                batches.idsRestarted(last, first);
            }
            try {
                batches.consume(updates);
            } catch (RuntimeException | Error e) {
                // The term has logged it and told the service; ending the loop leaves the batch unconfirmed.
                LOG.debug("polling ends: the batch was not taken ({})", e.toString());
                return;
            }
            // The batch's last id, not the highest ever: after a restart the new ids are the ones to confirm.
            last = updates.get(updates.size() - 1).path("update_id").asLong(last);
        }
    }

    private List<JsonNode> fetch(long offset) throws InterruptedException {
        BotApiClient.PendingUpdates call = botApi.getUpdates(
                offset, pollTimeout, LIMIT, Duration.ofSeconds(pollTimeout).plus(READ_MARGIN));
        inFlight = call;
        asked = true;
        if (isStopping()) {
            // stopPolling may have looked for a call in flight just before this one was registered.
            call.cancel();
        }
        try {
            return call.await();
        } finally {
            inFlight = null;
        }
    }

    /** Waits {@code millis}, or less once polling stops. */
    private void pause(long millis) {
        try {
            stopping.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean isStopping() {
        return stopping.getCount() == 0 || Thread.currentThread().isInterrupted();
    }

    /** The id of the last update of the last batch taken (-1 before the first); the next offset is one above. */
    long lastTaken() {
        return last;
    }

    /** True while the poller thread polls. */
    boolean isPolling() {
        Future<?> l = loop;
        return l != null && !l.isDone() && stopping.getCount() > 0;
    }

    /** True once the first getUpdates has been sent. */
    boolean hasAsked() {
        return asked;
    }

    /**
     * Sends no further getUpdates and abandons the long poll in flight; a batch being consumed goes on (the term
     * waits for it or not).
     */
    void stopPolling() {
        stopping.countDown();
        BotApiClient.PendingUpdates call = inFlight;
        if (call != null) {
            call.cancel();
        }
    }

    /**
     * Waits for the poller thread to end: briefly on its own (a batch that was just written is then recorded as
     * taken, so it can be confirmed), then interrupted.
     */
    void awaitPollerStopped() {
        stopPolling();
        poller.shutdown();
        try {
            if (!poller.awaitTermination(OWN_STOP.toMillis(), TimeUnit.MILLISECONDS)) {
                poller.shutdownNow();
                if (!poller.awaitTermination(POLLER_STOP.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("the Telegram poller did not stop within {} s", POLLER_STOP.toSeconds());
                }
            }
        } catch (InterruptedException e) {
            poller.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The last batch written is confirmed only by a next getUpdates, which the stopped loop no longer sends, so
     * Telegram would redeliver it to the next poller: confirms updates up to {@code last} with one
     * {@code getUpdates(offset=last+1, timeout=0)} (a redelivery would be deduplicated anyway; this saves the work).
     * Call it only after the poller stopped.
     */
    void confirmUpTo(long last) {
        try {
            botApi.getUpdates(last + 1, 0, 1, CONFIRM_TIMEOUT).await();
            LOG.info("confirmed updates up to {} to Telegram", last);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("interrupted while confirming updates up to {} on shutdown; Telegram will redeliver them", last);
        } catch (RuntimeException e) {
            LOG.warn(
                    "could not confirm updates up to {} on shutdown; Telegram will redeliver them "
                            + "(deduplicated): {}",
                    last,
                    telegram.token().redact(e.toString()));
        }
    }

    /** Releases the HTTP client's threads. */
    void release() {
        poller.shutdownNow();
        httpExecutor.shutdownNow();
    }
}
