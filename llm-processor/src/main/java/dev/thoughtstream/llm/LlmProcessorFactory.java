package dev.thoughtstream.llm;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.service.OwningService;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.service.ServiceFactory;
import dev.thoughtstream.llm.budget.BudgetConfig;
import dev.thoughtstream.llm.budget.ProviderBudget;
import dev.thoughtstream.llm.budget.ProviderBudgets;
import dev.thoughtstream.llm.generate.ReplyGenerator;
import dev.thoughtstream.llm.model.ModelFactory;
import dev.thoughtstream.llm.model.ProviderCheck;
import dev.thoughtstream.llm.model.ProviderEndpoint;
import dev.thoughtstream.llm.model.ProviderProbe;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the llm-processor: {@code chat.thoughts} → the model → {@code chat.replies}. */
public final class LlmProcessorFactory implements ServiceFactory {
    private static final Logger LOG = LoggerFactory.getLogger(LlmProcessorFactory.class);

    @Override
    public String name() {
        return LlmProcessor.SERVICE;
    }

    @Override
    public void validate(Config config) {
        LlmConfig.from(config);
        BudgetConfig.from(config);
    }

    @Override
    public Service create(Config config, Infra infra) {
        LlmConfig llm = LlmConfig.from(config);
        LOG.info("llm-processor: {}, {}", llm, infra.kafka());
        // Paces the scripted model and runs reply timeouts. Cancelled timeouts are removed at once, or every
        // answered thought would leave one behind for the whole reply timeout.
        ScheduledThreadPoolExecutor scheduler =
                new ScheduledThreadPoolExecutor(2, NamedThreads.factory("llm-scheduler", true));
        scheduler.setRemoveOnCancelPolicy(true);
        // The budget's Redis calls run one at a time on a thread of their own, so a slow Redis (up to
        // REDIS_TIMEOUT_MS) never holds up the reply timeouts on the scheduler above.
        ScheduledThreadPoolExecutor budgetThread =
                new ScheduledThreadPoolExecutor(1, NamedThreads.factory("llm-budget", true));
        budgetThread.setRemoveOnCancelPolicy(true);
        ProviderBudget budget = ProviderBudget.unlimited();
        try {
            // The model provider's limits belong to the API key, so every instance shares them through Redis.
            budget = ProviderBudgets.create(
                    BudgetConfig.from(config),
                    infra.redis(),
                    infra.redisKeyPrefix(),
                    budgetThread,
                    infra.clock(),
                    infra.metrics());
            StreamingChatModel model = ModelFactory.streaming(llm, scheduler);
            ProviderCheck providerCheck = providerCheck(llm, infra);
            LlmProcessor processor = new LlmProcessor(
                    infra.kafka(),
                    infra.topics(),
                    llm,
                    ReplyGenerator.from(
                            llm,
                            model,
                            scheduler,
                            infra.clock(),
                            infra.metrics(),
                            budget,
                            infra.tracing().forService(name())),
                    infra.subscribedActivity(),
                    infra.claims(),
                    infra.metrics(),
                    infra.clock(),
                    infra.owner(),
                    budget);
            // The processor closes the budget; its thread and the scheduler go after it.
            return new ProviderCheckedService(
                    OwningService.of(processor, scheduler::shutdownNow, budgetThread::shutdownNow), providerCheck);
        } catch (RuntimeException e) {
            budget.close();
            scheduler.shutdownNow();
            budgetThread.shutdownNow();
            throw e;
        }
    }

    /** The provider probe at start; its HTTP client only where there is a server to ask. */
    private static ProviderCheck providerCheck(LlmConfig llm, Infra infra) {
        Optional<ProviderProbe> probe =
                llm.model().apiUrl().map(url -> ProviderProbe.withTimeout(ProviderProbe.DEFAULT_TIMEOUT));
        return new ProviderCheck(llm.model(), probe, NamedThreads.factory("llm-probe", true), infra.metrics());
    }

    /** The provider, model and URL, e.g. {@code ollama llama3.2 at http://localhost:11434}; no probe. */
    public static String describe(Config config) {
        return ProviderEndpoint.of(LlmConfig.from(config).model()).describe();
    }

    /**
     * For the ready line, once the services started: {@link #describe(Config)} with what the provider probe found,
     * e.g. {@code ollama llama3.2 at http://localhost:11434 (unreachable: connection refused)}, waiting up to the
     * probe's timeout for a probe still running. Without an llm-processor among {@code services}, no probe.
     */
    public static String describe(Config config, Collection<? extends Service> services) {
        return describe(config, services, ProviderProbe.DEFAULT_TIMEOUT);
    }

    /** {@link #describe(Config, Collection)}, waiting up to {@code wait} for a probe still running. */
    public static String describe(Config config, Collection<? extends Service> services, Duration wait) {

        return services.stream()
                .filter(ProviderCheckedService.class::isInstance)
                .map(s -> ((ProviderCheckedService) s).check().describe(wait))
                .findFirst()
                .orElseGet(() -> describe(config));
    }
}
