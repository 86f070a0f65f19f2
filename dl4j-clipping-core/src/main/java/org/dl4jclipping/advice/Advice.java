package org.dl4jclipping.advice;

import java.util.List;
import java.util.Locale;

/**
 * What {@link ThresholdAdvisor} recommends, with the numbers it derived them from. Immutable.
 *
 * @param steps               the steps used (recorded, not skipped, finite global norm)
 * @param medianNorm          the median global L2 norm before clipping
 * @param p90Norm             the 90th percentile of the global norms (numpy's linear interpolation)
 * @param globalNormThreshold the recommended global-norm threshold: {@code 2 x medianNorm}
 * @param fractionAboveGlobal the fraction of the observed steps whose norm exceeds {@code globalNormThreshold}
 * @param fractionAboveP90    the fraction of the observed steps whose norm exceeds {@code p90Norm}
 * @param numParameters       the number of trainable parameters (elements) given to the advisor
 * @param valueThreshold      the recommended value threshold:
 *                            {@code globalNormThreshold / sqrt(numParameters) x 3}
 * @param layerShares         each layer's share of the squared global norm, averaged over the steps, largest first
 * @param reasoning           one line per number: how it was derived and why
 */
public record Advice(int steps, double medianNorm, double p90Norm, double globalNormThreshold,
                     double fractionAboveGlobal, double fractionAboveP90, long numParameters, double valueThreshold,
                     List<LayerShare> layerShares, List<String> reasoning) {

    /** A layer and its mean share of the squared global norm (shares of one step sum to 1). */
    public record LayerShare(String layer, double share) {
    }

    /** Copies the lists, so that the advice is immutable. */
    public Advice {
        layerShares = List.copyOf(layerShares);
        reasoning = List.copyOf(reasoning);
    }

    /** A plain-text table of the numbers, the layer shares and the reasoning. */
    public String toTable() {
        StringBuilder b = new StringBuilder();
        String row = "%-38s %s%n";
        b.append(String.format(Locale.ROOT, row, "quantity", "value"));
        b.append(String.format(Locale.ROOT, row, "steps observed", steps));
        b.append(String.format(Locale.ROOT, row, "median global norm", num(medianNorm)));
        b.append(String.format(Locale.ROOT, row, "90th percentile global norm", num(p90Norm)));
        b.append(String.format(Locale.ROOT, row, "recommended global norm (2 x median)", num(globalNormThreshold)));
        b.append(String.format(Locale.ROOT, row, "  steps it would have clipped", pct(fractionAboveGlobal)));
        b.append(String.format(Locale.ROOT, row, "  steps p90 would have clipped", pct(fractionAboveP90)));
        b.append(String.format(Locale.ROOT, row, "trainable parameters", numParameters));
        b.append(String.format(Locale.ROOT, row, "recommended value threshold", num(valueThreshold)));
        b.append(String.format(Locale.ROOT, "%n%-38s %s%n", "layer", "share of squared global norm"));
        for (LayerShare s : layerShares) {
            b.append(String.format(Locale.ROOT, row, s.layer(), pct(s.share())));
        }
        b.append(String.format(Locale.ROOT, "%nreasoning:%n"));
        for (String r : reasoning) {
            b.append("- ").append(r).append(System.lineSeparator());
        }
        return b.toString();
    }

    static String num(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }

    static String pct(double v) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }
}
