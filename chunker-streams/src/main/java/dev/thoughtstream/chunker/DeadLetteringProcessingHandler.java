package dev.thoughtstream.chunker;

import java.util.Map;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bad input found by a processor ({@link MalformedRecordException}) goes to the dead-letter topic and
 * processing continues. Every other exception is a bug or an infrastructure failure: it fails the task without a
 * dead letter, so the transaction aborts and the record is processed again after the thread is replaced,
 * rather than being filed away as if the input were at fault.
 */
public final class DeadLetteringProcessingHandler implements ProcessingExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetteringProcessingHandler.class);

    private final LogAndContinueProcessingExceptionHandler builtIn = new LogAndContinueProcessingExceptionHandler();
    private DeadLetterSupport support = DeadLetterSupport.from(Map.of());

    @Override
    public void configure(Map<String, ?> configs) {
        builtIn.configure(configs);
        support = DeadLetterSupport.from(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        if (exception instanceof MalformedRecordException) {
            Response response = builtIn.handleError(context, record, exception);
            return Response.resume(support.decorate(response.deadLetterQueueRecords(), context, exception));
        }
        LOG.error("processing failed in {} at {}-{}@{}; failing the task", context.processorNodeId(),
                context.topic(), context.partition(), context.offset(), exception);
        return Response.fail();
    }
}
