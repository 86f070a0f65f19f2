package org.dl4jclipping.advice;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.strategy.Check;
import org.dl4jclipping.strategy.Percentile;

/**
 * Recommends clipping thresholds from the gradient norms of a short warm-up run, recorded by a
 * {@link ClipHistory} (run the warm-up without clipping, or with a loose threshold, so that the history holds the
 * norms the network really produces).
 *
 * <pre>{@code
 * ClipHistory history = new ClipHistory(10_000);
 * net.addListeners(new ClippingListener(history));
 * // ... a few hundred iterations ...
 * Advice advice = ThresholdAdvisor.advise(history, net.numParams());
 * System.out.println(advice.toTable());
 * }</pre>
 *
 * <p>The rules, and where they come from:
 * <ul>
 *   <li><b>Global norm: {@code 2 x median}</b> of the observed global norms. Pascanu, Mikolov and Bengio ("On the
 *       difficulty of training recurrent neural networks", ICML 2013, arXiv:1211.5063) recommend a threshold
 *       around the average norm over a sufficiently large number of updates, and report that training is not very
 *       sensitive to it. The median stands for the average here because it ignores the spikes a warm-up run may
 *       contain (up to half the steps); the factor 2 leaves normal steps alone and clips the steps that are
 *       spikes relative to the typical norm. The 90th percentile is reported beside it as a cross-check
 *       (AutoClip, Seetharaman et al. 2020, arXiv:2007.14469, sets the threshold to a percentile of the observed
 *       norms; the paper uses the 10th, which clips most steps): if the two numbers differ a lot, the norm
 *       distribution is wide, and an adaptive strategy ({@code Clip.autoClip}, {@code Clip.zClip()}) may suit
 *       better than a fixed threshold. For comparison, the Hugging Face Trainer's default {@code max_grad_norm}
 *       is 1.0, whatever the model.</li>
 *   <li><b>Value: {@code globalNorm / sqrt(numParameters) x 3}</b>. A gradient at the global threshold whose
 *       norm were spread evenly over all {@code N} elements would have every element at
 *       {@code threshold / sqrt(N)} (the root mean square); three times that touches only elements well above
 *       the even share. A rule of thumb (no published source): check the clipped-element counts in the
 *       {@code ClipHistory} of the next run, since gradients are heavy-tailed.</li>
 *   <li><b>Dominant layers</b>: each layer's share of the squared global norm
 *       ({@code ||g_layer||^2 / ||g||^2}, shares of a step sum to 1), averaged over the steps. A layer with a
 *       large share decides when global clipping fires; consider layer-wise clipping ({@code Clip.layerNorm})
 *       or a separate rule for it.</li>
 * </ul>
 * Steps that were skipped or whose norm is not finite are left out; steps whose global norm is 0 count for the
 * norms but not for the layer shares.
 */
public final class ThresholdAdvisor {

    /** The global threshold is this multiple of the median norm. */
    public static final double MEDIAN_MULTIPLIER = 2.0;
    /** The percentile reported beside it. */
    public static final double CROSS_CHECK_PERCENTILE = 90.0;
    /** The value threshold is this multiple of the root-mean-square element at the global threshold. */
    public static final double VALUE_RMS_MULTIPLIER = 3.0;

    private ThresholdAdvisor() {
    }

