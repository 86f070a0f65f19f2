package org.dl4jclipping.engine;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * One clipping step as a strategy sees it: the layout, the iteration, the current norms, and the in-place
 * operations a strategy may perform on a parameter's gradient. Every operation keeps the step's
 * {@link ClipReport} up to date, so strategies hold formulas, not bookkeeping.
 *
 * <p>Order of use (by {@link Clipper}): {@code begin} computes every parameter's L2 norm once (the report's
 * "before", and the non-finite check); strategies then call the operations below; {@code finish} fills the
 * "after" norms, recomputing only what an element-wise operation changed.
 *
 * <p>L2 norms are cached between strategies of a chain: scaling updates them exactly ({@code n <- s * n}) and
 * element-wise changes mark them stale, so a chain such as value-then-global-norm reads the data once per
 * strategy that needs it, and never more.
 */
public final class ClipStep {

    private final GradientLayout layout;
    private final ClipReport report;
    private final double[] l2;      // L2 norm of the view (raw units)
    private final boolean[] l2Known;
    private final double[] divisor; // gradient = view / divisor
    private final INDArray[][] gradientUnits;
    private final INDArray[][] parameterUnits;
    private final double[][] gradientUnitNorms;
    private final double[][] parameterUnitNorms;
    private double[] work = new double[16];
    private final java.util.IdentityHashMap<int[], INDArray[]> spans = new java.util.IdentityHashMap<>();
    private final double[] scratch;
    private long iteration;
    private double loss = Double.NaN;
    private boolean skipped;
    private int skipLimit;
    private ClipRule rule;

    ClipStep(GradientLayout layout) {
        this.layout = layout;
        this.report = new ClipReport(layout);
        this.l2 = new double[layout.size()];
        this.l2Known = new boolean[layout.size()];
        this.scratch = new double[layout.size()];
        this.divisor = new double[layout.size()];
        this.gradientUnits = new INDArray[layout.size()][];
        this.parameterUnits = new INDArray[layout.size()][];
        this.gradientUnitNorms = new double[layout.size()][];
        this.parameterUnitNorms = new double[layout.size()][];
    }

    void begin(long iteration, double batchDivisor, double loss) {
        this.iteration = iteration;
        this.loss = loss;
        this.skipped = false;
        report.reset(iteration);
        for (int i = 0; i < l2.length; i++) {
            divisor[i] = layout.param(i).batchSummed() ? batchDivisor : 1.0;
            l2[i] = Kernels.norm2(gradient(i));
            l2Known[i] = true;
            report.normBefore[i] = l2[i] / divisor[i];
        }
    }

    /** The step's report as it stands. */
    ClipReport report() {
        return report;
    }

    ClipReport finish() {
        for (int i = 0; i < l2.length; i++) {
            report.normAfter[i] = skipped ? report.normBefore[i] : norm2(i);
        }
        return report;
    }

    void restrict(ClipRule rule) {
        this.rule = rule;
    }

    /** All parameters of the network (names, views); a strategy works on {@link #members()}. */
    public GradientLayout layout() {
        return layout;
    }

    /** The indices of the parameters the running strategy applies to (shared array: do not modify). */
    public int[] members() {
        return rule.members();
    }

    /**
     * The running strategy's groups for a scope: each member, each member layer, or all members (shared arrays:
     * do not modify).
     */
    public int[][] groups(org.dl4jclipping.engine.Scope scope) {
        return rule.groups(scope);
    }

    /** The iteration this step belongs to (for messages and schedules). */
    public long iteration() {
        return iteration;
    }

    /** The training loss of this step (the network's score), or NaN when the caller gave none. */
    public double loss() {
        return loss;
    }

    /** Records the norm threshold used for parameter {@code i} this step (see {@link ClipReport#threshold}). */
    public void recordThreshold(int i, double threshold) {
        report.threshold[i] = threshold;
    }

    /** Parameter {@code i}'s gradient view. */
    public INDArray gradient(int i) {
        return layout.param(i).gradient();
    }

    /**
     * The number parameter {@code i}'s view is divided by to give its gradient: the minibatch size for views that
     * hold a minibatch sum, otherwise 1.
     */
    public double divisor(int i) {
        return divisor[i];
    }

