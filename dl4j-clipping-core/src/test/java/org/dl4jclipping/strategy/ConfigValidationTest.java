package org.dl4jclipping.strategy;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Scope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * semantics.md, "Rules that hold for all of them": invalid configuration (threshold <= 0, NaN, +-Inf; lo >= hi,
 * lo/hi NaN or infinite; p < 1 or NaN; null scope; null action; empty chain or null member) throws
 * {@link IllegalArgumentException} when the configuration is built, naming the field, the value and the allowed
 * range, whichever way it is built: the {@link Clip} factory, the constructor, or JSON (DL4J's shaded Jackson,
 * which wraps the exception: its root cause must be the {@code IllegalArgumentException}).
 *
 * <p>Each case lists the field and value the message must name, and a fragment of the rule it must state.
 */
class ConfigValidationTest {

    private static final ObjectMapper MAPPER = NeuralNetConfiguration.mapper();
    private static final String PKG = "org.dl4jclipping.strategy.";
    private static final ClipStrategy ANY = Clip.globalNorm(1.0);

    /**
     * One invalid configuration: how to build it each way (null where that way cannot express it) and what the
     * message must contain.
     */
    record Case(String name, ThrowingCallable factory, ThrowingCallable constructor, String json, String field,
                String value, String rule) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                // value, symmetric: c finite and > 0 (the field is called clipValue)
                symmetric(0.0, "0.0"), symmetric(-1.0, "-1.0"), symmetric(Double.NaN, "NaN"),
                symmetric(Double.POSITIVE_INFINITY, "Infinity"), symmetric(Double.NEGATIVE_INFINITY, "-Infinity"),
                // value, lo/hi: both finite, lo < hi
                bounds(1.0, 0.0, "1.0", "0.0", "lo", "1.0", "< hi"),
                bounds(1.0, 1.0, "1.0", "1.0", "lo", "1.0", "< hi"),
                bounds(Double.NaN, 1.0, "\"NaN\"", "1.0", "lo", "NaN", "finite"),
                bounds(-1.0, Double.NaN, "-1.0", "\"NaN\"", "hi", "NaN", "finite"),
                bounds(Double.NEGATIVE_INFINITY, 1.0, "\"-Infinity\"", "1.0", "lo", "-Infinity", "finite"),
                bounds(-1.0, Double.POSITIVE_INFINITY, "-1.0", "\"Infinity\"", "hi", "Infinity", "finite"),
                // norm: maxNorm finite > 0
                norm(0.0, 2.0, Scope.GLOBAL, "maxNorm", "0.0", "> 0"),
                norm(-1.0, 2.0, Scope.LAYER, "maxNorm", "-1.0", "> 0"),
                norm(Double.NaN, 2.0, Scope.GLOBAL, "maxNorm", "NaN", "> 0"),
                norm(Double.POSITIVE_INFINITY, 2.0, Scope.PARAMETER, "maxNorm", "Infinity", "finite"),
                norm(Double.NEGATIVE_INFINITY, 2.0, Scope.GLOBAL, "maxNorm", "-Infinity", "finite"),
                // norm: p >= 1 or +Inf
                norm(1.0, 0.5, Scope.GLOBAL, "p", "0.5", ">= 1"),
                norm(1.0, 0.0, Scope.GLOBAL, "p", "0.0", ">= 1"),
                norm(1.0, -2.0, Scope.GLOBAL, "p", "-2.0", ">= 1"),
                norm(1.0, Double.NaN, Scope.GLOBAL, "p", "NaN", ">= 1"),
                norm(1.0, Double.NEGATIVE_INFINITY, Scope.GLOBAL, "p", "-Infinity", ">= 1"),
                // norm: scope set
                norm(1.0, 2.0, null, "scope", "null", "must be set"),
                // zero-out: threshold finite > 0
                zeroOut(0.0, "0.0"), zeroOut(-0.5, "-0.5"), zeroOut(Double.NaN, "NaN"),
                zeroOut(Double.POSITIVE_INFINITY, "Infinity"), zeroOut(Double.NEGATIVE_INFINITY, "-Infinity"),
                // non-finite policy: action set (no factory can pass null)
                new Case("nonFinite(action=null)", null, () -> new NonFinitePolicy(null),
                        "{\"@class\":\"" + PKG + "NonFinitePolicy\",\"action\":null}", "action", "null", "must be set"),
                // chain: a list, not empty, no null member
                new Case("chain()", () -> Clip.chain(), () -> new ClipChain(List.of()),
                        "{\"@class\":\"" + PKG + "ClipChain\",\"strategies\":[]}", "strategies", "[]", "at least one"),
                new Case("chain(null list)", () -> Clip.chain((ClipStrategy[]) null), () -> new ClipChain(null),
                        "{\"@class\":\"" + PKG + "ClipChain\"}", "strategies", "null", "must be set"),
                new Case("chain(x, null)", () -> Clip.chain(ANY, null), () -> new ClipChain(Arrays.asList(ANY, null)),
                        "{\"@class\":\"" + PKG + "ClipChain\",\"strategies\":[{\"@class\":\"" + PKG
                                + "ZeroOut\",\"threshold\":1.0},null]}", "strategies[1]", "null", "must be set"));
    }

    static Stream<Case> factoryCases() {
        return cases().filter(c -> c.factory() != null);
    }

    static Stream<Case> constructorCases() {
        return cases().filter(c -> c.constructor() != null);
    }

    static Stream<Case> jsonCases() {
        return cases().filter(c -> c.json() != null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("factoryCases")
    void factory_invalidInput_throwsNamingFieldValueAndRange(Case c) {
        assertThatThrownBy(c.factory()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(c.field() + " ").hasMessageContaining(c.value()).hasMessageContaining(c.rule());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("constructorCases")
    void constructor_invalidInput_throwsNamingFieldValueAndRange(Case c) {
        assertThatThrownBy(c.constructor()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(c.field() + " ").hasMessageContaining(c.value()).hasMessageContaining(c.rule());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jsonCases")
    void json_invalidInput_rootCauseIsIllegalArgumentNamingFieldValueAndRange(Case c) {
        assertThatThrownBy(() -> MAPPER.readValue(c.json(), ClipStrategy.class))
                .rootCause().isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(c.field() + " ").hasMessageContaining(c.value()).hasMessageContaining(c.rule());
    }

    /** The validation rejects exactly the invalid values: the boundaries just inside the ranges are accepted. */
    @Test
    void boundaryValues_areAccepted() {
        // p = 1 (the smallest allowed) and p = +Inf (the max norm) are valid norm orders
        assertThat(Clip.norm(1.0, 1.0, Scope.GLOBAL).getP()).isEqualTo(1.0);
        assertThat(new ClipByNorm(1.0, Double.POSITIVE_INFINITY, Scope.LAYER).getP())
                .isEqualTo(Double.POSITIVE_INFINITY);
        // the tiniest positive thresholds (4.9e-324, the smallest subnormal) and the largest finite ones
        assertThat(Clip.globalNorm(Double.MIN_VALUE).getMaxNorm()).isEqualTo(Double.MIN_VALUE);
        assertThat(Clip.parameterNorm(Double.MAX_VALUE).getMaxNorm()).isEqualTo(Double.MAX_VALUE);
        assertThat(Clip.zeroOut(Double.MIN_VALUE).getThreshold()).isEqualTo(Double.MIN_VALUE);
        assertThat(Clip.value(Double.MIN_VALUE).getHi()).isEqualTo(Double.MIN_VALUE);
        assertThat(Clip.value(Double.MIN_VALUE).getLo()).isEqualTo(-Double.MIN_VALUE);
        // lo < hi by one ulp; bounds of one sign (lo > 0) are allowed
        assertThat(Clip.value(1.0, Math.nextUp(1.0)).getHi()).isEqualTo(Math.nextUp(1.0));
        assertThat(Clip.value(0.1, 0.5).getLo()).isEqualTo(0.1);
        // a one-member chain is the smallest chain
        assertThat(Clip.chain(ANY).getStrategies()).containsExactly(ANY);
    }

    /** The same boundary values through JSON: p = +Inf is written by Jackson as the string "Infinity". */
    @Test
    void boundaryValues_areAcceptedFromJson() throws Exception {
        ClipStrategy maxNorm = MAPPER.readValue("{\"@class\":\"" + PKG + "ClipByNorm\",\"maxNorm\":4.9E-324,"
                + "\"p\":\"Infinity\",\"scope\":\"GLOBAL\"}", ClipStrategy.class);
        assertThat(maxNorm).isEqualTo(Clip.norm(Double.MIN_VALUE, Double.POSITIVE_INFINITY, Scope.GLOBAL));
        ClipStrategy l1 = MAPPER.readValue("{\"@class\":\"" + PKG + "ClipByNorm\",\"maxNorm\":1.0,"
                + "\"p\":1.0,\"scope\":\"PARAMETER\"}", ClipStrategy.class);
        assertThat(l1).isEqualTo(Clip.norm(1.0, 1.0, Scope.PARAMETER));
    }

    private static Case symmetric(double c, String shown) {
        return new Case("value(" + shown + ")", () -> Clip.value(c), () -> ClipByValue.symmetric(c), null,
                "clipValue", shown, "finite and > 0");
    }

    private static Case bounds(double lo, double hi, String loJson, String hiJson, String field, String shown,
                               String rule) {
        return new Case("value(" + lo + ", " + hi + ")", () -> Clip.value(lo, hi), () -> new ClipByValue(lo, hi),
                "{\"@class\":\"" + PKG + "ClipByValue\",\"lo\":" + loJson + ",\"hi\":" + hiJson + "}",
                field, shown, rule);
    }

    private static Case norm(double maxNorm, double p, Scope scope, String field, String shown, String rule) {
        return new Case("norm(" + maxNorm + ", p=" + p + ", " + scope + ")", () -> Clip.norm(maxNorm, p, scope),
                () -> new ClipByNorm(maxNorm, p, scope),
                "{\"@class\":\"" + PKG + "ClipByNorm\",\"maxNorm\":" + json(maxNorm) + ",\"p\":" + json(p)
                        + ",\"scope\":" + (scope == null ? "null" : "\"" + scope + "\"") + "}",
                field, shown, rule);
    }

    private static Case zeroOut(double t, String shown) {
        return new Case("zeroOut(" + shown + ")", () -> Clip.zeroOut(t), () -> new ZeroOut(t),
                "{\"@class\":\"" + PKG + "ZeroOut\",\"threshold\":" + json(t) + "}", "threshold", shown,
                "finite and > 0");
    }

    /** A double as Jackson writes it: non-finite values as quoted strings. */
    private static String json(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "\"" + v + "\"";
    }
}
