package org.dl4jclipping.examples;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.Locale;

/**
 * A learning-rate schedule over a run's whole budget (its minutes of training time, or its steps), as a function of
 * the fraction {@code p} of the budget spent when a step starts:
 * <pre>
 *   warm-up, p &lt; w:   lr = peak · (0.1 + 0.9 · p / w)                     (w = {@value #WARMUP} of the budget)
 *   cosine, p ≥ w:    lr = floor + (peak − floor) · (1 + cos(π·q)) / 2,   q = (p − w) / (1 − w)
 *   linear, p ≥ w:    lr = peak − (peak − floor) · q
 *   none:             lr = peak
 * </pre>
 * with {@code floor = peak / 10}. The rate depends on nothing but {@code p}, so a run resumed from a checkpoint with
 * the same budget continues exactly where the interrupted run was (the checkpoint holds the time or steps spent).
 *
 * <p>{@link #apply} sets the rate on every layer's updater configuration, which the updater reads at each step
 * (what DL4J's {@code setLearningRate} does, without rebuilding the updater every step).
 */
enum LrSchedule {
    COSINE, LINEAR, NONE;

    /** Fraction of the budget spent warming up. */
    static final double WARMUP = 0.02;

    static LrSchedule parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError("--lr-schedule " + name + ": expected cosine, linear or none");
        }
    }

    /** The rate at budget fraction {@code p} (clamped to [0, 1]) for peak rate {@code peak}. */
    double at(double peak, double p) {
        if (this == NONE) {
            return peak;
        }
        double f = Math.min(1.0, Math.max(0.0, p));
        if (f < WARMUP) {
            return peak * (0.1 + 0.9 * f / WARMUP);
        }
        double q = (f - WARMUP) / (1.0 - WARMUP);
        double floor = peak / 10;
        return this == COSINE ? floor + (peak - floor) * 0.5 * (1.0 + Math.cos(Math.PI * q))
                : peak - (peak - floor) * q;
    }

    /** Sets the rate of every layer with a learning rate (the updater wrapped by a ClippingUpdater too). */
    static void apply(MultiLayerNetwork net, double lr) {
        for (Layer layer : net.getLayers()) {
            if (layer.conf().getLayer() instanceof BaseLayer b) {
                set(b.getIUpdater(), lr);
                set(b.getBiasUpdater(), lr);
            }
        }
    }

    private static void set(IUpdater u, double lr) {
        if (u != null && u.hasLearningRate()) {
            u.setLrAndSchedule(lr, null);
        }
    }
}
