package dev.thoughtstream.llm;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.service.OwningService;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.service.ServiceFactory;
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
        dev.thoughtstream.llm.budget.BudgetConfig.from(config);
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
        try {
            StreamingChatModel model = ModelFactory.streaming(llm, scheduler);
            LlmProcessor processor = new LlmProcessor(infra.kafka(), infra.topics(), llm,
                    ReplyGenerator.from(llm, model, scheduler, infra.clock()), infra.subscribedActivity(),
                    infra.claims(), infra.metrics(), infra.clock(), infra.owner());
            return OwningService.of(processor, scheduler::shutdownNow);
        } catch (RuntimeException e) {
            scheduler.shutdownNow();
            throw e;
        }
    }

    /** For the ready line: the provider and model, e.g. {@code ollama (llama3.2)}. */
    public static String describe(Config config) {
        LlmConfig llm = LlmConfig.from(config);
        return llm.provider().toString().toLowerCase(java.util.Locale.ROOT) + " (" + llm.model() + ")";
    }
}
