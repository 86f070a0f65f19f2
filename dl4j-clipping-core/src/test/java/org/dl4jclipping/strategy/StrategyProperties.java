package org.dl4jclipping.strategy;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.NonFiniteGradientException;
import org.dl4jclipping.engine.NonFiniteHandling;
import org.dl4jclipping.engine.Scope;
import org.dl4jclipping.testing.Close;
import org.dl4jclipping.testing.GradientCase.Form;
import org.dl4jclipping.testing.GradientCase.Param;
import org.dl4jclipping.testing.GradientCase;
import org.dl4jclipping.testing.ReferenceClipping;
import org.nd4j.linalg.api.buffer.DataType;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every fixed strategy against the double-precision {@link ReferenceClipping}, over generated gradients:
 * float and double; empty, one-element, small, large (up to 60,000 elements) arrays; c, f, non-contiguous and
 * strided views; values normal at scales 1e-3..1e3, zero, 1e-30, 1e30, NaN and +-Inf. 10,000 cases in all,
 * fixed seeds.
 *
 * <p>Each case checks: the clipped values agree with the reference to 1e-6 relative (float) or 1e-12 (double);
 * the report's norms and counts agree with the reference; memory around a view is untouched; a step the
 * reference fails throws {@link NonFiniteGradientException}; a step the reference skips is reported skipped.
 */
class StrategyProperties {

    @Property(tries = 1500, seed = "4101")
    void value_matchesReference(@ForAll("cases") GradientCase c, @ForAll("valueClips") ClipStrategy s) {
        checkAgainstReference(c, s);
    }

    @Property(tries = 2500, seed = "4102")
    void norm_matchesReference(@ForAll("cases") GradientCase c, @ForAll("normClips") ClipStrategy s) {
        checkAgainstReference(c, s);
    }

    @Property(tries = 1500, seed = "4103")
    void zeroOut_matchesReference(@ForAll("cases") GradientCase c, @ForAll("zeroOuts") ClipStrategy s) {
        checkAgainstReference(c, s);
    }

    @Property(tries = 1500, seed = "4104")
    void nonFinitePolicy_matchesReference(@ForAll("nonFiniteCases") GradientCase c,
                                          @ForAll("policies") ClipStrategy s) {
        checkAgainstReference(c, s);
    }

    @Property(tries = 2000, seed = "4105")
    void chain_matchesReference(@ForAll("cases") GradientCase c, @ForAll("chains") ClipStrategy s) {
        checkAgainstReference(c, s);
    }

    /** semantics.md: finite input up to 1e30 never gives an infinite norm, 1e-30 never a zero norm. */
    @Property(tries = 1000, seed = "4106")
    void reportedNorms_finiteInputNeverInfiniteNorZero(@ForAll("extremeCases") GradientCase c) {
        GradientCase.Materialized m = c.materialize();
        ClipReport r = new Clipper(Clip.globalNorm(1.0), m.layout).clip(0);
        for (int i = 0; i < m.input.length; i++) {
            double expected = ReferenceClipping.norm2(m.input[i]);
            assertThat(Double.isFinite(r.normBefore(i))).as("norm of parameter %d finite", i).isTrue();
            assertThat(Close.close(r.normBefore(i), expected, c.dtype()))
                    .as("norm of parameter %d: %s vs reference %s", i, r.normBefore(i), expected).isTrue();
            if (expected > 0) {
                assertThat(r.normBefore(i)).isPositive();
            }
        }
        assertThat(Double.isFinite(r.totalNormBefore())).isTrue();
        assertThat(r.totalNormAfter()).isLessThanOrEqualTo(1.0 * (1 + 1e-6));
    }

    private static void checkAgainstReference(GradientCase c, ClipStrategy s) {
        GradientCase.Materialized m = c.materialize();
        ReferenceClipping.Outcome expected = ReferenceClipping.apply(s, m.input, m.layerOf);
        Clipper clipper = new Clipper(s, m.layout);
        if (expected.failed) {
            assertThatThrownBy(() -> clipper.clip(7)).isInstanceOf(NonFiniteGradientException.class)
                    .hasMessageContaining("iteration 7");
            return;
        }
        ClipReport r = clipper.clip(7);
        double[][] actual = m.read();
        assertThat(r.skipped()).as("skipped").isEqualTo(expected.skipped);
        // on a skipped step the gradient holds what the members before the skip made of it
        String diff = Close.firstDifference(actual, expected.grads, c.dtype());
        assertThat(diff).as("production vs reference").isNull();
        assertThat(m.outsideUntouched()).as("memory around the views untouched").isTrue();
        for (int i = 0; i < actual.length; i++) {
            double before = ReferenceClipping.norm2(m.input[i]);
            assertThat(Close.close(r.normBefore(i), before, c.dtype()))
                    .as("norm before of parameter %d: %s vs %s", i, r.normBefore(i), before).isTrue();
            double after = ReferenceClipping.norm2(expected.grads[i]);
            assertThat(Close.close(r.normAfter(i), expected.skipped ? before : after, c.dtype()))
                    .as("norm after of parameter %d: %s vs %s", i, r.normAfter(i), after).isTrue();
            assertThat(r.clipped(i)).as("clipped count of parameter %d", i).isEqualTo(expected.clipped[i]);
            assertThat(r.zeroed(i)).as("zeroed count of parameter %d", i).isEqualTo(expected.zeroed[i]);
        }
    }

