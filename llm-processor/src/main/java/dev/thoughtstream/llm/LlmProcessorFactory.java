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
            return OwningService.of(processor, scheduler::shutdownNow, budgetThread::shutdownNow);
        } catch (RuntimeException e) {
            budget.close();
            scheduler.shutdownNow();
            budgetThread.shutdownNow();
            throw e;
        }
    }

    /** For the ready line: the provider and model, e.g. {@code ollama (llama3.2)}. */
    public static String describe(Config config) {
        LlmConfig llm = LlmConfig.from(config);
        return llm.model().providerLabel() + " (" + llm.model().name() + ")";
    }
}
