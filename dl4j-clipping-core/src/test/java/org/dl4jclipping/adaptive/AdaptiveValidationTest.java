package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.strategy.AdaGC;
import org.dl4jclipping.strategy.AdaptiveGradientClip;
import org.dl4jclipping.strategy.AutoClip;
import org.dl4jclipping.strategy.SkipSpikes;
import org.dl4jclipping.strategy.ZClip;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * Invalid adaptive configurations are rejected when built, by every path (factory or builder, constructor, DL4J's
 * JSON mapper with the {@link IllegalArgumentException} as root cause), with the field, the value and the allowed
 * range in the message; valid ones round-trip through JSON and Java serialisation, equal to the original.
 */
class AdaptiveValidationTest {

    private static final ObjectMapper MAPPER = NeuralNetConfiguration.mapper();
    private static final String PKG = "org.dl4jclipping.strategy.";

    /** One invalid configuration, built three ways (null where a way cannot express it). */
    record Case(String name, ThrowingCallable factory, ThrowingCallable constructor, String json, String field,
                String value, String rule) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** JSON text of a double, as the mapper writes non-finite values. */
    private static String j(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "\"" + v + "\"";
    }

    private static Case autoClip(double p, int window, String field, String value, String rule) {
        return new Case("autoClip(p=" + p + ", window=" + window + ")",
                window == AutoClip.DEFAULT_WINDOW ? () -> Clip.autoClip(p) : null,
                () -> new AutoClip(p, window),
                "{\"@class\":\"" + PKG + "AutoClip\",\"percentile\":" + j(p) + ",\"window\":" + window + "}",
                field, value, rule);
    }

    /** ZClip with the defaults but one field changed (given by name). */
    private static Case zClip(String field, double v, String value, String rule) {
        double alpha = field.equals("alpha") ? v : 0.97;
        double z = field.equals("zThreshold") ? v : 2.5;
        double max = field.equals("maxGradNorm") ? v : 1.0;
        double eps = field.equals("eps") ? v : 1e-6;
        int warmup = field.equals("warmupSteps") ? (int) v : 25;
        double factor = field.equals("clipFactor") ? v : 1.0;
        ThrowingCallable builder = () -> ZClip.builder().alpha(alpha).zThreshold(z).maxGradNorm(max).eps(eps)
                .warmupSteps(warmup).clipFactor(factor).build();
        ThrowingCallable constructor = () -> new ZClip(alpha, z, max, eps, warmup, ZClip.Mode.ADAPTIVE_SCALING,
                factor, false);
        String json = "{\"@class\":\"" + PKG + "ZClip\",\"alpha\":" + j(alpha) + ",\"zThreshold\":" + j(z)
                + ",\"maxGradNorm\":" + j(max) + ",\"eps\":" + j(eps) + ",\"warmupSteps\":" + warmup
                + ",\"mode\":\"ADAPTIVE_SCALING\",\"clipFactor\":" + j(factor) + ",\"skipUpdateOnSpike\":false}";
        return new Case("zClip(" + field + "=" + value + ")", builder, constructor, json, field, value, rule);
    }

    private static Case agc(double lambda, double eps, String field, String value, String rule) {
        return new Case("agc(lambda=" + lambda + ", eps=" + eps + ")",
                eps == AdaptiveGradientClip.DEFAULT_EPS ? () -> Clip.agc(lambda) : null,
                () -> new AdaptiveGradientClip(lambda, eps, true, List.of()),
                "{\"@class\":\"" + PKG + "AdaptiveGradientClip\",\"clipFactor\":" + j(lambda) + ",\"eps\":" + j(eps)
                        + ",\"excludeOutputLayer\":true,\"excludedLayers\":[]}", field, value, rule);
    }

    /** AdaGC with the defaults but one field changed (given by name). */
    private static Case adaGC(String field, double v, String value, String rule) {
        double abs = field.equals("lambdaAbs") ? v : 1.0;
        double rel = field.equals("lambdaRel") ? v : 1.05;
        double beta = field.equals("beta") ? v : 0.98;
        int warmup = field.equals("warmupSteps") ? (int) v : 100;
        double eps = field.equals("eps") ? v : 1e-8;
        return new Case("adaGC(" + field + "=" + value + ")",
                () -> AdaGC.builder().lambdaAbs(abs).lambdaRel(rel).beta(beta).warmupSteps(warmup).eps(eps).build(),
                () -> new AdaGC(abs, rel, beta, warmup, eps),
                "{\"@class\":\"" + PKG + "AdaGC\",\"lambdaAbs\":" + j(abs) + ",\"lambdaRel\":" + j(rel)
                        + ",\"beta\":" + j(beta) + ",\"warmupSteps\":" + warmup + ",\"eps\":" + j(eps) + "}",
                field, value, rule);
    }

