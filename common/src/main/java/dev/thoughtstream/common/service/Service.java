package dev.thoughtstream.common.service;

import java.time.Duration;
import java.util.Optional;

/**
 * One running stage of the pipeline (ingest, chunker, llm-processor, emitter) as its runners see it: the launcher's
 * subcommand, a module's {@code Main}, and devstack. It is built, not started, by its module's
 * {@link ServiceFactory}; {@link #start()} begins the work and {@link #close()} ends it cleanly.
 */
public interface Service extends AutoCloseable {

    /** The service's name, as the launcher's subcommand spells it. */
    String name();

    /**
     * Starts the work: creates missing topics, connects, starts consuming or polling. Once only.
     *
     * @throws IllegalStateException when it cannot start (the message says why and never holds a secret);
     *                               everything started so far is released again
     */
    void start();

    /** Readiness for {@code /health/ready}: false while the service cannot do its work. */
    boolean isReady();

    /** Blocks until the service has stopped, by {@link #close()} or by failing ({@link #failure()}). */
    void awaitTermination() throws InterruptedException;

    /** Why the service stopped on its own, if it did; empty while running and after {@link #close()}. */
    Optional<Throwable> failure();

    /**
     * Waits until {@link #isReady()} or until {@code timeout} has passed.
     *
     * @return true when ready
     * @throws IllegalStateException when the service stopped instead
     */
    default boolean awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isReady()) {
            failure().ifPresent(cause -> {
                throw new IllegalStateException(name() + " failed while starting: " + cause.getMessage(), cause);
            });
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            // Readiness is a condition of several clients (assignment, streams state) with no single event to
            // wait on; a short poll costs nothing at start-up.
            Thread.sleep(20);
        }
        return true;
    }

    /** Stops the work cleanly and releases what the service owns (not the shared {@link Infra}). Idempotent. */
    @Override
    void close();
}
