package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.OwningService;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.service.ServiceFactory;
import dev.thoughtstream.emitter.consume.EmitterService;
import dev.thoughtstream.emitter.telegram.TelegramClients;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the emitter: {@code chat.replies} → Telegram (+ {@code chat.delivered}). After a failure a supervisor
 * restarts it; the committed offsets and the claims make that safe.
 */
public final class EmitterFactory implements ServiceFactory {
    private static final Logger LOG = LoggerFactory.getLogger(EmitterFactory.class);

    @Override
    public String name() {
        return EmitterService.NAME;
    }

    @Override
    public void validate(Config config) {
        EmitterConfig.from(config);
    }

    @Override
    public Service create(Config config, Infra infra) {
        EmitterConfig emitter = EmitterConfig.from(config);
        LOG.info("emitter: {}, {}", emitter.telegram(), infra.kafka());
        OkHttpClient http = TelegramClients.http();
        ScheduledThreadPoolExecutor scheduler = EmitterThreads.scheduler();
        try {
            EmitterService service = new EmitterService(
                    emitter,
                    infra.kafka(),
                    TelegramClients.create(emitter.telegram(), http),
                    infra.claims(),
                    infra.subscribedActivity(),
                    infra.metrics(),
                    infra.clock(),
                    scheduler,
                    infra.redis(),
                    infra.redisKeyPrefix(),
                    infra.tracing().forService(name()));
            return OwningService.of(service, scheduler::shutdownNow, () -> TelegramClients.release(http));
        } catch (RuntimeException e) {
            scheduler.shutdownNow();
            TelegramClients.release(http);
            throw e;
        }
    }
}