    /** Current L2 norm of parameter {@code i}'s gradient (cached; recomputed only after element-wise edits). */
    public double norm2(int i) {
        return rawNorm2(i) / divisor[i];
    }

    private double rawNorm2(int i) {
        if (!l2Known[i]) {
            l2[i] = Kernels.norm2(gradient(i));
            l2Known[i] = true;
        }
        return l2[i];
    }

    /** Current p-norm of parameter {@code i}'s gradient, p >= 1 or +Inf; NaN if an element is NaN. */
    public double norm(int i, double p) {
        return p == 2.0 ? norm2(i) : Kernels.norm(gradient(i), p) / divisor[i];
    }

    /** Current p-norm of a group of parameters: {@code (sum_i ||g_i||_p^p)^(1/p)}, overflow-safe. */
    public double groupNorm(int[] group, double p) {
        for (int i : group) {
            scratch[i] = norm(i, p);
        }
        return Norms.combine(scratch, group, p);
    }

    /**
     * The state view of a stateful strategy of the running rule ({@code self.stateSize()} elements; zeros when
     * fresh). Strategies read and write it in place; it persists between steps.
     */
    public INDArray state(ClipStrategy self) {
        return rule.stateOf(self);
    }

    /**
     * The per-parameter state view of a stateful strategy of the running rule for member {@code i}
     * ({@code self.parameterStateSize()} elements; zeros when fresh).
     */
    public INDArray parameterState(ClipStrategy self, int i) {
        return rule.parameterStateOf(self, i);
    }

    /** A reusable scratch array of at least {@code n} doubles (contents undefined). */
    public double[] scratch(int n) {
        if (work.length < n) {
            work = new double[Math.max(n, 2 * work.length)];
        }
        return work;
    }

    /**
     * The L2 norm of each unit of parameter {@code i} ({@link Units}: columns of a rank-2 weight, output channels of
     * a rank-3+ weight, the whole array otherwise), of its gradient (in gradient units) when {@code ofGradient},
     * else of its values: one pass over the parameter's memory where its layout allows ({@link UnitKernels}),
     * otherwise one norm per unit view. The array is reused by the next call for the same parameter and kind.
     */
    public double[] unitNorms(int i, boolean ofGradient) {
        ParamGradient p = layout.param(i);
        INDArray a = ofGradient ? p.gradient() : p.parameter();
        if (a == null) {
            throw new IllegalStateException("parameter " + p.key() + " has no parameter view");
        }
        double[][] cache = ofGradient ? gradientUnitNorms : parameterUnitNorms;
        int n = UnitKernels.count(a, p.weight());
        if (cache[i] == null || cache[i].length != n) {
            cache[i] = new double[n];
        }
        double[] out = cache[i];
        if (!UnitKernels.norms(a, p.weight(), out)) {
            INDArray[] views = unitViews(i, a, ofGradient);
            for (int u = 0; u < n; u++) {
                out[u] = Kernels.norm2(views[u]);
            }
        }
        if (ofGradient && divisor[i] != 1.0) {
            for (int u = 0; u < n; u++) {
                out[u] /= divisor[i];
            }
        }
        return out;
    }

    /**
     * Scales unit {@code u} of parameter {@code i}'s gradient by {@code scale[u]}, in place, in one pass (units with
     * a scale of exactly 1 are not written); the report keeps the smallest unit scale of the parameter.
     */
    public void scaleUnits(int i, double[] scale) {
        ParamGradient p = layout.param(i);
        INDArray g = p.gradient();
        int n = UnitKernels.count(g, p.weight());
        if (allOnes(scale, n)) {
            return;
        }
        double min = 1.0;
        for (int u = 0; u < n; u++) {
            min = Math.min(min, scale[u]);
        }
        if (!UnitKernels.scale(g, p.weight(), scale)) {
            INDArray[] views = unitViews(i, g, true);
            for (int u = 0; u < n; u++) {
                if (scale[u] != 1.0) {
                    Kernels.scale(views[u], scale[u]);
                }
            }
        }
        l2Known[i] = false;
        report.scale[i] = Math.min(report.scale[i], min);
    }

    private static boolean allOnes(double[] scale, int n) {
        for (int u = 0; u < n; u++) {
            if (scale[u] != 1.0) {
                return false;
            }
        }
        return true;
    }

