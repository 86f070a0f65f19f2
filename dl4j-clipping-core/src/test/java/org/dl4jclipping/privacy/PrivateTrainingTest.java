package org.dl4jclipping.privacy;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.dl4jclipping.privacy.PrivateNets.Case;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * DP-SGD training (privacy.md, "One step"): an empty Poisson batch takes a noise-only step and is counted; Poisson
 * batch sizes have mean {@code q N} and binomial variance; the budget stops training before the step that would
 * exceed it with parameters and updater state bit-identical to after the last step taken; a checkpoint keeps the
 * budget spent; bad configuration fails naming the field.
 */
class PrivateTrainingTest {

    /** 40 examples for the MLP of {@link PrivateNets#mlp} (4 features, 2 classes), fixed seed. */
    private static DataSet data(int n) {
        return new DataSet(PrivateNets.gaussian(DataType.DOUBLE, 11, n, 4), PrivateNets.oneHot(DataType.DOUBLE, 12,
                n, 2));
    }

    private static PrivateTraining.Builder base() {
        return PrivateTraining.builder().noiseMultiplier(1.0).maxGradNorm(1.0).sampleRate(0.25).delta(1e-5);
    }

    @Test
    void emptyBatch_takesNoiseOnlyStep_andIsCounted() {
        MultiLayerNetwork net = PrivateNets.mlp(DataType.DOUBLE, new Sgd(0.1)).net();
        INDArray before = net.params().dup();
        double[] z = DpSgdMatchesPyTorchTest.formula((int) net.numParams(), k -> Math.sin(2.1 * k + 0.4));
        PrivateTraining dp = base().noise(NoiseSource.replay(z)).build();
        DataSet empty = new DataSet(Nd4j.create(DataType.DOUBLE, 0, 4), Nd4j.create(DataType.DOUBLE, 0, 2));
        DpStepReport report = dp.step(net, empty, 40);
        // params - lr * (sigma * C * z) / (q * N) = params - 0.1 * z / 10
        double[] after = net.params().toDoubleVector();
        double[] b = before.toDoubleVector();
        for (int k = 0; k < z.length; k++) {
            assertThat(after[k]).isCloseTo(b[k] - 0.1 * (1.0 * 1.0 * z[k]) / 10.0, within(1e-15));
        }
        assertThat(report.batchSize()).isZero();
        assertThat(report.norms()).isEmpty();
        assertThat(report.fractionClipped()).isZero();
        assertThat(dp.accountant().totalSteps()).isEqualTo(1);
        assertThat(report.epsilon()).isPositive();
    }

    @Test
    void poissonSampling_sizesHaveBinomialMeanAndVariance() {
        PoissonSampling s = new PoissonSampling(data(200), 0.1, 42);
        assertThat(s.batchesPerEpoch()).isEqualTo(10);
        List<Integer> sizes = new ArrayList<>();
        for (int e = 0; e < 200; e++) {
            s.reset();
            while (s.hasNext()) {
                sizes.add(s.next().numExamples());
            }
        }
        double mean = sizes.stream().mapToInt(Integer::intValue).average().orElseThrow();
        double var = sizes.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum() / (sizes.size() - 1);
        // 2000 batches: mean 20 (standard error 0.095), variance N q (1 - q) = 18 (standard error ~0.57)
        assertThat(mean).isCloseTo(20, within(0.3));
        assertThat(var).isCloseTo(18, within(2.0));
    }

    @Test
    void poissonSampling_emptyBatches_atTheirProbability_andTrainable() {
        PoissonSampling s = new PoissonSampling(data(10), 0.05, 7);
        MultiLayerNetwork net = PrivateNets.mlp(DataType.DOUBLE, new Sgd(0.1)).net();
        PrivateTraining dp = base().sampleRate(0.05).seed(3).build();
        int empty = 0;
        int total = 0;
        for (int e = 0; e < 100; e++) {
            s.reset();
            while (s.hasNext()) {
                DataSet batch = s.next();
                total++;
                if (batch.getFeatures().size(0) == 0) {
                    empty++;
                    if (empty == 1) {
                        assertThat(dp.step(net, batch, 10).batchSize()).isZero();
                    }
                }
            }
        }
        // P(empty) = 0.95^10 = 0.5987; 2000 batches: standard error 0.011
        assertThat((double) empty / total).isCloseTo(Math.pow(0.95, 10), within(0.04));
    }