    /** SkipSpikes with the defaults but one field changed (given by name). */
    private static Case skipSpikes(String field, double v, String value, String rule) {
        int window = field.equals("window") ? (int) v : 128;
        double sigma = field.equals("sigmaFactor") ? v : 6.0;
        int max = field.equals("maxConsecutiveSkips") ? (int) v : 10;
        boolean off = field.equals("byLoss/byNorm");
        return new Case("skipSpikes(" + field + "=" + value + ")",
                () -> SkipSpikes.builder().window(window).sigmaFactor(sigma).maxConsecutiveSkips(max).byLoss(!off)
                        .byNorm(!off).build(),
                () -> new SkipSpikes(window, sigma, !off, !off, max),
                "{\"@class\":\"" + PKG + "SkipSpikes\",\"window\":" + window + ",\"sigmaFactor\":" + j(sigma)
                        + ",\"byLoss\":" + !off + ",\"byNorm\":" + !off + ",\"maxConsecutiveSkips\":" + max + "}",
                field, value, rule);
    }

    static Stream<Case> cases() {
        String pRange = "(0.0, 100.0]";
        String positive = "> 0";
        return Stream.of(
                // AutoClip: percentile in (0, 100], window >= 1
                autoClip(0, 1000, "percentile", "0.0", pRange),
                autoClip(-1, 1000, "percentile", "-1.0", pRange),
                autoClip(100.5, 1000, "percentile", "100.5", pRange),
                autoClip(Double.NaN, 1000, "percentile", "NaN", pRange),
                autoClip(10, 0, "window", "0", "[1, 1000000]"),
                autoClip(10, -3, "window", "-3", "[1, 1000000]"),
                // ZClip: alpha in (0, 1); zThreshold > 0; maxGradNorm > 0 (+Infinity allowed); warm-up >= 0;
                // eps > 0; clipFactor > 0
                zClip("alpha", 0, "0.0", "(0.0, 1.0)"),
                zClip("alpha", 1, "1.0", "(0.0, 1.0)"),
                zClip("alpha", 1.5, "1.5", "(0.0, 1.0)"),
                zClip("alpha", Double.NaN, "NaN", "(0.0, 1.0)"),
                zClip("warmupSteps", -1, "-1", "[0, 100000]"),
                zClip("zThreshold", 0, "0.0", positive),
                zClip("zThreshold", -2.5, "-2.5", positive),
                zClip("maxGradNorm", 0, "0.0", positive),
                zClip("maxGradNorm", -1, "-1.0", positive),
                zClip("maxGradNorm", Double.NaN, "NaN", positive),
                zClip("eps", 0, "0.0", positive),
                zClip("eps", -1e-6, "-1.0E-6", positive),
                zClip("clipFactor", 0, "0.0", positive),
                // ZClip mode must be set (no builder path can pass null... but the builder's setter can)
                new Case("zClip(mode=null)", () -> ZClip.builder().mode(null).build(),
                        () -> new ZClip(0.97, 2.5, 1.0, 1e-6, 25, null, 1.0, false),
                        "{\"@class\":\"" + PKG + "ZClip\",\"alpha\":0.97,\"zThreshold\":2.5,\"maxGradNorm\":1.0,"
                                + "\"eps\":1.0E-6,\"warmupSteps\":25,\"mode\":null,\"clipFactor\":1.0,"
                                + "\"skipUpdateOnSpike\":false}", "mode", "null", "must be set"),
                // AGC: clipFactor (lambda) > 0, eps > 0
                agc(0, 1e-3, "clipFactor", "0.0", positive),
                agc(-0.01, 1e-3, "clipFactor", "-0.01", positive),
                agc(Double.NaN, 1e-3, "clipFactor", "NaN", positive),
                agc(0.01, 0, "eps", "0.0", positive),
                agc(0.01, -1, "eps", "-1.0", positive),
                // AdaGC: lambdas > 0, beta in [0, 1), warm-up >= 2 (step 1 initialises gamma), eps > 0
                adaGC("lambdaAbs", 0, "0.0", positive),
                adaGC("lambdaRel", -1, "-1.0", positive),
                adaGC("lambdaRel", Double.NaN, "NaN", positive),
                adaGC("beta", 1, "1.0", "[0, 1)"),
                adaGC("beta", -0.1, "-0.1", "[0, 1)"),
                adaGC("warmupSteps", 1, "1", "[2, 10000000]"),
                adaGC("eps", 0, "0.0", positive),
                // SkipSpikes: window in [2, 100000], sigma > 0, max skips >= 1, loss or norm watched
                skipSpikes("window", 1, "1", "[2, 100000]"),
                skipSpikes("sigmaFactor", 0, "0.0", positive),
                skipSpikes("sigmaFactor", Double.POSITIVE_INFINITY, "Infinity", positive),
                skipSpikes("maxConsecutiveSkips", 0, "0", "[1, 2147483647]"),
                skipSpikes("byLoss/byNorm", 0, "false/false", "at least one must be true"));
    }

