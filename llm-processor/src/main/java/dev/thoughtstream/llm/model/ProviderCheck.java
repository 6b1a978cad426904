package dev.thoughtstream.llm.model;

import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.model.ProbeResult.Status;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider probe of a service start: runs {@link ProviderProbe} once, on a thread of its own so the start does
 * not wait for it, and reports the outcome once: WARN naming the URL and the model when the provider is unreachable,
 * refuses the key or lacks the model, INFO when all is well. It never fails the start, as the provider may come up
 * later; the model calls then simply work.
 *
 * <p>Also the gauge {@code llm_provider_probe_ok{provider}}: 1 when the probe found the model (or there is no server
 * to probe), 0 otherwise and while it runs. It is not repeated: a provider that comes up later still shows 0.
 */
public final class ProviderCheck implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProviderCheck.class);

    public static final String PROBE_OK = "llm_provider_probe_ok";

    private final LlmConfig.Model model;
    private final ProviderEndpoint endpoint;
    private final Optional<ProviderProbe> probe;
    private final ThreadFactory threads;
    private final CompletableFuture<ProbeResult> result = new CompletableFuture<>();

    private Thread running;
    private boolean started;
    /** Set on close: a verdict arriving after it is not reported, as the service is stopping anyway. */
    private volatile boolean closed;

    /**
     * @param model   the configured model and its server
     * @param probe   asks the server; empty for the scripted model, which has none
     * @param threads makes the one thread the probe runs on (a daemon: a hanging probe must not keep the JVM up)
     * @param metrics where the gauge goes
     */
    public ProviderCheck(LlmConfig.Model model, Optional<ProviderProbe> probe, ThreadFactory threads, Metrics metrics) {
        this.model = Objects.requireNonNull(model, "model");
        this.endpoint = ProviderEndpoint.of(model);
        this.probe = Objects.requireNonNull(probe, "probe");
        this.threads = Objects.requireNonNull(threads, "threads");
        metrics.gauge(
                PROBE_OK,
                "1 when the start-up probe found the model at its provider (or there is no server), else 0",
                () -> result.isDone() && result.join().healthy() ? 1 : 0,
                "provider",
                model.providerLabel());
    }

    /** Starts the probe and returns at once; the outcome is logged when it is known. Once only; idempotent. */
    public synchronized void start() {
        if (started) {
            return;
        }
        started = true;
        result.thenAccept(this::report);
        if (model.apiUrl().isEmpty() || probe.isEmpty()) {
            result.complete(new ProbeResult(Status.NOT_PROBED, endpoint, "", "", List.of()));
            return;
        }
        ProviderProbe prober = probe.get();
        // However the probe thread fares (a resolver that hangs, say), the verdict comes in time.
        String listUrl = ProviderEndpoint.shown(ProviderProbe.listUrl(model));
        result.completeOnTimeout(
                new ProbeResult(
                        Status.UNREACHABLE,
                        endpoint,
                        listUrl,
                        "no answer within " + prober.timeout().toMillis() + " ms",
                        List.of()),
                prober.timeout().toMillis() + 500,
                TimeUnit.MILLISECONDS);
        running = threads.newThread(() -> {
            try {
                result.complete(prober.probe(model));
            } catch (RuntimeException e) {
                result.complete(new ProbeResult(
                        Status.UNREACHABLE,
                        endpoint,
                        listUrl,
                        "the probe failed: "
                                + model.apiKey()
                                        .map(k -> k.redact(e.toString()))
                                        .orElse(e.toString()),
                        List.of()));
            }
        });
        running.start();
    }

    /** The probe's outcome, once known. */
    public CompletableFuture<ProbeResult> result() {
        return result;
    }

    /**
     * For the ready line: {@code ollama llama3.2 at http://localhost:11434 (unreachable: connection refused)},
     * waiting up to {@code wait} for the probe to finish; the scripted model is just {@code scripted}.
     */
    public String describe(Duration wait) {
        if (model.apiUrl().isEmpty() || probe.isEmpty()) {
            return endpoint.describe();
        }
        try {
            return endpoint.describe() + " ("
                    + result.get(wait.toMillis(), TimeUnit.MILLISECONDS).summary() + ")";
        } catch (TimeoutException e) {
            return endpoint.describe() + " (probe still running)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return endpoint.describe() + " (probe not awaited)";
        } catch (ExecutionException e) {
            // Never: the result is only ever completed normally.
            return endpoint.describe() + " (probe failed: " + e.getCause() + ")";
        }
    }

    /** Stops a probe still running (its verdict, if it comes, is dropped). */
    @Override
    public synchronized void close() {
        closed = true;
        if (running != null && running.isAlive()) {
            running.interrupt();
        }
    }

    private void report(ProbeResult outcome) {
        if (closed) {
            return;
        }
        switch (outcome.status()) {
            case NOT_PROBED -> {
                // Nothing to say: the scripted model is always there.
            }
            case AVAILABLE -> LOG.info("{}", outcome.message());
            default -> LOG.warn("{}", outcome.message());
        }
    }
}
