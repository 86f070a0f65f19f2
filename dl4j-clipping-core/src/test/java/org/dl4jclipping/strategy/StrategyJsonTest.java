package org.dl4jclipping.strategy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Scope;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Serialised configurations are a public format (style.md, point 5): every strategy, nested chains included,
 * round-trips through DL4J's JSON mapper (written as the {@link ClipStrategy} interface type, read back as it)
 * and through Java serialisation (Spark ships configurations), equal to the original. A JSON fixture pinned to
 * version 0.1.0 reads back to the expected objects. {@code equals} is value-based (DL4J merges updater blocks by
 * configuration equality).
 */
class StrategyJsonTest {

    private static final ObjectMapper MAPPER = NeuralNetConfiguration.mapper();

    /** Each built twice from scratch, so equality is never identity. */
    static Stream<Named<Supplier<ClipStrategy>>> strategies() {
        return Stream.<Supplier<ClipStrategy>>of(
                () -> Clip.value(0.5),
                () -> Clip.value(-0.25, 1.5),
                () -> Clip.globalNorm(1.0),
                () -> Clip.layerNorm(2.0),
                () -> Clip.parameterNorm(3.0),
                () -> Clip.norm(2.5, 1.0, Scope.GLOBAL),
                () -> Clip.norm(0.5, Double.POSITIVE_INFINITY, Scope.LAYER), // p = +Inf is written as "Infinity"
                () -> Clip.norm(1e-12, 3.5, Scope.PARAMETER),
                () -> Clip.zeroOut(10.0),
                Clip::skipNonFinite,
                Clip::zeroNonFinite,
                Clip::failOnNonFinite,
                () -> Clip.chain(Clip.skipNonFinite(), Clip.value(5.0), Clip.globalNorm(1.0)),
                StrategyJsonTest::nested).map(make -> Named.of(make.get().toString(), make));
    }

    /** A chain inside a chain inside a chain. */
    private static ClipStrategy nested() {
        return Clip.chain(Clip.zeroNonFinite(),
                Clip.chain(Clip.zeroOut(100.0), Clip.chain(Clip.layerNorm(1.0))),
                Clip.norm(1.0, Double.POSITIVE_INFINITY, Scope.PARAMETER));
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void json_roundTripAsInterfaceType_isEqual(Supplier<ClipStrategy> make) throws Exception {
        ClipStrategy original = make.get();
        String json = MAPPER.writerFor(ClipStrategy.class).writeValueAsString(original);
        // typed by class name, as DL4J types its own configurations, so a user's own strategy round-trips too
        assertThat(MAPPER.readTree(json).get("@class").asText()).isEqualTo(original.getClass().getName());
        ClipStrategy back = MAPPER.readValue(json, ClipStrategy.class);
        assertThat(back).isEqualTo(original).hasSameHashCodeAs(original).isNotSameAs(original);
        assertThat(back.toString()).isEqualTo(original.toString());
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
    void equals_separatelyBuiltEqualStrategies_areEqualWithEqualHashCodes(Supplier<ClipStrategy> make) {
        ClipStrategy a = make.get();
        ClipStrategy b = make.get();
        assertThat(a).isNotSameAs(b).isEqualTo(b).hasSameHashCodeAs(b);
    }

    /** Value-based, not "everything equal": each field and the chain's order take part. */
    @Test
    void equals_differentConfigurations_areNotEqual() {
        assertThat(Clip.globalNorm(1.0)).isNotEqualTo(Clip.layerNorm(1.0)); // scope differs
        assertThat(Clip.globalNorm(1.0)).isNotEqualTo(Clip.globalNorm(2.0)); // maxNorm differs
        assertThat(Clip.globalNorm(1.0)).isNotEqualTo(Clip.norm(1.0, 1.0, Scope.GLOBAL)); // p differs
        assertThat(Clip.value(0.5)).isNotEqualTo(Clip.value(-0.5, 0.6)); // hi differs
        assertThat(Clip.value(0.5)).isEqualTo(Clip.value(-0.5, 0.5)); // symmetric is just lo = -c, hi = c
        assertThat(Clip.skipNonFinite()).isNotEqualTo(Clip.zeroNonFinite());
        assertThat(Clip.zeroOut(1.0)).isNotEqualTo(Clip.value(1.0));
        assertThat(Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(1.0)))
                .isNotEqualTo(Clip.chain(Clip.globalNorm(1.0), Clip.skipNonFinite())); // order matters
    }

    /** A chain copies its list: changing the caller's list afterwards changes neither the chain nor its hash. */
    @Test
    void chain_callersListChangedAfterwards_chainUnchanged() {
        java.util.ArrayList<ClipStrategy> list = new java.util.ArrayList<>(List.of(Clip.globalNorm(1.0)));
        ClipChain chain = new ClipChain(list);
        int hash = chain.hashCode();
        list.add(Clip.value(1.0));
        assertThat(chain.getStrategies()).containsExactly(Clip.globalNorm(1.0));
        assertThat(chain.hashCode()).isEqualTo(hash);
    }

    /**
     * The JSON written by version 0.1.0 for a representative chain (every strategy class, a nested chain, p = 1,
     * p = +Inf, asymmetric bounds) must keep reading back to the same objects in every later version.
     */
    @Test
    void pinnedFixture_0_1_0_readsBackToExpectedObjects() throws Exception {
        String json;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/strategies-0.1.0.json")) {
            assertThat(in).as("fixture on the test classpath").isNotNull();
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        ClipStrategy read = MAPPER.readValue(json, ClipStrategy.class);
        assertThat(read).isEqualTo(representative());
        ClipChain chain = (ClipChain) read;
        assertThat(chain.getStrategies()).hasSize(6);
        ClipByNorm inf = (ClipByNorm) ((ClipChain) chain.getStrategies().get(4)).getStrategies().get(1);
        assertThat(inf.getP()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(inf.getScope()).isEqualTo(Scope.PARAMETER);
    }

    /** The chain pinned in {@code fixtures/strategies-0.1.0.json}. */
    static ClipStrategy representative() {
        return Clip.chain(
                Clip.skipNonFinite(),
                Clip.value(-2.0, 3.0),
                Clip.zeroOut(100.0),
                Clip.norm(2.5, 1.0, Scope.PARAMETER),
                Clip.chain(Clip.layerNorm(5.0), Clip.norm(0.5, Double.POSITIVE_INFINITY, Scope.PARAMETER)),
                Clip.globalNorm(1.0));
    }
}
