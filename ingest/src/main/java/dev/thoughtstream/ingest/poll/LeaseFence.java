package dev.thoughtstream.ingest.poll;

/**
 * The checks a polling term makes before it confirms anything to Telegram: whether its fencing token still holds the
 * poller lease. {@link StandbyController} answers them from Redis; {@link #none()} for a service without a lease.
 */
interface LeaseFence {
    /** Cheap, no I/O: may {@code token} poll now, by our own clock? */
    boolean mayPoll(long token);

    /** Asks Redis whether {@code token} still holds the lease; false hands the loss to the controller. */
    boolean confirmStillHeld(long token);

    /** A loss noticed by the poller thread, for the controller to act on. */
    void reportLost(long token, String why);

    /** No lease: the one instance may always poll. */
    static LeaseFence none() {
        return new LeaseFence() {
            @Override
            public boolean mayPoll(long token) {
                return true;
            }

            @Override
            public boolean confirmStillHeld(long token) {
                return true;
            }

            @Override
            public void reportLost(long token, String why) {
                // Nothing to lose.
            }
        };
    }
}
