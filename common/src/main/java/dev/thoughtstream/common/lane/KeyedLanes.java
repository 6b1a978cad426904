package dev.thoughtstream.common.lane;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * One lane per key: the items of a key are taken one at a time, in the order they were added, while keys are
 * independent of each other. Each lane has a <em>head</em> (the item being worked on) and the items queued behind
 * it; a lane exists while it has a head, so {@link #keys()} counts the keys with work.
 *
 * <p>Only the bookkeeping: when and how a head is worked on is the owner's business (the emitter's delivery lanes
 * run a state machine per head, the llm-processor's chat lanes run a bounded number of heads at a time). Not
 * thread-safe: the owner guards it with its own lock, together with the rest of its state.
 *
 * @param <K> the key, e.g. a chat id
 * @param <T> an item
 */
public final class KeyedLanes<K, T> {
    private static final class Lane<T> {
        T head;
        final ArrayDeque<T> queued = new ArrayDeque<>();
    }

    private final Map<K, Lane<T>> lanes = new HashMap<>();
    private int size;

    /**
     * Adds {@code item} behind the earlier items of {@code key}. Returns true when it is the key's head at once
     * (the lane was empty), i.e. when the owner should start it now.
     */
    public boolean add(K key, T item) {
        Objects.requireNonNull(item, "item");
        size++;
        Lane<T> lane = lanes.get(key);
        if (lane == null) {
            lane = new Lane<>();
            lane.head = item;
            lanes.put(key, lane);
            return true;
        }
        lane.queued.addLast(item);
        return false;
    }

    /** The item at the head of {@code key}'s lane, or null when the key has no work. */
    public T head(K key) {
        Lane<T> lane = lanes.get(key);
        return lane == null ? null : lane.head;
    }

    /**
     * The head of {@code key}'s lane is done: it leaves, and the next queued item becomes the head, which is
     * returned for the owner to start. Returns null (and forgets the key) when nothing was queued behind it.
     */
    public T advance(K key) {
        Lane<T> lane = lanes.get(key);
        if (lane == null) {
            return null;
        }
        size--;
        lane.head = lane.queued.pollFirst();
        if (lane.head == null) {
            lanes.remove(key);
        }
        return lane.head;
    }

    /** The items queued behind {@code key}'s head, in order (not a copy: do not change the lanes while reading). */
    public Iterable<T> queued(K key) {
        Lane<T> lane = lanes.get(key);
        return lane == null ? List.of() : lane.queued;
    }

    /**
     * Takes every queued item (never a head) that {@code which} selects out of its lane, keeping the order of the
     * rest; returns them. Heads stay: the owner decides whether and when a head may leave ({@link #advance}).
     */
    public List<T> removeQueued(Predicate<? super T> which) {
        List<T> removed = new ArrayList<>();
        for (Lane<T> lane : lanes.values()) {
            for (Iterator<T> it = lane.queued.iterator(); it.hasNext(); ) {
                T item = it.next();
                if (which.test(item)) {
                    it.remove();
                    removed.add(item);
                }
            }
        }
        size -= removed.size();
        return removed;
    }

    /** The keys that have work now (a copy, so the owner may advance lanes while going through it). */
    public List<K> activeKeys() {
        return new ArrayList<>(lanes.keySet());
    }

    /** The heads of every lane (a copy). */
    public List<T> heads() {
        List<T> heads = new ArrayList<>(lanes.size());
        for (Lane<T> lane : lanes.values()) {
            heads.add(lane.head);
        }
        return heads;
    }

    /** Keys with work (a head). */
    public int keys() {
        return lanes.size();
    }

    /** Items held: heads and queued ones. */
    public int size() {
        return size;
    }

    /** Forgets every lane. */
    public void clear() {
        lanes.clear();
        size = 0;
    }
}
