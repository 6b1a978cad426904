package dev.thoughtstream.emitter.lane;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.telegram.TelegramLimits;
import dev.thoughtstream.emitter.telegram.TelegramText;
import java.util.List;

/**
 * A part's text as the messages it goes out in (one, or several when it is over Telegram's limit), how far it got,
 * and the one outcome it has however many messages it took. Guarded by the lanes' lock.
 */
final class PartMessages {
    private final ReplyPart part;
    private final List<String> texts;
    private int index;
    private int sent;
    private Long firstMessageId;

    PartMessages(ReplyPart part) {
        this.part = part;
        this.texts = split(part.text());
    }

    /** {@code text} as messages Telegram takes: itself when it fits, else {@link TelegramText#split} pieces. */
    static List<String> split(String text) {
        if (text.length() <= TelegramLimits.MAX_MESSAGE_CHARS) {
            return List.of(text);
        }
        List<String> pieces = TelegramText.split(text, TelegramLimits.MAX_MESSAGE_CHARS);
        return pieces.isEmpty() ? List.of(text) : List.copyOf(pieces);
    }

    /** The claim key of the current message. */
    String key() {
        return PartSender.claimKey(part, index, texts.size());
    }

    /** The current message. */
    String text() {
        return texts.get(index);
    }

    /** True for the first message of a reply's first part: the one a reading pause comes before. */
    boolean opensReply() {
        return index == 0 && part.seq() == 0;
    }

    /** True when the current message is the part's last. */
    boolean last() {
        return index + 1 >= texts.size();
    }

    /** The current message went out as {@code messageId} (now, or in an earlier attempt). */
    void sent(long messageId) {
        if (firstMessageId == null) {
            firstMessageId = messageId;
        }
        sent = index + 1;
    }

    /** On to the next message. */
    void next() {
        index++;
    }

    /**
     * The part's one outcome. All its messages sent: SENT with the first message's id. Some sent, then the rest
     * dropped or failed: still SENT (the person saw it), with the text that went out and the reason. None sent:
     * DROPPED_STALE or FAILED with the reason.
     */
    Delivery outcome(Delivery.Outcome outcome, String reason, long atMs) {
        if (outcome == Delivery.Outcome.SENT) {
            return Delivery.sent(part, firstMessageId, atMs);
        }
        if (sent > 0) {
            String seen = String.join("\n\n", texts.subList(0, sent));
            String why = "only " + sent + " of " + texts.size() + " messages sent; the rest "
                    + (outcome == Delivery.Outcome.DROPPED_STALE ? "dropped, " : "failed: ") + reason;
            return Delivery.partlySent(part, firstMessageId, seen, why, atMs);
        }
        return outcome == Delivery.Outcome.DROPPED_STALE
                ? Delivery.dropped(part, reason, atMs)
                : Delivery.failed(part, reason, atMs);
    }
}
