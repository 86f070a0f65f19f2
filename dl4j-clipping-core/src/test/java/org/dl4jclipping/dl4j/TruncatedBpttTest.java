package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dl4jclipping.dl4j.NetworkTestSupport.assertBitIdentical;
import static org.dl4jclipping.testing.Networks.TBPTT_BATCH;
import static org.dl4jclipping.testing.Networks.TBPTT_LENGTH;
import static org.dl4jclipping.testing.Networks.TBPTT_T;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Scope;
import org.dl4jclipping.testing.Networks;
import org.dl4jclipping.testing.ReferenceClipping;
import org.dl4jclipping.testing.UnclippedGradient;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Clipping under truncated BPTT ({@link Networks#lstmTbptt}: LSTM -> RnnOutputLayer, forward = backward = 5,
 * T = 12, minibatch 3). DL4J makes one parameter update per segment (lengths 5, 5, 2), so one {@code fit} is three
 * clipping steps, each on the segment's gradient summed over the 3 sequences and divided by 3 (DL4J's
 * {@code model.batchSize()} is the number of sequences in every segment). DL4J's built-in normalization also runs
 * once per segment, so the per-step strategies agree with it after the whole fit: value exactly (1e-12), layer
 * norm up to our eps (every element within 1e-5 of the largest update).
 *
 * <p>Masked time steps (feature and label masks) contribute exactly nothing: huge features (1e6) in a sequence's
 * masked tail give bit-identical parameters to zeros there.
 */
class TruncatedBpttTest {

    /** Records {@code model.batchSize()} each time the gradient of a step is ready (the divisor the clipping uses). */
    private static final class BatchSizes extends BaseTrainingListener {
        final List<Integer> sizes = new ArrayList<>();

        @Override
        public void onGradientCalculation(Model model) {
            sizes.add(model.batchSize());
        }
    }

    private static Networks.Fixture withStrategy(ClipStrategy strategy) {
        return Networks.lstmTbptt(lr -> new ClippingUpdater(new Sgd(lr), strategy));
    }