    /** The unit views of parameter {@code i} for the layouts the one-pass loops do not take (computed once). */
    private INDArray[] unitViews(int i, INDArray a, boolean ofGradient) {
        INDArray[][] cache = ofGradient ? gradientUnits : parameterUnits;
        if (cache[i] == null) {
            cache[i] = Units.of(a, layout.param(i).weight());
        }
        return cache[i];
    }

    /** Whether any member's current gradient holds NaN or +-Inf. */
    public boolean hasNonFinite() {
        return hasNonFinite(members());
    }

    /** Whether the current gradient of any parameter of {@code group} holds NaN or +-Inf. */
    boolean hasNonFinite(int[] group) {
        for (int i : group) {
            if (isNonFinite(i)) {
                return true;
            }
        }
        return false;
    }

    /** Whether parameter {@code i}'s current gradient holds NaN or +-Inf. */
    public boolean isNonFinite(int i) {
        return !Double.isFinite(norm2(i));
    }

    /**
     * {@code g_i <- s * g_i} for every parameter of {@code group}, in place; a scale of exactly 1 writes nothing.
     * Views that lie next to each other in one buffer (a DL4J network's flattened gradient) are scaled with one
     * BLAS call over their joint span (measured 1.7x instead of 2.0x the read floor on 100 views of 1e5 floats).
     */
    public void scaleGroup(int[] group, double s) {
        if (s == 1.0) {
            return;
        }
        for (INDArray span : spans.computeIfAbsent(group, this::mergeSpans)) {
            Kernels.scale(span, s);
        }
        for (int i : group) {
            l2[i] *= s;
            report.scale[i] *= s;
        }
    }

    /** The group's views, runs of adjacent contiguous views in one buffer merged into one view each. */
    private INDArray[] mergeSpans(int[] group) {
        java.util.List<INDArray> out = new java.util.ArrayList<>();
        int k = 0;
        while (k < group.length) {
            INDArray first = gradient(group[k]);
            long length = first.length();
            int m = k + 1;
            if (contiguous(first)) {
                while (m < group.length) {
                    INDArray next = gradient(group[m]);
                    if (!contiguous(next) || next.dataType() != first.dataType()
                            || next.data().originalDataBuffer() != first.data().originalDataBuffer()
                            || next.offset() != first.offset() + length) {
                        break;
                    }
                    length += next.length();
                    m++;
                }
            }
            out.add(m == k + 1 ? first : Nd4j.create(first.data().originalDataBuffer(), new long[] {length},
                    new long[] {1}, first.offset(), 'c'));
            k = m;
        }
        return out.toArray(INDArray[]::new);
    }

    private static boolean contiguous(INDArray a) {
        return a.length() > 0 && a.elementWiseStride() == 1 && a.data().originalDataBuffer() != null;
    }

    /** {@code g_i <- s * g_i} in place; a scale of exactly 1 writes nothing. */
    public void scale(int i, double s) {
        if (s == 1.0) {
            return;
        }
        Kernels.scale(gradient(i), s);
        l2[i] *= s;
        report.scale[i] *= s;
    }

    /**
     * {@code x <- min(max(x, lo), hi)} on parameter {@code i}; NaN stays NaN (left to the non-finite policy),
     * +-Inf go to the bounds. Writes only when some element is out of bounds.
     *
     * @return the number of elements moved to a bound
     */
    public long clamp(int i, double loBound, double hiBound) {
        INDArray g = gradient(i);
        double lo = loBound * divisor[i];
        double hi = hiBound * divisor[i];
        double n = rawNorm2(i);
        if (n <= hi && -n >= lo) {
            return 0; // |x| <= ||g||_2 for every element: nothing can be out of bounds
        }
        double hiT = Kernels.floatBelow(hi, g.dataType());
        double loT = Kernels.floatAbove(lo, g.dataType());
        // one pass that counts and clamps (contiguous float or double memory: DL4J's gradient views)
        long clipped = Kernels.clampCounting(g, loT, hiT, lo, hi, Double.isFinite(n));
        if (clipped < 0) {
            // a view the one-pass loop does not take (strided, or not float/double): count each side, then clamp
            long above = Kernels.count(g, Conditions.greaterThan(hiT));
            long below = Kernels.count(g, Conditions.lessThan(loT));
            if (Double.isFinite(n)) {
                // no NaN (the norm is finite): libnd4j's in-place min/max is exactly the clamp (for float data
                // min(x, (float) hi) changes exactly the elements above floatBelow(hi), to (float) hi)
                if (above > 0) {
                    Kernels.clampAbove(g, hi);
                }
                if (below > 0) {
                    Kernels.clampBelow(g, lo);
                }
            } else {
                // NaN must stay NaN (a native min/max would turn it into a bound): compare and replace
                if (above > 0) {
                    Kernels.replace(g, hi, Conditions.greaterThan(hiT));
                }
                if (below > 0) {
                    Kernels.replace(g, lo, Conditions.lessThan(loT));
                }
            }
            clipped = above + below;
        }
        if (clipped > 0) {
            l2Known[i] = false;
            report.clipped[i] += clipped;
        }
        return clipped;
    }

