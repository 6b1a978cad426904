package dev.thoughtstream.llm;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.topic.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs one llm-processor instance until the JVM is asked to stop. */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) throws InterruptedException {
        KafkaSettings kafka;
        LlmConfig llm;
        try {
            Config config = Config.load();
            kafka = KafkaSettings.from(config);
            llm = LlmConfig.from(config);
        } catch (ConfigException e) {
            LOG.error("invalid configuration: {}", e.getMessage());
            System.exit(2);
            return;
        }
        Topics topics = Topics.withPrefix(kafka.topicPrefix());

        // Paces the scripted model and runs reply timeouts. Cancelled timeouts are removed at once, or every answered
        // thought would leave one behind for the whole reply timeout.
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(2, Threads.named("llm-scheduler", true));
        scheduler.setRemoveOnCancelPolicy(true);

        LlmProcessor processor;
        try {
            TopicAdmin.ensureTopics(kafka, topics, Duration.ofSeconds(30));
            StreamingChatModel model = ModelFactory.streaming(llm, scheduler);
            processor = new LlmProcessor(kafka, topics, llm, model, scheduler, Clock.systemUTC());
        } catch (RuntimeException e) {
            LOG.error("cannot start the llm-processor", e);
            scheduler.shutdownNow();
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            processor.close();
            scheduler.shutdownNow();
        }, "llm-processor-shutdown"));
        processor.start();
        processor.awaitTermination();
        if (processor.failure().isPresent()) {
            System.exit(1);
        }
    }
}
