package org.dl4jclipping.rnn.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClipHistory;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.rnn.GruTestData;
import org.dl4jclipping.rnn.conf.GRU;
import org.dl4jclipping.rnn.conf.NativeLSTM;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;

/** The three sequence-model builders: structure, defaults, validation, JSON, one fit each, the listener. */
class SequenceModelBuildersTest {

    // ---- CharLanguageModel

    @ParameterizedTest
    @EnumSource(Cell.class)
    void charLanguageModel_fitsOneMinibatch_withTbptt_oneClipStepPerSegment(Cell cell) {
        ClipHistory history = new ClipHistory(100);
        MultiLayerNetwork net = CharLanguageModel.builder().vocabularySize(5).cell(cell).width(4).depth(2)
                .tbpttLength(3).dropout(0.1).network(history);
        assertHasClippingListener(net);
        assertThat(net.getLayers()).hasSize(3);
        assertThat(layer(net, 0)).isInstanceOf(recurrentClass(cell));
        assertThat(layer(net, 1)).isInstanceOf(recurrentClass(cell));
        assertThat(layer(net, 2)).isInstanceOf(RnnOutputLayer.class);
        assertThat(net.getLayerWiseConfigurations().getBackpropType()).isEqualTo(BackpropType.TruncatedBPTT);
        assertThat(net.getLayerWiseConfigurations().getTbpttFwdLength()).isEqualTo(3);
        assertThat(net.getLayerWiseConfigurations().getTbpttBackLength()).isEqualTo(3);

        INDArray before = net.params().dup();
        int t = 7;
        net.fit(new DataSet(oneHot(2, 5, t, 0), oneHot(2, 5, t, 1)));
        assertThat(net.params()).isNotEqualTo(before);
        assertThat(history.recorded()).as("segments of 3, 3, 1 steps").isEqualTo(3);
        INDArray out = net.output(oneHot(2, 5, t, 0));
        assertThat(out.shape()).containsExactly(2, 5, t);
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void charLanguageModel_withEmbedding_takesIndices(Cell cell) {
        MultiLayerNetwork net = CharLanguageModel.builder().vocabularySize(6).embedding(3).cell(cell).width(4)
                .depth(1).tbpttLength(4).network();
        assertThat(layer(net, 0)).isInstanceOf(EmbeddingSequenceLayer.class);
        assertThat(layer(net, 1)).isInstanceOf(recurrentClass(cell));
        int t = 6;
        INDArray indices = Nd4j.create(DataType.FLOAT, 2, 1, t);
        for (int b = 0; b < 2; b++) {
            for (int s = 0; s < t; s++) {
                indices.putScalar(new int[] {b, 0, s}, (b + s) % 6);
            }
        }
        INDArray before = net.params().dup();
        net.fit(new DataSet(indices, oneHot(2, 6, t, 1)));
        assertThat(net.params()).isNotEqualTo(before);
        assertThat(net.output(indices).shape()).containsExactly(2, 6, t);
    }

    @Test
    void charLanguageModel_defaults() {
        CharLanguageModel.Builder b = CharLanguageModel.builder();
        assertThat(b.getCell()).isEqualTo(Cell.LSTM);
        assertThat(b.getWidth()).isEqualTo(256);
        assertThat(b.getDepth()).isEqualTo(2);
        assertThat(b.getTbpttLength()).isEqualTo(64);
        assertThat(b.getEmbedding()).isZero();
        assertThat(b.getVocabularySize()).isZero();
        assertThat(b.getClip()).isEqualTo(Clip.globalNorm(1.0));
        assertThat(b.getUpdater()).isEqualTo(new Adam(2e-3));
        assertThat(b.getSeed()).isEqualTo(42L);
        assertThat(b.getDropout()).isZero();
        assertThat(b.getDataType()).isEqualTo(DataType.FLOAT);

        MultiLayerConfiguration conf = b.vocabularySize(65).build();
        assertThat(conf.getConfs()).hasSize(3);
        NativeLSTM lstm = (NativeLSTM) conf.getConf(0).getLayer();
        assertThat(lstm.getNIn()).isEqualTo(65);
        assertThat(lstm.getNOut()).isEqualTo(256);
        assertThat(lstm.getIUpdater()).isEqualTo(new ClippingUpdater(new Adam(2e-3), Clip.globalNorm(1.0)));
        assertThat(lstm.getIDropout()).isNull();
        RnnOutputLayer out = (RnnOutputLayer) conf.getConf(2).getLayer();
        assertThat(out.getNIn()).isEqualTo(256);
        assertThat(out.getNOut()).isEqualTo(65);
        assertThat(conf.getTbpttFwdLength()).isEqualTo(64);
        assertThat(conf.getConf(0).getSeed()).isEqualTo(42L);
        assertThat(conf.getDataType()).isEqualTo(DataType.FLOAT);
    }

    @Test
    void charLanguageModel_tbpttZero_isFullBptt() {
        MultiLayerConfiguration conf = CharLanguageModel.builder().vocabularySize(5).tbpttLength(0).build();
        assertThat(conf.getBackpropType()).isEqualTo(BackpropType.Standard);
    }

    // ---- TimeSeriesForecaster

    static Stream<Arguments> cellsAndHorizons() {
        return Stream.of(Cell.values()).flatMap(c -> Stream.of(Arguments.of(c, 1), Arguments.of(c, 3)));
    }

    @ParameterizedTest
    @MethodSource("cellsAndHorizons")
    void forecaster_fitsOneMinibatch(Cell cell, int horizon) {
        ClipHistory history = new ClipHistory(10);
        MultiLayerNetwork net = TimeSeriesForecaster.builder().features(2).horizon(horizon).cell(cell).width(4)
                .depth(2).network(history);
        assertHasClippingListener(net);
        assertThat(layer(net, 0)).isInstanceOf(recurrentClass(cell));
        assertThat(layer(net, 1)).isInstanceOf(LastTimeStep.class);
        assertThat(((LastTimeStep) layer(net, 1)).getUnderlying()).isInstanceOf(recurrentClass(cell));
        OutputLayer out = (OutputLayer) layer(net, 2);
        assertThat(out.getNOut()).isEqualTo(2L * horizon);

        INDArray x = GruTestData.input(DataType.FLOAT, 3, 2, 6, 0.0);
        INDArray targets = GruTestData.input(DataType.FLOAT, 3, 2, horizon, 0.5);
        INDArray before = net.params().dup();
        net.fit(new DataSet(x, TimeSeriesForecaster.flatten(targets)));
        assertThat(net.params()).isNotEqualTo(before);
        assertThat(history.recorded()).isEqualTo(1);
        INDArray forecast = TimeSeriesForecaster.unflatten(net.output(x), 2);
        assertThat(forecast.shape()).containsExactly(3, 2, horizon);
    }

    @Test
    void forecaster_flattenIsStepMajor_andUnflattenInvertsIt() {
        INDArray targets = Nd4j.create(DataType.DOUBLE, 2, 3, 4); // [mb, features, horizon]
        for (int b = 0; b < 2; b++) {
            for (int f = 0; f < 3; f++) {
                for (int s = 0; s < 4; s++) {
                    targets.putScalar(new int[] {b, f, s}, 100 * b + 10 * f + s);
                }
            }
        }
        INDArray flat = TimeSeriesForecaster.flatten(targets);
        assertThat(flat.shape()).containsExactly(2, 12);
        assertThat(flat.getDouble(1, 2 * 3 + 1)).isEqualTo(100 + 10 + 2); // step 2, feature 1
        assertThat(TimeSeriesForecaster.unflatten(flat, 3)).isEqualTo(targets);
        assertThatThrownBy(() -> TimeSeriesForecaster.unflatten(flat, 5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("features = 5");
    }

    @Test
    void forecaster_defaults() {
        TimeSeriesForecaster.Builder b = TimeSeriesForecaster.builder();
        assertThat(b.getHorizon()).isEqualTo(1);
        assertThat(b.getFeatures()).isZero();
        assertCommonDefaults(b);
        MultiLayerConfiguration conf = b.features(3).build();
        assertThat(conf.getConfs()).hasSize(2);
        assertThat(conf.getBackpropType()).isEqualTo(BackpropType.Standard);
        assertThat(((OutputLayer) conf.getConf(1).getLayer()).getNOut()).isEqualTo(3);
        assertThat(((LastTimeStep) conf.getConf(0).getLayer()).getUnderlying()).isInstanceOf(NativeLSTM.class);
    }

    // ---- SequenceClassifier

    static Stream<Arguments> cellsAndPoolings() {
        return Stream.of(Cell.values()).flatMap(c -> Stream.of(Pooling.values()).map(p -> Arguments.of(c, p)));
    }

    @ParameterizedTest
    @MethodSource("cellsAndPoolings")
    void classifier_fitsOneMaskedMinibatch_andHonoursTheMask(Cell cell, Pooling pooling) {
        ClipHistory history = new ClipHistory(10);
        MultiLayerNetwork net = SequenceClassifier.builder().features(3).classes(4).pooling(pooling).cell(cell)
                .width(5).depth(2).dataType(DataType.DOUBLE).network(history);
        assertHasClippingListener(net);
        int poolAt = pooling == Pooling.LAST ? 1 : 2;
        assertThat(layer(net, poolAt)).isInstanceOf(pooling == Pooling.LAST ? LastTimeStep.class
                : GlobalPoolingLayer.class);

        // Sequence 0 has 4 real steps, padded to 6 with huge values that the mask must hide.
        int t = 6;
        INDArray x = GruTestData.input(DataType.DOUBLE, 2, 3, t, 0.0);
        INDArray mask = Nd4j.ones(DataType.DOUBLE, 2, t);
        for (int s = 4; s < t; s++) {
            mask.putScalar(0, s, 0.0);
            for (int f = 0; f < 3; f++) {
                x.putScalar(new int[] {0, f, s}, 1e3 * (f + 1));
            }
        }
        INDArray masked = net.output(x, false, mask, null);
        INDArray shortSeq = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1),
                org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4)).dup();
        INDArray alone = net.output(shortSeq);
        for (int c = 0; c < 4; c++) {
            // 1e-8: the two forward passes run different GEMM shapes (batch 2 vs 1); the masked huge values
            // (1e3) would move the outputs by far more
            assertThat(masked.getDouble(0, c)).isCloseTo(alone.getDouble(0, c),
                    org.assertj.core.data.Offset.offset(1e-8));
        }

        DataSet ds = new DataSet(x, GruTestData.labels(DataType.DOUBLE, 2, 4), mask, null);
        INDArray before = net.params().dup();
        net.fit(ds);
        assertThat(net.params()).isNotEqualTo(before);
        assertThat(history.recorded()).isEqualTo(1);
        assertThat(net.output(x, false, mask, null).shape()).containsExactly(2, 4);
    }