    // ---------------------------------------------------------------------------------------- generators

    @Provide
    Arbitrary<GradientCase> cases() {
        return cases(Arbitraries.frequency(Tuple(8, 0.0), Tuple(1, 1e-3), Tuple(1, 0.05)),
                Arbitraries.frequency(Tuple(6, 0.0), Tuple(3, 0.02), Tuple(1, 0.3)));
    }

    @Provide
    Arbitrary<GradientCase> nonFiniteCases() {
        return cases(Arbitraries.frequency(Tuple(2, 0.0), Tuple(3, 1e-3), Tuple(3, 0.05), Tuple(1, 0.5)),
                Arbitraries.frequency(Tuple(6, 0.0), Tuple(3, 0.02)));
    }

    @Provide
    Arbitrary<GradientCase> extremeCases() {
        return cases(Arbitraries.just(0.0), Arbitraries.frequency(Tuple(1, 0.1), Tuple(1, 0.5), Tuple(1, 1.0)));
    }

    private static Arbitrary<GradientCase> cases(Arbitrary<Double> nonFiniteRate, Arbitrary<Double> specialRate) {
        Arbitrary<Param> param = Combinators.combine(
                Arbitraries.integers().between(0, 2),
                shapes(),
                Arbitraries.of(Form.values()),
                Arbitraries.longs(),
                Arbitraries.of(1e-3, 0.1, 1.0, 10.0, 1e3),
                specialRate,
                nonFiniteRate).as(Param::new);
        return Combinators.combine(Arbitraries.of(DataType.FLOAT, DataType.DOUBLE),
                param.list().ofMinSize(0).ofMaxSize(5)).as(GradientCase::new);
    }

    private static Arbitrary<int[]> shapes() {
        Arbitrary<Integer> small = Arbitraries.integers().between(1, 24);
        return Arbitraries.frequencyOf(
                Tuple(1, Arbitraries.just(new int[] {0})),
                Tuple(1, Arbitraries.just(new int[] {3, 0})),
                Tuple(2, Arbitraries.just(new int[] {1})),
                Tuple(3, Arbitraries.integers().between(2, 64).map(n -> new int[] {n})),
                Tuple(6, Combinators.combine(small, small).as((a, b) -> new int[] {a, b})),
                Tuple(2, Combinators.combine(small, small, Arbitraries.integers().between(1, 5))
                        .as((a, b, d) -> new int[] {d, a, b})),
                Tuple(1, Arbitraries.integers().between(5_000, 60_000).map(n -> new int[] {n})),
                Tuple(1, Arbitraries.integers().between(100, 300).map(n -> new int[] {n, 97})));
    }

    @Provide
    Arbitrary<ClipStrategy> valueClips() {
        Arbitrary<Double> c = thresholds();
        return Arbitraries.oneOf(c.map(Clip::value),
                Combinators.combine(c, c).as((a, b) -> Clip.value(-a, b)),
                Combinators.combine(c, c).as((a, b) -> Clip.value(Math.min(a, b) * 0.5, Math.max(a, b))));
    }

    @Provide
    Arbitrary<ClipStrategy> normClips() {
        return Combinators.combine(thresholds(),
                Arbitraries.of(1.0, 2.0, 2.0, 3.0, 1.5, Double.POSITIVE_INFINITY),
                Arbitraries.of(Scope.values())).as(Clip::norm);
    }

    @Provide
    Arbitrary<ClipStrategy> zeroOuts() {
        return thresholds().map(Clip::zeroOut);
    }

    @Provide
    Arbitrary<ClipStrategy> policies() {
        return Arbitraries.oneOf(
                Arbitraries.of(NonFiniteHandling.Action.values()).map(NonFinitePolicy::new),
                Arbitraries.of(NonFiniteHandling.Action.values()).map(NonFinitePolicy::new)
                        .flatMap(p -> Arbitraries.oneOf(normClips(), valueClips(), zeroOuts())
                                .map(s -> Clip.chain(p, s))),
                normClips());
    }

    @Provide
    Arbitrary<ClipStrategy> chains() {
        Arbitrary<ClipStrategy> member = Arbitraries.oneOf(valueClips(), normClips(), zeroOuts(),
                Arbitraries.of(NonFiniteHandling.Action.values()).map(NonFinitePolicy::new));
        return member.list().ofMinSize(1).ofMaxSize(4).map(ClipChain::new);
    }

    /** Thresholds log-uniform over [1e-3, 1e3]. */
    private static Arbitrary<Double> thresholds() {
        return Arbitraries.doubles().between(-3, 3).map(e -> Math.pow(10, e));
    }

    private static <T> net.jqwik.api.Tuple.Tuple2<Integer, T> Tuple(int weight, T value) {
        return net.jqwik.api.Tuple.of(weight, value);
    }

    @SuppressWarnings("unused")
    private static final List<String> NOTES = List.of(
            "Counts of clipped and zeroed elements are compared exactly: thresholds are exact in float too.");
}
