package dev.thoughtstream.common.service;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service together with what its factory created for it alone (a scheduler, an HTTP client): those are released
 * right after the service stops, in the order given, and never before.
 */
public final class OwningService implements Service {
    private static final Logger LOG = LoggerFactory.getLogger(OwningService.class);

    private final Service service;
    private final List<AutoCloseable> resources;
    private boolean released;

    private OwningService(Service service, List<AutoCloseable> resources) {
        this.service = Objects.requireNonNull(service, "service");
        this.resources = List.copyOf(resources);
    }

    /** {@code service}, releasing {@code resources} (in this order) once it is closed. */
    public static Service of(Service service, AutoCloseable... resources) {
        return new OwningService(service, List.of(resources));
    }

    @Override
    public String name() {
        return service.name();
    }

    @Override
    public void start() {
        service.start();
    }

    @Override
    public boolean isReady() {
        return service.isReady();
    }

    @Override
    public void awaitTermination() throws InterruptedException {
        service.awaitTermination();
    }

    @Override
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return service.awaitReady(timeout);
    }

    @Override
    public Optional<Throwable> failure() {
        return service.failure();
    }

    @Override
    public void close() {
        try {
            service.close();
        } finally {
            release();
        }
    }

    private synchronized void release() {
        if (released) {
            return;
        }
        released = true;
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                LOG.warn(
                        "{}: error while releasing {} (continuing): {}",
                        service.name(),
                        r.getClass().getSimpleName(),
                        e.toString());
            }
        }
    }
}
