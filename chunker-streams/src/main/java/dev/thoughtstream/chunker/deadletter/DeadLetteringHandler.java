package dev.thoughtstream.chunker.deadletter;

import dev.thoughtstream.chunker.parse.MalformedRecordException;
import dev.thoughtstream.common.kafka.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Both of the chunker's exception handlers, so that bad input is dead-lettered the same way wherever it is found:
 * unreadable bytes on an input topic (deserialization), and a record a processor cannot use
 * ({@link MalformedRecordException}, thrown before any state changes). Both log and continue, with the record sent
 * to the dead-letter topic named by {@code errors.dead.letter.queue.topic.name}. Kafka Streams' own log-and-continue
 * handlers build the dead-letter record (original bytes, {@code __streams.errors.*} headers, KIP-1034); this adds
 * the project's {@link DeadLetters} headers, so every service's dead letters read the same, and counts it. The
 * record is produced in the task's transaction, so under exactly-once it is written exactly when the input offset
 * is committed.
 *
 * <p>Any other exception in a processor is a bug or an infrastructure failure: it fails the task without a dead
 * letter, so the transaction aborts and the record is processed again after the thread is replaced, rather than
 * being filed away as if the input were at fault.
 *
 * <p>Kafka Streams creates its handlers by reflection, so the counter and the clock come in through the streams
 * properties ({@link DeadLetterCounter#CONFIG}, {@link #CLOCK_CONFIG}).
 */
public final class DeadLetteringHandler implements DeserializationExceptionHandler, ProcessingExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetteringHandler.class);

    static final String SERVICE = "chunker-streams";
    /** Streams property under which the handler finds the {@link Clock} for the {@code dlq.at} header. */
    public static final String CLOCK_CONFIG = "thoughtstream.chunker.clock";

    private static final int MAX_REASON_CHARS = 2000;

    private final LogAndContinueExceptionHandler unreadable = new LogAndContinueExceptionHandler();
    private final LogAndContinueProcessingExceptionHandler malformed = new LogAndContinueProcessingExceptionHandler();
    private DeadLetterCounter counter = new DeadLetterCounter();
    private Clock clock = Clock.systemUTC();

    /** Without a counter or clock in the properties (a bare TopologyTestDriver), private ones are used. */
    @Override
    public void configure(Map<String, ?> configs) {
        unreadable.configure(configs);
        malformed.configure(configs);
        if (configs.get(DeadLetterCounter.CONFIG) instanceof DeadLetterCounter c) {
            counter = c;
        }
        if (configs.get(CLOCK_CONFIG) instanceof Clock c) {
            clock = c;
        }
    }

    @Override
    public DeserializationExceptionHandler.Response handleError(
            ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        List<ProducerRecord<byte[], byte[]>> deadLetters =
                unreadable.handleError(context, record, exception).deadLetterQueueRecords();
        return DeserializationExceptionHandler.Response.resume(decorate(deadLetters, context, exception));
    }

    @Override
    public ProcessingExceptionHandler.Response handleError(
            ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        if (exception instanceof MalformedRecordException) {
            List<ProducerRecord<byte[], byte[]>> deadLetters =
                    malformed.handleError(context, record, exception).deadLetterQueueRecords();
            return ProcessingExceptionHandler.Response.resume(decorate(deadLetters, context, exception));
        }
        LOG.error(
                "processing failed in {} at {}-{}@{}; failing the task",
                context.processorNodeId(),
                context.topic(),
                context.partition(),
                context.offset(),
                exception);
        return ProcessingExceptionHandler.Response.fail();
    }

    private List<ProducerRecord<byte[], byte[]>> decorate(
            List<ProducerRecord<byte[], byte[]>> records, ErrorHandlerContext context, Exception exception) {
        String reason = reason(exception);
        long now = clock.millis();
        for (ProducerRecord<byte[], byte[]> record : records) {
            Headers headers = record.headers();
            headers.add(DeadLetters.REASON, utf8(reason));
            headers.add(DeadLetters.SOURCE_TOPIC, utf8(String.valueOf(context.topic())));
            headers.add(DeadLetters.SOURCE_PARTITION, utf8(Integer.toString(context.partition())));
            headers.add(DeadLetters.SOURCE_OFFSET, utf8(Long.toString(context.offset())));
            headers.add(DeadLetters.SERVICE, utf8(SERVICE));
            headers.add(DeadLetters.AT, utf8(Long.toString(now)));
        }
        counter.record(context.topic());
        return records;
    }

    static String reason(Exception exception) {
        String message = exception.getMessage();
        String reason = message == null ? exception.getClass().getName() : message;
        return reason.length() <= MAX_REASON_CHARS ? reason : reason.substring(0, MAX_REASON_CHARS) + "...";
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
