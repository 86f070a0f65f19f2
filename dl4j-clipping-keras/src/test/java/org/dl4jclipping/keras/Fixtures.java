package org.dl4jclipping.keras;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Random;

/** Test resources, seeded inputs and the comparison every exactness test reports. */
final class Fixtures {

    private Fixtures() {
    }

    /** A file under src/test/resources/keras/. */
    static Path resource(String relative) {
        try {
            return Path.of(Fixtures.class.getResource("/keras/" + relative).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource keras/" + relative, e);
        }
    }

    /** [batch][time][features] standard normal values from the seed. */
    static double[][][] randomSequences(long seed, int batch, int time, int features) {
        Random rnd = new Random(seed);
        double[][][] x = new double[batch][time][features];
        for (double[][] seq : x) {
            for (double[] step : seq) {
                for (int i = 0; i < features; i++) {
                    step[i] = rnd.nextGaussian();
                }
            }
        }
        return x;
    }

    /** The sequences as an NWC array [batch, time, features] of the data type (values rounded to float first). */
    static INDArray nwc(double[][][] x, DataType type) {
        INDArray a = Nd4j.create(DataType.DOUBLE, x.length, x[0].length, x[0][0].length);
        for (int b = 0; b < x.length; b++) {
            for (int t = 0; t < x[b].length; t++) {
                for (int i = 0; i < x[b][t].length; i++) {
                    a.putScalar(new long[] {b, t, i}, (float) x[b][t][i]);
                }
            }
        }
        return a.castTo(type);
    }

    /** The same rounding to float the network input had, for the reference. */
    static double[][][] roundedToFloat(double[][][] x) {
        double[][][] out = new double[x.length][][];
        for (int b = 0; b < x.length; b++) {
            out[b] = new double[x[b].length][];
            for (int t = 0; t < x[b].length; t++) {
                out[b][t] = new double[x[b][t].length];
                for (int i = 0; i < x[b][t].length; i++) {
                    out[b][t][i] = (float) x[b][t][i];
                }
            }
        }
        return out;
    }

    /**
     * max |actual − expected| / max |expected| over all elements: the error relative to the output's scale.
     *
     * @param actual    the network output, [batch, n] or [batch, time, n]
     * @param expected  [batch][rows][n] (rows = 1 for a 2-d output)
     */
    static double maxRelativeError(INDArray actual, double[][][] expected) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int b = 0; b < expected.length; b++) {
            for (int t = 0; t < expected[b].length; t++) {
                for (int j = 0; j < expected[b][t].length; j++) {
                    double a = actual.rank() == 2 ? actual.getDouble(b, j) : actual.getDouble(b, t, j);
                    maxDiff = Math.max(maxDiff, Math.abs(a - expected[b][t][j]));
                    maxRef = Math.max(maxRef, Math.abs(expected[b][t][j]));
                }
            }
        }
        return maxDiff / maxRef;
    }
}
