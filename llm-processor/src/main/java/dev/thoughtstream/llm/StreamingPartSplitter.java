package dev.thoughtstream.llm;

import java.util.ArrayList;
import java.util.List;

/**
 * {@link PartSplitter} for a stream of token deltas: each part is handed out as soon as it is certain, that is when
 * a blank line has followed it, or when its paragraph has grown past the limit so the cut is already determined.
 * {@link #finish()} hands out the rest. Concatenating everything it returns equals
 * {@code new PartSplitter(max).split(fullText)}, however the text was chunked.
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
            if (blankLine >= 0) {
                PartSplitter.splitParagraph(pending.substring(0, blankLine), maxPartChars, out);
                removeLeading(blankLineEnd);
                scanFrom = 0;
            } else if (contentLength() > maxPartChars) {
                // The paragraph will be longer than the limit whatever follows, and the cut only looks at the
                // first maxPartChars + 1 characters: PartSplitter would cut exactly here.
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