    /**
     * Advice from the steps of {@code history}.
     *
     * @param history       the norms of a warm-up run: at least one step that was not skipped, with a finite
     *                      global norm, and not all norms 0
     * @param numParameters the number of trainable parameters (elements), {@code >= 1}: for a network,
     *                      {@code net.numParams()} (BatchNormalization statistics and frozen layers included there:
     *                      subtract them for a tighter value threshold)
     * @throws IllegalArgumentException naming the field, when the history holds nothing to advise from or
     *                                  {@code numParameters < 1}
     */
    public static Advice advise(ClipHistory history, long numParameters) {
        Check.notNull("history", history);
        Check.atLeast("numParameters", numParameters, 1);
        List<ClipHistory.Step> steps = history.steps().stream()
                .filter(s -> !s.skipped() && Double.isFinite(s.normBefore())).toList();
        if (steps.isEmpty()) {
            throw Check.outOfRange("history", history.recorded() + " recorded steps, " + steps.size() + " usable",
                    "must hold at least one step that was not skipped and has a finite norm (record a warm-up run "
                            + "with a ClippingListener first)");
        }
        int m = steps.size();
        double[] norms = steps.stream().mapToDouble(ClipHistory.Step::normBefore).toArray();
        double median = Percentile.ofSorting(norms.clone(), m, 50.0);
        double p90 = Percentile.ofSorting(norms.clone(), m, CROSS_CHECK_PERCENTILE);
        if (!(median > 0)) {
            throw Check.outOfRange("history", "median global norm " + median,
                    "must be > 0: at least half of the recorded norms are 0, no threshold can be derived");
        }
        double global = MEDIAN_MULTIPLIER * median;
        double aboveGlobal = fractionAbove(norms, global);
        double aboveP90 = fractionAbove(norms, p90);
        double value = global / Math.sqrt((double) numParameters) * VALUE_RMS_MULTIPLIER;
        List<Advice.LayerShare> shares = layerShares(history.layers(), steps);

        List<String> why = new ArrayList<>();
        why.add(String.format(java.util.Locale.ROOT, "%d steps observed; global L2 norm before clipping: median %s, "
                + "90th percentile %s", m, Advice.num(median), Advice.num(p90)));
        why.add(String.format(java.util.Locale.ROOT, "global-norm threshold %s = 2 x median: Pascanu et al. 2013 "
                        + "clip around the average norm; the median ignores warm-up spikes, and 2x leaves normal "
                        + "steps alone (it would have clipped %s of these steps)", Advice.num(global),
                Advice.pct(aboveGlobal)));
        why.add(String.format(java.util.Locale.ROOT, "cross-check: the 90th percentile %s (AutoClip's percentile "
                        + "idea) would have clipped %s of the steps; %s", Advice.num(p90), Advice.pct(aboveP90),
                p90 > global ? "it lies above 2 x median, so more than 10% of the steps are spikes: consider "
                        + "Clip.zClip() or Clip.autoClip(p)"
                        : "it lies below 2 x median, so the norm distribution is narrow and a fixed threshold fits"));
        why.add(String.format(java.util.Locale.ROOT, "value threshold %s = %s / sqrt(%d parameters) x 3: three "
                        + "times the element size of a gradient at the global threshold spread evenly (rule of "
                        + "thumb; check the clipped counts of the next run)", Advice.num(value), Advice.num(global),
                numParameters));
        if (!shares.isEmpty()) {
            Advice.LayerShare top = shares.get(0);
            why.add(String.format(java.util.Locale.ROOT, "layer '%s' carries %s of the squared global norm on "
                    + "average%s", top.layer(), Advice.pct(top.share()), top.share() > 0.5
                    ? ": it decides when global clipping fires; consider Clip.layerNorm or a rule of its own" : ""));
        }
        return new Advice(m, median, p90, global, aboveGlobal, aboveP90, numParameters, value, shares, why);
    }

    private static double fractionAbove(double[] norms, double threshold) {
        long above = 0;
        for (double n : norms) {
            if (n > threshold) {
                above++;
            }
        }
        return (double) above / norms.length;
    }

    private static List<Advice.LayerShare> layerShares(List<String> layers, List<ClipHistory.Step> steps) {
        int n = layers.size();
        double[] sum = new double[n];
        int counted = 0;
        for (ClipHistory.Step s : steps) {
            double total = s.normBefore();
            if (!(total > 0) || s.layerNormBefore().length != n) {
                continue;
            }
            for (int l = 0; l < n; l++) {
                double r = s.layerNormBefore()[l] / total;
                sum[l] += r * r;
            }
            counted++;
        }
        List<Advice.LayerShare> out = new ArrayList<>();
        if (counted == 0) {
            return out;
        }
        for (int l = 0; l < n; l++) {
            out.add(new Advice.LayerShare(layers.get(l), sum[l] / counted));
        }
        out.sort(Comparator.comparingDouble(Advice.LayerShare::share).reversed());
        return out;
    }
}