    @Test
    void classifier_defaults() {
        SequenceClassifier.Builder b = SequenceClassifier.builder();
        assertThat(b.getPooling()).isEqualTo(Pooling.LAST);
        assertThat(b.getFeatures()).isZero();
        assertThat(b.getClasses()).isZero();
        assertCommonDefaults(b);
        MultiLayerConfiguration conf = b.features(3).classes(2).build();
        assertThat(conf.getConfs()).hasSize(2);
        assertThat(((LastTimeStep) conf.getConf(0).getLayer()).getUnderlying()).isInstanceOf(NativeLSTM.class);
        assertThat(((OutputLayer) conf.getConf(1).getLayer()).getNOut()).isEqualTo(2);
    }

    // ---- shared behaviour

    static Stream<Arguments> allBuilders() {
        return Stream.of(
                Arguments.of("CharLanguageModel-LSTM", (Supplier<SequenceModelBuilder<?>>) () ->
                        CharLanguageModel.builder().vocabularySize(5).width(4).tbpttLength(3).embedding(0)),
                Arguments.of("CharLanguageModel-GRU-embedding", (Supplier<SequenceModelBuilder<?>>) () ->
                        CharLanguageModel.builder().vocabularySize(5).width(4).embedding(3).cell(Cell.GRU)),
                Arguments.of("TimeSeriesForecaster-GRU", (Supplier<SequenceModelBuilder<?>>) () ->
                        TimeSeriesForecaster.builder().features(2).horizon(3).width(4).depth(2).cell(Cell.GRU)),
                Arguments.of("SequenceClassifier-LSTM-MEAN", (Supplier<SequenceModelBuilder<?>>) () ->
                        SequenceClassifier.builder().features(2).classes(3).width(4).pooling(Pooling.MEAN)),
                Arguments.of("SequenceClassifier-GRU-MAX", (Supplier<SequenceModelBuilder<?>>) () ->
                        SequenceClassifier.builder().features(2).classes(3).width(4).pooling(Pooling.MAX)
                                .cell(Cell.GRU).dropout(0.2).clip(Clip.value(0.5)).updater(new Sgd(0.1))),
                Arguments.of("SequenceClassifier-GRU-LAST", (Supplier<SequenceModelBuilder<?>>) () ->
                        SequenceClassifier.builder().features(2).classes(3).width(4).depth(3).cell(Cell.GRU)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allBuilders")
    void configuration_roundTripsThroughJson(String name, Supplier<SequenceModelBuilder<?>> builder) {
        MultiLayerConfiguration conf = builder.get().build();
        MultiLayerConfiguration restored = MultiLayerConfiguration.fromJson(conf.toJson());
        assertThat(restored).isEqualTo(conf);
        assertThat(restored.toJson()).isEqualTo(conf.toJson());
        // and the restored configuration makes a working network with the same parameters
        MultiLayerNetwork a = new MultiLayerNetwork(conf);
        a.init();
        MultiLayerNetwork b = new MultiLayerNetwork(restored);
        b.init();
        assertThat(b.params()).isEqualTo(a.params());
    }

    /**
     * {@code privateNetwork()}: the same layers and initial parameters as {@code network()} (same seed), every layer
     * with the plain updater (no ClippingUpdater), no listener: what DP-SGD trains.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("allBuilders")
    void privateNetwork_sameLayersAndParameters_plainUpdater(String name, Supplier<SequenceModelBuilder<?>> builder) {
        SequenceModelBuilder<?> b = builder.get();
        MultiLayerNetwork clipped = b.network();
        MultiLayerNetwork plain = b.privateNetwork();
        assertThat(plain.params()).isEqualTo(clipped.params());
        assertThat(plain.getListeners()).isEmpty();
        assertThat(plain.getLayerWiseConfigurations().getConfs()).hasSameSizeAs(
                clipped.getLayerWiseConfigurations().getConfs());
        for (int i = 0; i < plain.getLayers().length; i++) {
            Layer l = plain.getLayerWiseConfigurations().getConf(i).getLayer();
            if (l instanceof LastTimeStep lts) {
                l = lts.getUnderlying();
            }
            if (l instanceof GlobalPoolingLayer) {
                continue;
            }
            assertThat(l.getClass()).isEqualTo(clipped.getLayerWiseConfigurations().getConf(i).getLayer() instanceof
                    LastTimeStep lt ? lt.getUnderlying().getClass()
                    : clipped.getLayerWiseConfigurations().getConf(i).getLayer().getClass());
            assertThat(((org.deeplearning4j.nn.conf.layers.BaseLayer) l).getIUpdater()).as("layer %d", i)
                    .isEqualTo(b.getUpdater());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allBuilders")
    void everyLayerIsClipped_withTheConfiguredStrategy(String name, Supplier<SequenceModelBuilder<?>> builder) {
        SequenceModelBuilder<?> b = builder.get();
        MultiLayerConfiguration conf = b.build();
        ClippingUpdater expected = new ClippingUpdater(b.getUpdater(), b.getClip());
        for (int i = 0; i < conf.getConfs().size(); i++) {
            Layer l = conf.getConf(i).getLayer();
            if (l instanceof LastTimeStep lts) {
                l = lts.getUnderlying();
            }
            if (l instanceof GlobalPoolingLayer) {
                continue; // no parameters
            }
            assertThat(((org.deeplearning4j.nn.conf.layers.BaseLayer) l).getIUpdater()).as("layer %d", i)
                    .isEqualTo(expected);
        }
    }

    @Test
    void dropout_isARate_onEveryLayerButTheFirst() {
        MultiLayerConfiguration conf = CharLanguageModel.builder().vocabularySize(5).width(4).depth(2)
                .dropout(0.25).build();
        assertThat(conf.getConf(0).getLayer().getIDropout()).isNull();
        assertThat(conf.getConf(1).getLayer().getIDropout())
                .isEqualTo(new org.deeplearning4j.nn.conf.dropout.Dropout(0.75));
        assertThat(conf.getConf(2).getLayer().getIDropout())
                .isEqualTo(new org.deeplearning4j.nn.conf.dropout.Dropout(0.75));
    }

    @Test
    void builders_areImmutable() {
        CharLanguageModel.Builder base = CharLanguageModel.builder().vocabularySize(5);
        CharLanguageModel.Builder gru = base.cell(Cell.GRU).width(8);
        assertThat(base.getCell()).isEqualTo(Cell.LSTM);
        assertThat(base.getWidth()).isEqualTo(256);
        assertThat(gru.getCell()).isEqualTo(Cell.GRU);
        assertThat(gru.getWidth()).isEqualTo(8);
        assertThat(gru.getVocabularySize()).isEqualTo(5);
        assertThat(gru.build().getConf(0).getLayer()).isInstanceOf(GRU.class);
        assertThat(base.build().getConf(0).getLayer()).isInstanceOf(NativeLSTM.class);

        Adam adam = new Adam(0.01);
        TimeSeriesForecaster.Builder f = TimeSeriesForecaster.builder().features(2).updater(adam);
        adam.setLearningRate(0.5); // a later change to the caller's object does not reach the builder
        assertThat(f.getUpdater()).isEqualTo(new Adam(0.01));
    }

    static Stream<Arguments> invalid() {
        CharLanguageModel.Builder lm = CharLanguageModel.builder().vocabularySize(5);
        TimeSeriesForecaster.Builder fc = TimeSeriesForecaster.builder().features(2);
        SequenceClassifier.Builder cl = SequenceClassifier.builder().features(2).classes(3);
        return Stream.of(
                bad(CharLanguageModel.builder(), "CharLanguageModel: vocabularySize = 0 is out of range: must be set, >= 2"),
                bad(lm.vocabularySize(1), "CharLanguageModel: vocabularySize = 1 is out of range: must be >= 2"),
                bad(lm.tbpttLength(-1), "CharLanguageModel: tbpttLength = -1 is out of range: must be >= 0"),
                bad(lm.embedding(-2), "CharLanguageModel: embedding = -2 is out of range: must be >= 0"),
                bad(lm.width(0), "CharLanguageModel: width = 0 is out of range: must be >= 1"),
                bad(lm.depth(0), "CharLanguageModel: depth = 0 is out of range: must be >= 1"),
                bad(lm.cell(null), "CharLanguageModel: cell is null: must be set"),
                bad(lm.clip(null), "CharLanguageModel: clip is null: must be set"),
                bad(lm.updater(null), "CharLanguageModel: updater is null: must be set"),
                bad(lm.updater(new ClippingUpdater(new Sgd(0.1), Clip.globalNorm(1))),
                        "CharLanguageModel: updater = ClippingUpdater("),
                bad(lm.dropout(1.0), "CharLanguageModel: dropout = 1.0 is out of range: must be in [0, 1)"),
                bad(lm.dropout(-0.1), "CharLanguageModel: dropout = -0.1 is out of range: must be in [0, 1)"),
                bad(lm.dropout(Double.NaN), "CharLanguageModel: dropout = NaN is out of range: must be in [0, 1)"),
                bad(lm.dataType(DataType.INT), "CharLanguageModel: dataType = INT is out of range: must be FLOAT, "
                        + "DOUBLE or HALF"),
                bad(TimeSeriesForecaster.builder(), "TimeSeriesForecaster: features = 0 is out of range: must be "
                        + "set, >= 1"),
                bad(fc.features(-3), "TimeSeriesForecaster: features = -3 is out of range: must be >= 1"),
                bad(fc.horizon(0), "TimeSeriesForecaster: horizon = 0 is out of range: must be >= 1"),
                bad(fc.width(-1), "TimeSeriesForecaster: width = -1 is out of range: must be >= 1"),
                bad(SequenceClassifier.builder().classes(3), "SequenceClassifier: features = 0 is out of range: "
                        + "must be set, >= 1"),
                bad(SequenceClassifier.builder().features(2), "SequenceClassifier: classes = 0 is out of range: "
                        + "must be set, >= 2"),
                bad(cl.classes(1), "SequenceClassifier: classes = 1 is out of range: must be >= 2"),
                bad(cl.pooling(null), "SequenceClassifier: pooling is null: must be set"));
    }

    private static Arguments bad(SequenceModelBuilder<?> builder, String message) {
        return Arguments.of(message, builder);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void build_rejectsInvalidSettings_namingFieldValueAndRange(String message, SequenceModelBuilder<?> builder) {
        assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(message);
        assertThatThrownBy(builder::network).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(message);
    }

    @Test
    void cell_makesTheLayer() {
        assertThat(Cell.LSTM.layer(3, 4)).isInstanceOf(NativeLSTM.class);
        assertThat(Cell.GRU.layer(3, 4)).isInstanceOf(GRU.class);
        assertThat(Cell.GRU.layer(3, 4).getNIn()).isEqualTo(3);
        assertThat(Cell.GRU.layer(3, 4).getNOut()).isEqualTo(4);
    }

    // ---- helpers

    private static void assertCommonDefaults(SequenceModelBuilder<?> b) {
        assertThat(b.getCell()).isEqualTo(Cell.LSTM);
        assertThat(b.getWidth()).isEqualTo(128);
        assertThat(b.getDepth()).isEqualTo(1);
        assertThat(b.getClip()).isEqualTo(Clip.globalNorm(1.0));
        assertThat(b.getUpdater()).isEqualTo(new Adam(1e-3));
        assertThat(b.getSeed()).isEqualTo(42L);
        assertThat(b.getDropout()).isZero();
        assertThat(b.getDataType()).isEqualTo(DataType.FLOAT);
    }

    private static void assertHasClippingListener(MultiLayerNetwork net) {
        assertThat(List.copyOf(net.getListeners())).anyMatch(l -> l instanceof ClippingListener);
    }

    private static Layer layer(MultiLayerNetwork net, int i) {
        return net.getLayerWiseConfigurations().getConf(i).getLayer();
    }

    private static Class<?> recurrentClass(Cell cell) {
        return switch (cell) {
            case LSTM -> NativeLSTM.class;
            case DL4J_LSTM -> LSTM.class;
            case GRU -> GRU.class;
        };
    }

    /** One-hot [mb, vocab, T]; the class of (b, t) is (b + t + shift) mod vocab. */
    private static INDArray oneHot(int mb, int vocab, int t, int shift) {
        INDArray a = Nd4j.zeros(DataType.FLOAT, mb, vocab, t);
        for (int b = 0; b < mb; b++) {
            for (int s = 0; s < t; s++) {
                a.putScalar(new int[] {b, (b + s + shift) % vocab, s}, 1.0);
            }
        }
        return a;
    }
}
