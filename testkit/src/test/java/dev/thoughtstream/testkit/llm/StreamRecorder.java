package dev.thoughtstream.testkit.llm;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** Records every callback of a LangChain4j stream, in order, for assertions. */
class StreamRecorder implements StreamingChatResponseHandler {
    /** Called on the client's thread for every partial, with its 1-based index. */
    interface PartialHook {
        void onPartial(int index, String token, StreamingHandle handle);
    }

    final List<String> partials = new CopyOnWriteArrayList<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    final AtomicReference<ChatResponse> complete = new AtomicReference<>();
    final AtomicReference<Throwable> error = new AtomicReference<>();
    final AtomicReference<StreamingHandle> handle = new AtomicReference<>();
    final AtomicInteger callbacksAfterEnd = new AtomicInteger();
    private final PartialHook hook;

    StreamRecorder() {
        this((index, token, handle) -> {});
    }

    StreamRecorder(PartialHook hook) {
        this.hook = hook;
    }

    @Override
    public void onPartialResponse(PartialResponse partialResponse, PartialResponseContext context) {
        if (ended()) {
            callbacksAfterEnd.incrementAndGet();
        }
        handle.compareAndSet(null, context.streamingHandle());
        partials.add(partialResponse.text());
        events.add("partial");
        hook.onPartial(partials.size(), partialResponse.text(), context.streamingHandle());
    }

    @Override
    public void onCompleteResponse(ChatResponse completeResponse) {
        if (ended()) {
            callbacksAfterEnd.incrementAndGet();
        }
        complete.set(completeResponse);
        events.add("complete");
    }

    @Override
    public void onError(Throwable error) {
        if (ended()) {
            callbacksAfterEnd.incrementAndGet();
        }
        this.error.set(error);
        events.add("error");
    }

    boolean ended() {
        return complete.get() != null || error.get() != null;
    }

    String text() {
        return String.join("", partials);
    }
}
