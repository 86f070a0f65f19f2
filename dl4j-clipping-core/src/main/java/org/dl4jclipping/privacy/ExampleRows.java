package org.dl4jclipping.privacy;

import java.util.Arrays;
import org.dl4jclipping.strategy.Check;

/**
 * Which example each row of a layer's two-dimensional input belongs to, sorted so that each example's rows are one
 * contiguous block: example {@code i} owns the sorted rows {@code [start(i), start(i + 1))}. A feed-forward batch has
 * one row per example; a time series flattened to rows has {@code T} per example (in whatever order DL4J's
 * preprocessor put them, which {@link #order()} undoes).
 */
final class ExampleRows {

    private final int examples;
    private final int[] order;
    private final int[] start;

    private ExampleRows(int examples, int[] order, int[] start) {
        this.examples = examples;
        this.order = order;
        this.start = start;
    }

    /** One row per example, in example order. */
    static ExampleRows identity(int examples) {
        int[] order = new int[examples];
        int[] start = new int[examples + 1];
        for (int i = 0; i < examples; i++) {
            order[i] = i;
            start[i + 1] = i + 1;
        }
        return new ExampleRows(examples, order, start);
    }

    /** {@code perExample} consecutive rows per example: row {@code i * perExample + t} is example {@code i}'s. */
    static ExampleRows blocks(int examples, int perExample) {
        int rows = Math.multiplyExact(examples, perExample);
        int[] order = new int[rows];
        int[] start = new int[examples + 1];
        for (int r = 0; r < rows; r++) {
            order[r] = r;
        }
        for (int i = 0; i <= examples; i++) {
            start[i] = i * perExample;
        }
        return new ExampleRows(examples, order, start);
    }

    /**
     * Rows labelled by example: {@code exampleOfRow[r]} is the example of row {@code r}, in {@code [0, examples)}.
     * The sort is stable: an example's rows keep their relative order.
     */
    static ExampleRows of(int examples, int[] exampleOfRow) {
        int[] count = new int[examples + 1];
        for (int r = 0; r < exampleOfRow.length; r++) {
            int e = exampleOfRow[r];
            if (e < 0 || e >= examples) {
                throw Check.outOfRange("exampleOfRow[" + r + "]", e, "must be in [0, " + examples + ")");
            }
            count[e + 1]++;
        }
        for (int i = 0; i < examples; i++) {
            count[i + 1] += count[i];
        }
        int[] start = count.clone();
        int[] next = Arrays.copyOf(count, examples);
        int[] order = new int[exampleOfRow.length];
        for (int r = 0; r < exampleOfRow.length; r++) {
            order[next[exampleOfRow[r]]++] = r;
        }
        return new ExampleRows(examples, order, start);
    }

    int examples() {
        return examples;
    }

    int rows() {
        return order.length;
    }

    /** Sorted position {@code p} holds original row {@code order()[p]}. */
    int[] order() {
        return order;
    }

    /** Whether the rows are already sorted (no reordering needed). */
    boolean sorted() {
        for (int p = 0; p < order.length; p++) {
            if (order[p] != p) {
                return false;
            }
        }
        return true;
    }

    int start(int example) {
        return start[example];
    }

    int end(int example) {
        return start[example + 1];
    }

    /** The largest number of rows any example has. */
    int maxRows() {
        int max = 0;
        for (int i = 0; i < examples; i++) {
            max = Math.max(max, end(i) - start(i));
        }
        return max;
    }

    /** One scale per sorted row: the factor of the example that row belongs to. */
    double[] perRow(double[] perExample) {
        double[] out = new double[order.length];
        for (int i = 0; i < examples; i++) {
            Arrays.fill(out, start(i), end(i), perExample[i]);
        }
        return out;
    }
}
