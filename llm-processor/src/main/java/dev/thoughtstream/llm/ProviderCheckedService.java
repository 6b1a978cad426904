package dev.thoughtstream.llm;

import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.llm.model.ProviderCheck;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The llm-processor together with its provider probe: starting it starts the probe (without waiting for it), and
 * closing it stops a probe still running. Everything else is the service's.
 */
final class ProviderCheckedService implements Service {
    private final Service service;
    private final ProviderCheck check;

    ProviderCheckedService(Service service, ProviderCheck check) {
        this.service = Objects.requireNonNull(service, "service");
        this.check = Objects.requireNonNull(check, "check");
    }

    ProviderCheck check() {
        return check;
    }

    @Override
    public String name() {
        return service.name();
    }

    @Override
    public void start() {
        // First, so the probe runs while Kafka connects.
        check.start();
        service.start();
    }

    @Override
    public boolean isReady() {
        return service.isReady();
    }

    @Override
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return service.awaitReady(timeout);
    }

    @Override
    public void awaitTermination() throws InterruptedException {
        service.awaitTermination();
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
            check.close();
        }
    }
}