    /** The unclipped mean gradient of the first segment (time steps 0..4; the LSTM starts from a zero state). */
    private static UnclippedGradient firstSegment(Networks.Fixture f) {
        DataSet all = f.data();
        DataSet seg = new DataSet(
                all.getFeatures().get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, TBPTT_LENGTH)),
                all.getLabels().get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, TBPTT_LENGTH)));
        return UnclippedGradient.of(new Networks.Fixture("first segment", f.model(), seg, null));
    }

    @Test
    void fit_oneDataSet_makesThreeClippingSteps_eachDividedByTheThreeSequences() {
        Networks.Fixture f = withStrategy(Clip.globalNorm(0.01));
        UnclippedGradient first = firstSegment(f);
        double firstNorm = ReferenceClipping.groupNorm(first.gradients(),
                ReferenceClipping.groups(Scope.GLOBAL, first.layerOf()).get(0), 2.0);
        ClipHistory history = new ClipHistory(10);
        BatchSizes sizes = new BatchSizes();
        f.model().addListeners(sizes, new ClippingListener(history));

        f.fit();

        assertThat(history.recorded()).isEqualTo(3);
        assertThat(history.steps()).extracting(ClipHistory.Step::iteration).containsExactly(0L, 1L, 2L);
        assertThat(sizes.sizes).as("batch divisor of each segment step").containsExactly(3, 3, 3);
        // the first step's norm is the norm of the first segment's summed gradient / 3 (a divisor of 1 would make
        // it 3 times larger)
        assertThat(history.steps().get(0).normBefore()).isCloseTo(firstNorm,
                org.assertj.core.data.Offset.offset(1e-9 * firstNorm));
        assertThat(history.steps()).allSatisfy(s -> assertThat(s.minScale()).isLessThan(1.0));
    }

    @Test
    void value_underTbptt_equalsDl4jClipElementWiseAbsoluteValue_to1e12() {
        Networks.Fixture probe = Networks.lstmTbptt(Sgd::new);
        double[][] g = firstSegment(probe).gradients();
        // a tenth of the first segment's largest element: small enough to clip in the short last segment too
        double c = 0.1 * ReferenceClipping.groupNorm(g, all(g.length), Double.POSITIVE_INFINITY);
        Networks.Fixture ours = withStrategy(Clip.value(c));
        ClipHistory history = new ClipHistory(10);
        ours.model().addListeners(new ClippingListener(history));
        Networks.Fixture dl4j = Networks.lstmTbptt(Sgd::new);
        NetworkTestSupport.useDl4jNormalization(dl4j.model(), GradientNormalization.ClipElementWiseAbsoluteValue, c);

        ours.fit();
        dl4j.fit();
        probe.fit(); // unclipped

        assertThat(history.recorded()).isEqualTo(3);
        assertThat(history.steps()).allSatisfy(s -> assertThat(s.clipped()).isPositive());
        assertThat(NetworkTestSupport.maxAbsDiff(ours.model().params(), dl4j.model().params()))
                .isLessThanOrEqualTo(1e-12);
        assertThat(NetworkTestSupport.maxAbsDiff(dl4j.model().params(), probe.model().params()))
                .as("DL4J's clipping really changed the fit").isGreaterThan(1e-3);
    }

    @Test
    void layerNorm_underTbptt_equalsDl4jClipL2PerLayer_toRelative1e5() {
        Networks.Fixture probe = Networks.lstmTbptt(Sgd::new);
        INDArray before = probe.model().params().dup();
        UnclippedGradient u = firstSegment(probe);
        double[][] g = u.gradients();
        double[] layerNorms = ReferenceClipping.groups(Scope.LAYER, u.layerOf()).stream()
                .mapToDouble(group -> ReferenceClipping.groupNorm(g, group, 2.0)).toArray();
        double t = 0.25 * Arrays.stream(layerNorms).min().orElseThrow();
        Networks.Fixture ours = withStrategy(Clip.layerNorm(t));
        ClipHistory history = new ClipHistory(10);
        ours.model().addListeners(new ClippingListener(history));
        Networks.Fixture dl4j = Networks.lstmTbptt(Sgd::new);
        NetworkTestSupport.useDl4jNormalization(dl4j.model(), GradientNormalization.ClipL2PerLayer, t);

        ours.fit();
        dl4j.fit();

        assertThat(history.recorded()).isEqualTo(3);
        assertThat(history.steps()).allSatisfy(s -> assertThat(s.minScale()).isLessThan(1.0));
        // Each step's relative difference is eps / n for a clipped layer of norm n (t / (n + eps) against t / n):
        // at most 1.5e-6 / n here. Over three steps an element's updates can cancel (one element's total update
        // here is 4e-4, a tenth of a typical step's), and the second and third steps start from parameters that
        // already differ at that level, so the comparison is norm-wise: every element within 1e-5 of the largest
        // update, which holds when the eps term is the only difference.
        double minLayerNorm = history.steps().stream().flatMapToDouble(s -> Arrays.stream(s.layerNormBefore()))
                .min().orElseThrow();
        assertThat(1e-6 / minLayerNorm).as("eps / n, smallest layer norm %s", minLayerNorm).isLessThan(1e-5);
        double[] b = NetworkTestSupport.values(before);
        double[] o = NetworkTestSupport.values(ours.model().params());
        double[] d = NetworkTestSupport.values(dl4j.model().params());
        double largest = 0;
        for (int k = 0; k < b.length; k++) {
            largest = Math.max(largest, Math.abs(o[k] - b[k]));
        }
        assertThat(largest).as("the fit moved the parameters").isGreaterThan(1e-3);
        for (int k = 0; k < b.length; k++) {
            double uo = o[k] - b[k];
            double ud = d[k] - b[k];
            assertThat(Math.abs(uo - ud)).as("element %d: update ours %s, DL4J %s", k, uo, ud)
                    .isLessThanOrEqualTo(1e-5 * largest);
        }
    }

    /** Sequence lengths 12, 9 and 6: the masked tails reach into segments 2 and 3. */
    private static DataSet masked(DataSet base, double tailValue) {
        int[] lengths = {TBPTT_T, 9, 6};
        INDArray features = base.getFeatures().dup();
        INDArray mask = Nd4j.ones(DataType.DOUBLE, TBPTT_BATCH, TBPTT_T);
        for (int i = 0; i < TBPTT_BATCH; i++) {
            for (int s = lengths[i]; s < TBPTT_T; s++) {
                mask.putScalar(i, s, 0.0);
                for (int j = 0; j < features.size(1); j++) {
                    features.putScalar(new int[] {i, j, s}, tailValue);
                }
            }
        }
        return new DataSet(features, base.getLabels(), mask, mask.dup());
    }

    @Test
    void maskedTimeSteps_contributeNothing_hugeValuesInMaskedTailGiveBitIdenticalParameters() {
        ClipStrategy strategy = Clip.chain(Clip.skipNonFinite(), Clip.globalNorm(0.01));
        Networks.Fixture zeros = withStrategy(strategy);
        Networks.Fixture huge = withStrategy(strategy);
        Networks.Fixture hugeUnmasked = withStrategy(strategy);
        ClipHistory zerosHistory = new ClipHistory(10);
        ClipHistory hugeHistory = new ClipHistory(10);
        zeros.model().addListeners(new ClippingListener(zerosHistory));
        huge.model().addListeners(new ClippingListener(hugeHistory));
        hugeUnmasked.model().addListeners(new ClippingListener());
        DataSet withHuge = masked(zeros.data(), 1e6);

        ((MultiLayerNetwork) zeros.model()).fit(masked(zeros.data(), 0.0));
        ((MultiLayerNetwork) huge.model()).fit(withHuge);
        ((MultiLayerNetwork) hugeUnmasked.model()).fit(new DataSet(withHuge.getFeatures(), withHuge.getLabels()));

        assertThat(hugeHistory.recorded()).isEqualTo(3);
        assertThat(hugeHistory.steps()).allSatisfy(s -> assertThat(s.minScale()).isLessThan(1.0));
        assertThat(hugeHistory.steps()).extracting(ClipHistory.Step::normBefore)
                .containsExactlyElementsOf(zerosHistory.steps().stream().map(ClipHistory.Step::normBefore).toList());
        assertBitIdentical(huge.model().params(), zeros.model().params(), "masked tail 1e6 vs 0");
        assertThat(NetworkTestSupport.maxAbsDiff(hugeUnmasked.model().params(), zeros.model().params()))
                .as("without the masks the 1e6 values do change the fit").isGreaterThan(1e-6);
    }

    private static int[] all(int n) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        return a;
    }
}
