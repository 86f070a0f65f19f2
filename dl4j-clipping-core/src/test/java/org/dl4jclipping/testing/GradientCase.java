package org.dl4jclipping.testing;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.dl4jclipping.engine.GradientLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A generated set of gradients: per parameter a layer, a shape, a memory form (c, f, a non-contiguous view, a
 * strided view) and a value profile with its own seed. {@link #materialize()} builds the ND4J views, fills the
 * memory around each view with a sentinel, and keeps the values as stored for the reference.
 *
 * @param dtype  FLOAT or DOUBLE
 * @param params the parameters, in order
 */
public record GradientCase(DataType dtype, List<Param> params) {

    /** How a parameter's gradient sits in memory. */
    public enum Form { C, F, SUBVIEW, STRIDED }

    /**
     * One parameter: element values are {@code N(0,1) * scale}, replaced with probability {@code specialRate}
     * by one of 0, +-1e-30, +-1e30 and with probability {@code nonFiniteRate} by one of NaN, +-Inf.
     */
    public record Param(int layer, int[] shape, Form form, long seed, double scale, double specialRate,
                        double nonFiniteRate) {
        @Override
        public String toString() {
            return "L" + layer + Arrays.toString(shape) + form + "(seed=" + seed + ", scale=" + scale
                    + ", special=" + specialRate + ", nonFinite=" + nonFiniteRate + ")";
        }
    }

    /** The sentinel value written around every view. */
    public static final double SENTINEL = 3.25;

    /** Builds the arrays. */
    public Materialized materialize() {
        return new Materialized(this);
    }

    /** The ND4J side of a case. */
    public static final class Materialized {
        public final GradientLayout layout;
        public final int[] layerOf;
        /** The values as stored (float-rounded for FLOAT), c order per parameter. */
        public final double[][] input;
        private final INDArray[] bases;
        private final INDArray[] baseCopies;
        private final INDArrayIndex[][] viewIndex;
        private final INDArray[] views;

        Materialized(GradientCase c) {
            int n = c.params().size();
            layerOf = new int[n];
            input = new double[n][];
            bases = new INDArray[n];
            baseCopies = new INDArray[n];
            viewIndex = new INDArrayIndex[n][];
            views = new INDArray[n];
            GradientLayout.Builder b = GradientLayout.builder();
            for (int i = 0; i < n; i++) {
                Param p = c.params().get(i);
                layerOf[i] = p.layer();
                makeView(i, p, c.dtype());
                double[] values = values(p);
                if (values.length > 0) {
                    views[i].assign(Nd4j.create(values, toLong(p.shape()), 'c').castTo(c.dtype()));
                }
                input[i] = read(views[i]);
                baseCopies[i] = bases[i].dup();
                b.add("L" + p.layer(), "p" + i, views[i], null);
            }
            layout = b.build();
        }

        private void makeView(int i, Param p, DataType dt) {
            long[] shape = toLong(p.shape());
            boolean empty = Arrays.stream(shape).anyMatch(d -> d == 0);
            Form form = empty ? Form.C : p.form();
            switch (form) {
                case C, F -> {
                    bases[i] = Nd4j.create(dt, shape, form == Form.C ? 'c' : 'f');
                    views[i] = bases[i];
                }
                case SUBVIEW -> {
                    long[] big = shape.clone();
                    INDArrayIndex[] idx = new INDArrayIndex[shape.length];
                    for (int d = 0; d < shape.length; d++) {
                        big[d] = shape[d] + 3;
                        idx[d] = NDArrayIndex.interval(1 + d % 2, 1 + d % 2 + shape[d]);
                    }
                    bases[i] = Nd4j.valueArrayOf(big, SENTINEL, dt);
                    viewIndex[i] = idx;
                    views[i] = bases[i].get(idx);
                }
                case STRIDED -> {
                    long[] big = shape.clone();
                    int last = shape.length - 1;
                    big[last] = 2 * shape[last];
                    INDArrayIndex[] idx = new INDArrayIndex[shape.length];
                    for (int d = 0; d < last; d++) {
                        idx[d] = NDArrayIndex.all();
                    }
                    idx[last] = NDArrayIndex.interval(0, 2, big[last]);
                    bases[i] = Nd4j.valueArrayOf(big, SENTINEL, dt);
                    viewIndex[i] = idx;
                    views[i] = bases[i].get(idx);
                }
                default -> throw new IllegalStateException();
            }
        }

        /** The current values of every parameter's gradient, c order. */
        public double[][] read() {
            double[][] out = new double[views.length][];
            for (int i = 0; i < views.length; i++) {
                out[i] = read(views[i]);
            }
            return out;
        }

        /** Whether memory outside the views is as it was (the sentinel, bit for bit). */
        public boolean outsideUntouched() {
            for (int i = 0; i < bases.length; i++) {
                if (viewIndex[i] == null) {
                    continue;
                }
                INDArray now = bases[i].dup();
                INDArray before = baseCopies[i].dup();
                now.get(viewIndex[i]).assign(0);
                before.get(viewIndex[i]).assign(0);
                if (!now.equals(before)) {
                    return false;
                }
            }
            return true;
        }

        private static double[] read(INDArray view) {
            if (view.length() == 0) {
                return new double[0];
            }
            return view.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        }
    }

    static double[] values(Param p) {
        int n = Arrays.stream(p.shape()).reduce(1, (a, b) -> a * b);
        Random r = new Random(p.seed());
        double[] v = new double[n];
        for (int k = 0; k < n; k++) {
            double u = r.nextDouble();
            if (u < p.nonFiniteRate()) {
                v[k] = switch (r.nextInt(3)) {
                    case 0 -> Double.NaN;
                    case 1 -> Double.POSITIVE_INFINITY;
                    default -> Double.NEGATIVE_INFINITY;
                };
            } else if (u < p.nonFiniteRate() + p.specialRate()) {
                v[k] = switch (r.nextInt(5)) {
                    case 0 -> 0.0;
                    case 1 -> 1e-30;
                    case 2 -> -1e-30;
                    case 3 -> 1e30;
                    default -> -1e30;
                };
            } else {
                v[k] = r.nextGaussian() * p.scale();
            }
        }
        return v;
    }

    private static long[] toLong(int[] shape) {
        return Arrays.stream(shape).asLongStream().toArray();
    }
}