    static Stream<Case> factoryCases() {
        return cases().filter(c -> c.factory() != null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("factoryCases")
    void factoryOrBuilder_invalid_throwsNamingFieldValueAndRange(Case c) {
        assertThatThrownBy(c.factory()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(c.field() + " ").hasMessageContaining(c.value()).hasMessageContaining(c.rule());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void constructor_invalid_throwsNamingFieldValueAndRange(Case c) {
        assertThatThrownBy(c.constructor()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(c.field() + " ").hasMessageContaining(c.value()).hasMessageContaining(c.rule());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void json_invalid_rootCauseIsIllegalArgumentNamingFieldValueAndRange(Case c) {
        assertThatThrownBy(() -> MAPPER.readValue(c.json(), ClipStrategy.class))
                .rootCause().isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(c.field() + " ").hasMessageContaining(c.value()).hasMessageContaining(c.rule());
    }

    @Test
    void boundariesJustInside_areAccepted() {
        assertThat(new AutoClip(100, 1).getPercentile()).isEqualTo(100.0);
        assertThat(new AutoClip(Double.MIN_VALUE, AutoClip.MAX_WINDOW).getWindow()).isEqualTo(1_000_000);
        ZClip z = ZClip.builder().alpha(Math.nextUp(0.0)).warmupSteps(0).maxGradNorm(Double.POSITIVE_INFINITY)
                .build();
        assertThat(z.getMaxGradNorm()).isInfinite();
        assertThat(ZClip.builder().alpha(Math.nextDown(1.0)).build().getAlpha()).isLessThan(1.0);
        assertThat(Clip.agc(Double.MIN_VALUE).getClipFactor()).isPositive();
    }

    /** Each adaptive strategy with non-default values, and a chain holding them; built twice, never shared. */
    static Stream<Named<Supplier<ClipStrategy>>> strategies() {
        return Stream.<Supplier<ClipStrategy>>of(
                () -> Clip.autoClip(10),
                () -> new AutoClip(37.5, 7),
                Clip::zClip,
                () -> ZClip.builder().alpha(0.9).zThreshold(3).maxGradNorm(Double.POSITIVE_INFINITY).eps(1e-8)
                        .warmupSteps(0).mode(ZClip.Mode.MEAN).clipFactor(0.7).skipUpdateOnSpike(true).build(),
                () -> Clip.agc(0.01),
                () -> Clip.agc(0.02).includingOutputLayer().excluding("embedding", "lstm"),
                () -> new AdaptiveGradientClip(0.05, 1e-4, false, List.of("a")),
                () -> Clip.chain(Clip.skipNonFinite(), Clip.agc(0.01).excluding("x"), Clip.zClip(),
                        new AutoClip(25, 100), Clip.value(5.0)),
                Clip::adaGC,
                () -> AdaGC.builder().lambdaAbs(0.5).lambdaRel(1.2).beta(0).warmupSteps(2).eps(1e-6).build(),
                Clip::skipSpikes,
                () -> SkipSpikes.builder().window(16).sigmaFactor(3).byLoss(false).maxConsecutiveSkips(4).build(),
                () -> Clip.chain(Clip.skipNonFinite(7), Clip.skipSpikes(), Clip.adaGC())).map(m -> Named.of(m.get().toString(), m));
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void json_roundTrip_isEqual(Supplier<ClipStrategy> make) throws Exception {
        ClipStrategy original = make.get();
        String json = MAPPER.writerFor(ClipStrategy.class).writeValueAsString(original);
        ClipStrategy back = MAPPER.readValue(json, ClipStrategy.class);
        assertThat(back).isEqualTo(original).hasSameHashCodeAs(original).isNotSameAs(original);
        assertThat(back).isEqualTo(make.get());
        assertThat(back.stateSize()).isEqualTo(original.stateSize());
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void javaSerialization_roundTrip_isEqual(Supplier<ClipStrategy> make) throws Exception {
        ClipStrategy original = make.get();
        Object back = org.dl4jclipping.testing.RoundTrip.java(original);
        assertThat(back).isEqualTo(original).hasSameHashCodeAs(original).isNotSameAs(original);
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void inANetworkConfiguration_jsonRoundTrip_isEqual(Supplier<ClipStrategy> make) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .updater(new ClippingUpdater(new Adam(1e-3), make.get())).list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(4).build())
                .layer(new OutputLayer.Builder().nIn(4).nOut(2).build())
                .build();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        assertThat(back).isEqualTo(conf);
        assertThat(((ClippingUpdater) back.getConf(0).getLayer().getUpdaterByParam("W")).getStrategy())
                .isEqualTo(make.get());
    }
}
