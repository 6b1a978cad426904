package dev.thoughtstream.llm.model;

import java.util.Objects;

/**
 * A way to abort one model call at the HTTP level, also before its first token.
 *
 * <p>Why it exists: LangChain4j hands a stream's {@code StreamingHandle} to the caller only with a token. A model that
 * accepts the request and then stays silent (no response headers, or headers and no token) gives the caller nothing
 * to cancel, and the HTTP client's timeout only covers the wait for the headers. {@link AbortableHttpClient}, the
 * HTTP client {@link ModelFactory} gives the OpenAI and Ollama models, closes that gap: a model call made while an
 * instance of this class is {@link #bindDuring bound} to the calling thread attaches the abort of its HTTP exchange
 * here. LangChain4j starts the exchange on the thread that calls {@code StreamingChatModel.chat} (it only sends the
 * request asynchronously), which is what makes a thread-bound hand-over work without any API of the model.
 *
 * <p>With a model that is not HTTP (the scripted one) or a call made without binding, nothing attaches and
 * {@link #abort()} returns false: the caller then only has the {@code StreamingHandle}.
 *
 * <p>Thread-safe; {@link #abort()} may come before the client attached (it then aborts on attaching) and may be
 * called more than once.
 */
public final class CallAbort {
    private static final ThreadLocal<CallAbort> BOUND = new ThreadLocal<>();

    private Runnable aborter;
    private boolean attached;
    private boolean aborted;

    /** Runs {@code call} with this instance bound to the current thread, so an HTTP exchange it starts attaches. */
    public void bindDuring(Runnable call) {
        CallAbort previous = BOUND.get();
        BOUND.set(this);
        try {
            call.run();
        } finally {
            if (previous == null) {
                BOUND.remove();
            } else {
                BOUND.set(previous);
            }
        }
    }

    /** The instance bound to the current thread, or {@code null}. */
    public static CallAbort bound() {
        return BOUND.get();
    }

    /** Called by the HTTP client: {@code abortExchange} ends the exchange; run at once if already aborted. */
    public void attach(Runnable abortExchange) {
        Objects.requireNonNull(abortExchange, "abortExchange");
        boolean runNow;
        synchronized (this) {
            attached = true;
            runNow = aborted;
            if (!runNow) {
                aborter = abortExchange;
            }
        }
        if (runNow) {
            abortExchange.run();
        }
    }

    /** Aborts the attached exchange (closing its connection); true if an exchange is attached. */
    public boolean abort() {
        Runnable toRun;
        boolean hasExchange;
        synchronized (this) {
            aborted = true;
            toRun = aborter;
            aborter = null;
            hasExchange = attached;
        }
        if (toRun != null) {
            toRun.run();
        }
        return hasExchange;
    }

    public synchronized boolean isAborted() {
        return aborted;
    }
}