    @Test
    void budget_stopsBeforeTheExceedingStep_parametersAndUpdaterUntouched() {
        double eps3 = new PrivacyAccountant().steps(0.25, 1.0, 3).epsilon(1e-5).epsilon();
        double eps4 = new PrivacyAccountant().steps(0.25, 1.0, 4).epsilon(1e-5).epsilon();
        MultiLayerNetwork net = PrivateNets.mlp(DataType.DOUBLE, new Adam(0.01)).net();
        INDArray[] afterLast = new INDArray[2];
        PrivateTraining dp = base().seed(5).epsilonBudget((eps3 + eps4) / 2).report(r -> {
            afterLast[0] = net.params().dup();
            afterLast[1] = net.getUpdater().getStateViewArray().dup();
        }).build();
        assertThatThrownBy(() -> dp.fit(net, data(40), 10))
                .isInstanceOfSatisfying(PrivacyBudgetExceededException.class, e -> {
                    assertThat(e.stepsTaken()).isEqualTo(3);
                    assertThat(e.spent()).isEqualTo(eps3);
                    assertThat(e.next()).isEqualTo(eps4);
                })
                .hasMessageContaining("epsilonBudget");
        assertThat(net.params()).isEqualTo(afterLast[0]);
        assertThat(net.getUpdater().getStateViewArray()).isEqualTo(afterLast[1]);
        assertThat(dp.accountant().totalSteps()).isEqualTo(3);
        assertThat(net.getIterationCount()).isEqualTo(3);
    }

    @Test
    void checkpoint_keepsSpentBudget_nextEpsilonEqualsUninterruptedRun(@TempDir Path dir) throws Exception {
        MultiLayerNetwork a = PrivateNets.mlp(DataType.DOUBLE, new Adam(0.01)).net();
        PrivateTraining uninterrupted = base().seed(9).build();
        uninterrupted.fit(a, data(40), 2);

        MultiLayerNetwork b = PrivateNets.mlp(DataType.DOUBLE, new Adam(0.01)).net();
        PrivateTraining first = base().seed(9).build();
        first.fit(b, data(40), 1);
        File file = dir.resolve("private.zip").toFile();
        PrivateCheckpoint.save(b, first, file);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        assertThat(restored.params()).isEqualTo(b.params());
        PrivacyAccountant spent = PrivateCheckpoint.accountant(file);
        assertThat(spent.phases()).isEqualTo(new double[][] {{0.25, 1.0, 4}});
        PrivateTraining resumed = base().seed(10).spent(spent).build();
        resumed.fit(restored, data(40), 1);
        assertThat(resumed.spent()).isEqualTo(uninterrupted.spent());
        assertThat(resumed.accountant().totalSteps()).isEqualTo(8);
    }

