package org.dl4jclipping.dl4j;

import java.util.function.Consumer;
import org.dl4jclipping.engine.ClipReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a clipping report through slf4j (logger {@code org.dl4jclipping.dl4j.ClipLogger}, level INFO) every
 * {@code every} steps, and every skipped step at WARN, with the norm before and after: peers log only the norm
 * before clipping, which leaves users guessing what the update saw.
 */
public final class ClipLogger implements Consumer<ClipReport> {

    private static final Logger LOG = LoggerFactory.getLogger(ClipLogger.class);

    private final int every;
    private long seen;

    /** Logs every {@code every} steps, {@code every >= 1}. */
    public ClipLogger(int every) {
        if (every < 1) {
            throw new IllegalArgumentException("every = " + every + " is out of range: must be >= 1");
        }
        this.every = every;
    }

    @Override
    public void accept(ClipReport r) {
        if (r.skipped()) {
            LOG.warn("iteration {}: step skipped, {} non-finite gradient element(s)", r.iteration(),
                    r.totalNonFinite());
        } else if (seen % every == 0) {
            LOG.info("iteration {}: gradient norm {} -> {} (scale {}, clipped {}, zeroed {})", r.iteration(),
                    String.format("%.4g", r.totalNormBefore()), String.format("%.4g", r.totalNormAfter()),
                    String.format("%.4g", r.minScale()), r.totalClipped(), r.totalZeroed());
        }
        seen++;
    }
}
