package dev.thoughtstream.chunker;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;

/**
 * Unreadable bytes on an input topic: log and continue, with the record sent to the dead-letter topic named by
 * {@code errors.dead.letter.queue.topic.name}. Kafka Streams' own {@link LogAndContinueExceptionHandler} builds
 * the dead-letter record (original bytes, {@code __streams.errors.*} headers); this adds the project's headers
 * and counts it. The record is produced in the task's transaction, so under exactly-once it is written exactly
 * when the input offset is committed.
 */
public final class DeadLetteringDeserializationHandler implements DeserializationExceptionHandler {
    private final LogAndContinueExceptionHandler builtIn = new LogAndContinueExceptionHandler();
    private DeadLetterSupport support = DeadLetterSupport.from(Map.of());

    @Override
    public void configure(Map<String, ?> configs) {
        builtIn.configure(configs);
        support = DeadLetterSupport.from(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
            Exception exception) {
        Response response = builtIn.handleError(context, record, exception);
        return Response.resume(support.decorate(response.deadLetterQueueRecords(), context, exception));
    }
}
