package org.dl4jclipping.adaptive;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A straightforward double-precision reference of the adaptive strategies, written from
 * the design note {@code adaptive.md} (the reference implementations' definitions), not from the production
 * code: plain lists, plain loops, no ring buffers, no caching.
 *
 * <ul>
 *   <li>{@link AutoClipRef}: append first, numpy-linear percentile by hand, clip when the norm exceeds it;</li>
 *   <li>{@link ZClipRef}: warm-up buffer, population variance, z-score, reciprocal rule, EMA (variance with the
 *       updated mean), {@code skip_update_on_spike};</li>
 *   <li>{@link #agc}: AGC per unit for a parameter given in c order with its shape;</li>
 *   <li>{@link AdaGCRef}: per-tensor gamma, warm-up under a global norm, EMA of clipped norms;</li>
 *   <li>{@link SpikeRef}: plain lists of kept losses and norms, mean + sigma * population std of the last window.</li>
 * </ul>
 */
final class AdaptiveReference {

    /** PyTorch's epsilon in {@code clip_grad_norm_}, also timm's clamp of a gradient unit norm. */
    static final double EPS = 1e-6;

    private AdaptiveReference() {
    }

    /** What one step of a global-norm adaptive strategy did. */
    record Step(double norm, double threshold, double scale, boolean warmup, boolean spike) {
        /** Whether the gradient was scaled. */
        boolean clipped() {
            return scale < 1.0;
        }
    }

    /** Plain L2 norm: square root of the sum of squares. */
    static double norm(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v * v;
        }
        return Math.sqrt(s);
    }

    /**
     * numpy's default ("linear") percentile, by hand: sort, position {@code (m - 1) * p / 100}, interpolate
     * between the two neighbours.
     */
    static double percentile(List<Double> values, double p) {
        double[] x = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(x);
        int m = x.length;
        double pos = (m - 1) * p / 100.0;
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, m - 1);
        double frac = pos - lo;
        return x[lo] + frac * (x[hi] - x[lo]);
    }

    /** AutoClip (Seetharaman et al. 2020, {@code pseeth/autoclip}) with a bounded window. */
    static final class AutoClipRef {
        private final double p;
        private final int window;
        final List<Double> history = new ArrayList<>();

        AutoClipRef(double p, int window) {
            this.p = p;
            this.window = window;
        }

        Step step(double n) {
            history.add(n); // append first: step 1 sees only itself
            if (history.size() > window) {
                history.remove(0);
            }
            double c = percentile(history, p);
            double s = n > c ? c / (n + EPS) : 1.0;
            return new Step(n, c, s, false, false);
        }
    }

    /** ZClip (Kumar et al. 2025, {@code bluorion-com/ZClip}), "zscore" mode. */
    static final class ZClipRef {
        final double alpha;
        final double z;
        final double maxGradNorm; // +Infinity: the reference's None
        final double eps;
        final int warmupSteps;
        final boolean meanMode;
        final double clipFactor;
        final boolean skipUpdateOnSpike;
        final List<Double> buffer = new ArrayList<>();
        boolean initialized;
        double mean;
        double var;

        ZClipRef(double alpha, double z, double maxGradNorm, double eps, int warmupSteps, boolean meanMode,
                 double clipFactor, boolean skipUpdateOnSpike) {
            this.alpha = alpha;
            this.z = z;
            this.maxGradNorm = maxGradNorm;
            this.eps = eps;
            this.warmupSteps = warmupSteps;
            this.meanMode = meanMode;
            this.clipFactor = clipFactor;
            this.skipUpdateOnSpike = skipUpdateOnSpike;
        }

        Step step(double g) {
            if (!initialized) {
                buffer.add(g);
                if (buffer.size() >= warmupSteps) {
                    double sum = 0;
                    for (double x : buffer) {
                        sum += x;
                    }
                    mean = sum / buffer.size();
                    double sq = 0;
                    for (double x : buffer) {
                        sq += (x - mean) * (x - mean);
                    }
                    var = sq / buffer.size(); // population variance
                    initialized = true;
                    buffer.clear();
                }
                // torch.nn.utils.clip_grad_norm_(params, max_grad_norm) when max_grad_norm is set
                double s = Double.isInfinite(maxGradNorm) ? 1.0 : Math.min(1.0, maxGradNorm / (g + EPS));
                return new Step(g, maxGradNorm, s, true, false);
            }
            double std = Math.sqrt(var);
            double zs = (g - mean) / (std + eps);
            boolean spike = zs > z;
            double thr = Double.NaN;
            if (spike) {
                thr = meanMode ? mean : (mean + z * z * std / zs) * clipFactor;
            }
            double adaptive = spike ? thr : g;
            double eff = Math.min(adaptive, maxGradNorm);
            double s = g > eff ? eff / (g + EPS) : 1.0;
            if (!(spike && skipUpdateOnSpike)) {
                double x = spike ? thr : g;
                mean = alpha * mean + (1 - alpha) * x;
                var = alpha * var + (1 - alpha) * (x - mean) * (x - mean); // the updated mean
            }
            return new Step(g, eff, s, false, spike);
        }
    }

    /** The result of AGC on one parameter: the clipped gradient (c order) and one scale per unit. */
    record AgcResult(double[] gradient, double[] unitScale) {
        long clippedUnits() {
            return Arrays.stream(unitScale).filter(s -> s < 1.0).count();
        }
    }

    /**
     * AGC (Brock et al. 2021) on one parameter {@code w} with gradient {@code g}, both in c order with
     * {@code shape}. Units (by what the parameter is, not its shape): for a weight, a column of a rank-2
     * {@code [nIn, nOut]} array (also when {@code nIn = 1}) or an output channel (index of dimension 0) of rank 3
     * or 4; for a bias or any rank-1 array, the whole tensor.
     */
    static AgcResult agc(double[] w, double[] g, long[] shape, boolean weight, double lambda, double epsW) {
        int len = g.length;
        int[] unitOf = new int[len];
        int units;
        boolean vector = !weight || shape.length <= 1;
        if (vector) {
            units = 1;
        } else if (shape.length == 2) {
            units = (int) shape[1];
            for (int k = 0; k < len; k++) {
                unitOf[k] = k % units; // c order: element (r, c) at r * nOut + c
            }
        } else {
            units = (int) shape[0];
            int per = len / units;
            for (int k = 0; k < len; k++) {
                unitOf[k] = k / per; // c order: output channel is the slowest index
            }
        }
        double[] wSq = new double[units];
        double[] gSq = new double[units];
        for (int k = 0; k < len; k++) {
            wSq[unitOf[k]] += w[k] * w[k];
            gSq[unitOf[k]] += g[k] * g[k];
        }
        double[] scale = new double[units];
        for (int u = 0; u < units; u++) {
            double max = lambda * Math.max(Math.sqrt(wSq[u]), epsW);
            double gn = Math.sqrt(gSq[u]);
            scale[u] = gn >= max ? max / Math.max(gn, EPS) : 1.0;
        }
        double[] out = new double[len];
        for (int k = 0; k < len; k++) {
            out[k] = g[k] * scale[unitOf[k]];
        }
        return new AgcResult(out, scale);
    }

    /** Plain copy of tensors. */
    static double[][] copy(double[][] g) {
        double[][] out = new double[g.length][];
        for (int i = 0; i < g.length; i++) {
            out[i] = g[i].clone();
        }
        return out;
    }

    /** AdaGC as adaptive.md defines it (Wang et al. 2025; pytorch_optimizer adagc.py), plus its edge rules. */
    static final class AdaGCRef {
        final double lambdaAbs;
        final double lambdaRel;
        final double beta;
        final int warmup;
        final double eps;
        double[] gamma;
        long t;

        AdaGCRef(double lambdaAbs, double lambdaRel, double beta, int warmup, double eps) {
            this.lambdaAbs = lambdaAbs;
            this.lambdaRel = lambdaRel;
            this.beta = beta;
            this.warmup = warmup;
            this.eps = eps;
        }

        /** One step: the clipped gradients (a copy) and the gamma update. */
        double[][] step(double[][] g) {
            t++;
            double[][] out = copy(g);
            if (gamma == null) {
                gamma = new double[g.length];
            }
            if (t < warmup) {
                double sq = 0;
                for (double[] x : g) {
                    for (double v : x) {
                        sq += v * v;
                    }
                }
                double h = Math.min(lambdaAbs / (Math.sqrt(sq) + eps), 1.0);
                for (int i = 0; i < out.length; i++) {
                    for (int k = 0; k < out[i].length; k++) {
                        out[i][k] *= h;
                    }
                    double n = norm(out[i]);
                    gamma[i] = t == 1 ? n : Math.min(gamma[i], n);
                }
            } else {
                for (int i = 0; i < out.length; i++) {
                    double n = norm(out[i]);
                    double h = n == 0 ? 1.0 : Math.min(lambdaRel * gamma[i] / n, 1.0);
                    for (int k = 0; k < out[i].length; k++) {
                        out[i][k] *= h;
                    }
                    gamma[i] = beta * gamma[i] + (1 - beta) * norm(out[i]);
                }
            }
            return out;
        }
    }

    /** Spike skipping (OLMo-core / Levanter) with Levanter's rule: a skipped step's values are not kept. */
    static final class SpikeRef {
        final int window;
        final double sigma;
        final boolean byLoss;
        final boolean byNorm;
        final List<Double> losses = new java.util.ArrayList<>();
        final List<Double> norms = new java.util.ArrayList<>();

        SpikeRef(int window, double sigma, boolean byLoss, boolean byNorm) {
            this.window = window;
            this.sigma = sigma;
            this.byLoss = byLoss;
            this.byNorm = byNorm;
        }

        private boolean above(List<Double> kept, double x) {
            List<Double> last = kept.subList(Math.max(0, kept.size() - window), kept.size());
            if (last.size() < window / 2 || last.isEmpty() || !Double.isFinite(x)) {
                return false;
            }
            double mean = last.stream().mapToDouble(Double::doubleValue).sum() / last.size();
            double var = last.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum() / last.size();
            return x > mean + sigma * Math.sqrt(var);
        }

        /** Whether the step with this loss and global norm is skipped; keeps its values when it is not. */
        boolean skip(double loss, double norm) {
            boolean spike = (byLoss && above(losses, loss)) || (byNorm && above(norms, norm));
            if (!spike) {
                if (Double.isFinite(loss)) {
                    losses.add(loss);
                }
                if (Double.isFinite(norm)) {
                    norms.add(norm);
                }
            }
            return spike;
        }
    }
}