    @Test
    void checkpoint_withoutBudget_refusedNamingTheFile(@TempDir Path dir) throws Exception {
        File file = dir.resolve("plain.zip").toFile();
        ModelSerializer.writeModel(PrivateNets.mlp(DataType.DOUBLE, new Sgd(0.1)).net(), file, true);
        assertThatThrownBy(() -> PrivateCheckpoint.accountant(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("plain.zip").hasMessageContaining("holds no privacy budget");
    }

    @Test
    void poissonSampling_sequencesKeepTheirMasks_andTrainOnTheFastPath() {
        Case c = PrivateNets.embeddingSequence(DataType.DOUBLE, org.deeplearning4j.nn.conf.RNNFormat.NCW);
        DataSet all = c.batch();
        PoissonSampling s = new PoissonSampling(all, 0.5, 4);
        int checked = 0;
        while (s.hasNext()) {
            DataSet batch = s.next();
            for (int r = 0; r < batch.numExamples(); r++) {
                INDArray tokens = batch.getFeatures().getRow(r);
                for (int i = 0; i < all.numExamples(); i++) {
                    if (all.getFeatures().getRow(i).equals(tokens)) {
                        assertThat(batch.getFeaturesMaskArray().getRow(r))
                                .isEqualTo(all.getFeaturesMaskArray().getRow(i));
                        assertThat(batch.getLabelsMaskArray().getRow(r))
                                .isEqualTo(all.getLabelsMaskArray().getRow(i));
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isPositive();
        List<DpStepReport> reports = new ArrayList<>();
        base().sampleRate(0.5).seed(2).report(reports::add).build().fit(c.net(), all, 3);
        assertThat(reports).hasSize(6).allSatisfy(r -> assertThat(r.fastPath()).isTrue());
    }

    @Test
    void genericPath_lstm_trainsAndReportsIt() {
        Case c = PrivateNets.lstm(DataType.DOUBLE);
        INDArray before = c.net().params().dup();
        DpStepReport r = base().seed(1).build().step(c.net(), c.batch(), 12);
        assertThat(r.fastPath()).isFalse();
        assertThat(r.batchSize()).isEqualTo(3);
        assertThat(c.net().params()).isNotEqualTo(before);
    }

    @Test
    void noise_secureByDefault_seededSaysNotPrivate() {
        PrivateTraining secure = base().build();
        assertThat(secure.noiseSource().isSecure()).isTrue();
        assertThat(secure.noiseSource().description()).startsWith("SecureRandom");
        PrivateTraining seeded = base().seed(1).build();
        assertThat(seeded.noiseSource().isSecure()).isFalse();
        assertThat(seeded.noiseSource().description()).contains("NOT private");
    }

    @Test
    void configuration_badValues_failNamingFieldValueAndRange() {
        assertThatThrownBy(() -> PrivateTraining.builder().noiseMultiplier(1).sampleRate(0.1).delta(1e-5).build())
                .hasMessageContaining("maxGradNorm is not set");
        assertThatThrownBy(() -> base().noiseMultiplier(-1).build()).hasMessageContaining("noiseMultiplier = -1.0");
        assertThatThrownBy(() -> base().sampleRate(0).build()).hasMessageContaining("sampleRate = 0.0")
                .hasMessageContaining("(0.0, 1.0]");
        assertThatThrownBy(() -> base().delta(1).build()).hasMessageContaining("delta = 1.0");
        assertThatThrownBy(() -> base().maxGradNorm(Double.NaN).build()).hasMessageContaining("maxGradNorm = NaN");
        assertThatThrownBy(() -> base().epsilonBudget(0).build()).hasMessageContaining("epsilonBudget = 0.0");
        assertThatThrownBy(() -> base().perLayerMaxGradNorms(1.0).build())
                .hasMessageContaining("perLayerMaxGradNorms.length = 1").hasMessageContaining("use maxGradNorm");
        assertThatThrownBy(() -> base().perLayerMaxGradNorms(1.0, -2).build())
                .hasMessageContaining("perLayerMaxGradNorms[1] = -2.0");
        Case c = PrivateNets.mlp(DataType.DOUBLE, new Sgd(0.1));
        assertThatThrownBy(() -> base().perLayerMaxGradNorms(1, 2).build().step(c.net(), c.batch(), 40))
                .hasMessageContaining("perLayerMaxGradNorms.length = 2")
                .hasMessageContaining("3 (layers [0, 1, 2])");
    }

    @Test
    void batchNormalization_refusedAtTheFirstStep() {
        MultiLayerNetwork net = PrivateNets.batchNorm();
        DataSet batch = new DataSet(PrivateNets.gaussian(DataType.DOUBLE, 1, 3, 4),
                PrivateNets.gaussian(DataType.DOUBLE, 2, 3, 2));
        INDArray before = net.params().dup();
        assertThatThrownBy(() -> base().build().step(net, batch, 12))
                .hasMessageContaining("layer 1 (\"bn\", BatchNormalization)");
        assertThat(net.params()).isEqualTo(before);
    }

    /**
     * The step's report in a ClipHistory (as the other strategies report): MLP, batch 6, SGD with rate 1 (so the
     * update is the gradient), q N = 6, C = the median per-example norm (3 of 6 clipped). Without noise, "before"
     * (the clipped average) equals "after" (what the updater got) equals the parameter change; with noise (sigma
     * 0.5, replayed normals) "after" is the change and differs from "before"; scale = min(1, C / (max norm + 1e-6)),
     * clipped = 3, threshold = C, one entry per layer with parameters, per-layer norms adding up in squares.
     */
    @Test
    void history_recordsClippedAverageAndNoisyGradient() {
        for (double sigma : new double[] {0.0, 0.5}) {
            Case c = PrivateNets.mlp(DataType.DOUBLE, new Sgd(1.0));
            MultiLayerNetwork net = c.net();
            double[] norms = PerExampleGradients.of(net, c.batch()).norms();
            double[] sorted = norms.clone();
            java.util.Arrays.sort(sorted);
            double clip = (sorted[2] + sorted[3]) / 2;
            double[] z = new double[(int) net.numParams()];
            java.util.Random r = new java.util.Random(9);
            for (int k = 0; k < z.length; k++) {
                z[k] = r.nextGaussian();
            }
            org.dl4jclipping.dl4j.ClipHistory history = new org.dl4jclipping.dl4j.ClipHistory(5);
            PrivateTraining dp = PrivateTraining.builder().noiseMultiplier(sigma).maxGradNorm(clip).sampleRate(0.5)
                    .delta(1e-5).noise(NoiseSource.replay(z)).history(history).build();
            INDArray before = net.params().dup();
            dp.step(net, c.batch(), 12);
            double moved = before.sub(net.params()).norm2Number().doubleValue();
            assertThat(history.steps()).hasSize(1);
            org.dl4jclipping.dl4j.ClipHistory.Step s = history.steps().get(0);
            assertThat(history.layers()).containsExactly("layer0", "layer1", "layer2");   // DL4J's default names
            assertThat(s.normAfter()).isCloseTo(moved, within(1e-12 * moved));
            if (sigma == 0) {
                assertThat(s.normBefore()).isCloseTo(moved, within(1e-12 * moved));
            } else {
                assertThat(Math.abs(s.normBefore() - s.normAfter())).isGreaterThan(1e-3);
            }
            double max = sorted[5];
            assertThat(s.minScale()).isEqualTo(Math.min(1, clip / (max + 1e-6)));
            assertThat(s.clipped()).isEqualTo(3);
            assertThat(s.threshold()).isEqualTo(clip);
            double squares = 0;
            for (double v : s.layerNormBefore()) {
                squares += v * v;
            }
            assertThat(Math.sqrt(squares)).isCloseTo(s.normBefore(), within(1e-12 * s.normBefore()));
        }
    }
}
