package dev.thoughtstream.llm.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * {@link PartSplitter} for a stream of token deltas: each part is handed out as soon as it is known to be complete
 * and not the final one, so the first chat bubble can go out while the model is still writing. That is when a blank
 * line after it has been followed by the next non-whitespace character (more text follows), or when its paragraph
 * has grown past the limit so the cut is already determined (the rest of the paragraph follows). {@link #finish()}
 * hands out the rest, whose last part is the answer's final one. Concatenating everything it returns equals
 * {@code new PartSplitter(max).split(fullText)}, however the text was chunked.
 *
 * <p>Because a part only leaves once text after it has arrived, that text is still held when the answer ends: once
 * {@link #feed} has returned a part, {@link #finish()} returns at least one. So a caller can mark the part
 * {@link #finish()} returns last with {@code last = true} without holding any part back, and an answer that ends
 * with no final part is exactly one in which nothing at all arrived.
 *
 * <p>Not thread-safe: one instance per answer, fed by one caller at a time.
 */
public final class StreamingPartSplitter {
    private final int maxPartChars;
    /** The unfinished paragraph; never starts with whitespace. */
    private final StringBuilder pending = new StringBuilder();
    /** No blank line starts before this index of {@link #pending}; saves rescanning on every token. */
    private int scanFrom;

    private int blankLineEnd;
    private boolean finished;

    public StreamingPartSplitter(int maxPartChars) {
        if (maxPartChars < 1) {
            throw new IllegalArgumentException("maxPartChars must be >= 1 but was " + maxPartChars);
        }
        this.maxPartChars = maxPartChars;
    }

    /** Adds a delta; returns the parts it completed, in order (usually none). */
    public List<String> feed(CharSequence delta) {
        if (finished) {
            throw new IllegalStateException("feed after finish");
        }
        List<String> out = new ArrayList<>(1);
        if (delta == null || delta.length() == 0) {
            return out;
        }
        pending.append(delta);
        // Whitespace before a paragraph's first character never reaches a part.
        if (Character.isWhitespace(pending.charAt(0))) {
            removeLeading(0);
        }
        drain(out);
        return out;
    }

    /** Ends the answer; returns the remaining parts. */
    public List<String> finish() {
        List<String> out = new ArrayList<>(1);
        if (!finished) {
            finished = true;
            PartSplitter.splitParagraph(pending.toString(), maxPartChars, out);
            pending.setLength(0);
        }
        return out;
    }

    private void drain(List<String> out) {
        while (true) {
            int blankLine = findBlankLine();
            if (blankLine >= 0 && hasTextFrom(blankLineEnd)) {
                PartSplitter.splitParagraph(pending.substring(0, blankLine), maxPartChars, out);
                removeLeading(blankLineEnd);
                scanFrom = 0;
            } else if (contentLength() > maxPartChars) {
                // The paragraph will be longer than the limit whatever follows, and the cut only looks at the
                // first maxPartChars + 1 characters: PartSplitter would cut exactly here. What remains after the cut
                // is never blank, so a final part is still held. (With a blank line found but nothing after it yet,
                // the content is that paragraph alone, so the same holds.)
                int cut = PartSplitter.cutPoint(pending, maxPartChars);
                out.add(pending.substring(0, cut).stripTrailing());
                int before = pending.length();
                removeLeading(cut);
                scanFrom = Math.max(0, scanFrom - (before - pending.length()));
            } else {
                return;
            }
        }
    }

    /** Whether {@link #pending} has a non-whitespace character at or after {@code from}. */
    private boolean hasTextFrom(int from) {
        for (int i = from; i < pending.length(); i++) {
            if (!Character.isWhitespace(pending.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** Start of the first blank line in {@link #pending} (its end in {@link #blankLineEnd}), or -1. */
    private int findBlankLine() {
        for (int i = scanFrom; i < pending.length(); i++) {
            if (pending.charAt(i) == '\n') {
                int end = PartSplitter.blankLineEnd(pending, i);
                if (end >= 0) {
                    blankLineEnd = end;
                    return i;
                }
                if (end == PartSplitter.UNDECIDED) {
                    scanFrom = i;
                    return -1;
                }
            }
        }
        scanFrom = pending.length();
        return -1;
    }

    /** Removes {@code count} characters and the whitespace after them. */
    private void removeLeading(int count) {
        int end = count;
        while (end < pending.length() && Character.isWhitespace(pending.charAt(end))) {
            end++;
        }
        pending.delete(0, end);
    }

    /** Length of {@link #pending} without trailing whitespace. */
    private int contentLength() {
        int end = pending.length();
        while (end > 0 && Character.isWhitespace(pending.charAt(end - 1))) {
            end--;
        }
        return end;
    }
}
