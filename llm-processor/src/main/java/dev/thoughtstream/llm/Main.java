package dev.thoughtstream.llm;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.service.ServiceLauncher;
import dev.thoughtstream.common.topic.Topics;
import dev.langchain4j.model.chat.StreamingChatModel;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** llm-processor: chat.thoughts → chat.replies. Configuration and exit codes: see README and {@link ServiceLauncher}. */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        ServiceLauncher.run("llm-processor", (config, metrics) -> {
            KafkaSettings kafka = KafkaSettings.from(config);
            LlmConfig llm = LlmConfig.from(config);
            LOG.info("starting llm-processor: {}, {}", llm, kafka);
            Topics topics = Topics.withPrefix(kafka.topicPrefix());
            // Paces the scripted model and runs reply timeouts. Cancelled timeouts are removed at once, or every
            // answered thought would leave one behind for the whole reply timeout.
            ScheduledThreadPoolExecutor scheduler =
                    new ScheduledThreadPoolExecutor(2, Threads.named("llm-scheduler", true));
            scheduler.setRemoveOnCancelPolicy(true);
            LlmProcessor processor;
            try {
                TopicAdmin.ensureTopics(kafka, topics, Duration.ofSeconds(30));
                StreamingChatModel model = ModelFactory.streaming(llm, scheduler);
                processor = new LlmProcessor(kafka, topics, llm, model, scheduler, Clock.systemUTC());
                processor.start();
            } catch (RuntimeException e) {
                scheduler.shutdownNow();
                throw e;
            }
            return ServiceLauncher.running(processor::awaitTermination, processor::failure, () -> {
                processor.close();
                scheduler.shutdownNow();
            }, processor::isRunning);
        });
    }
}