    /**
     * {@code x <- 0} where {@code |x| > t} on parameter {@code i} (so +-Inf become 0; NaN stays).
     *
     * @return the number of elements zeroed
     */
    public long zeroAbove(int i, double threshold) {
        INDArray g = gradient(i);
        double t = threshold * divisor[i];
        if (rawNorm2(i) <= t) {
            return 0; // no element exceeds the norm
        }
        double below = Kernels.floatBelow(t, g.dataType());
        long count = Kernels.zeroAboveCounting(g, below, Double.isFinite(rawNorm2(i))); // one pass if contiguous
        if (count < 0) {
            count = Kernels.count(g, Conditions.absGreaterThan(below));
            if (count > 0) {
                Kernels.replace(g, 0.0, Conditions.absGreaterThan(below));
            }
        }
        if (count > 0) {
            l2Known[i] = false;
            report.zeroed[i] += count;
        }
        return count;
    }

    /**
     * Counts parameter {@code i}'s NaN and +-Inf elements into the report.
     *
     * @return the count (0 without a pass when the norm is finite)
     */
    public long countNonFinite(int i) {
        if (!isNonFinite(i)) {
            return 0; // a finite norm means finite elements: nothing to count
        }
        if (report.nonFinite[i] > 0) {
            return report.nonFinite[i]; // counted already in this step
        }
        long count = Kernels.countNonFinite(gradient(i));
        report.nonFinite[i] = count;
        return count;
    }

    /**
     * Replaces parameter {@code i}'s NaN and +-Inf elements by 0.
     *
     * @return the number replaced
     */
    public long zeroNonFinite(int i) {
        long count = countNonFinite(i);
        if (count > 0) {
            Kernels.zeroNonFinite(gradient(i));
            l2Known[i] = false;
            report.zeroed[i] += count;
        }
        return count;
    }

    /**
     * Skips this step: the updater must leave every parameter and its whole state unchanged. Ends the chain.
     *
     * @param maxConsecutive how many steps in a row may be skipped before the next skip fails (>= 1)
     */
    public void skip(int maxConsecutive) {
        skip(maxConsecutive, false);
    }

    /**
     * As {@link #skip(int)}; {@code bySpike} marks a skip for a loss or gradient-norm spike rather than a
     * non-finite value ({@link ClipReport#skippedBySpike()}).
     */
    public void skip(int maxConsecutive, boolean bySpike) {
        skipLimit = skipped ? Math.min(skipLimit, maxConsecutive) : maxConsecutive;
        skipped = true;
        report.markSkipped(bySpike);
    }

    /** The smallest limit passed to {@link #skip(int)} in this step. */
    int skipLimit() {
        return skipLimit;
    }

    /** Whether a strategy skipped this step. */
    public boolean skipped() {
        return skipped;
    }

    /**
     * The exception for a non-finite gradient among {@code group}, naming the first such parameter, its
     * non-finite element count and the iteration.
     */
    public NonFiniteGradientException nonFiniteError(int[] group) {
        for (int i : group) {
            if (isNonFinite(i)) {
                ParamGradient p = layout.param(i);
                return new NonFiniteGradientException(p.layer(), p.param(), iteration, countNonFinite(i),
                        p.gradient().length());
            }
        }
        throw new IllegalStateException("no non-finite gradient in the group");
    }
}
