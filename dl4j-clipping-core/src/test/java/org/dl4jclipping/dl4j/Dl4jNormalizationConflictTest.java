package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jclipping.Clip;
import org.dl4jclipping.testing.Networks;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Defect 7 of issue 13: DL4J's own {@code GradientNormalization} on a layer that a {@link ClippingUpdater} also
 * clips was applied silently after ours (with ClipElementWiseAbsoluteValue and {@code globalNorm(1.0)} the report
 * said 1.0 after clipping, the update applied had norm 0.18). The first fit now fails, naming the layer and both
 * settings and saying what to remove, before anything is applied. DL4J's normalization on a layer we do not clip
 * stays allowed.
 */
class Dl4jNormalizationConflictTest {

    @Test
    void dl4jGradientNormalization_onAClippedLayer_failsTheFirstFitNamingBoth() {
        Networks.Fixture f = Networks.mlp(lr -> new ClippingUpdater(new Sgd(lr), Clip.globalNorm(1.0)));
        NetworkTestSupport.useDl4jNormalization(f.model(), GradientNormalization.ClipElementWiseAbsoluteValue, 0.5);
        f.model().addListeners(new ClippingListener());
        INDArray before = f.model().params().dup();

        Throwable t = catchThrowable(f::fit);

        IllegalStateException e = NetworkTestSupport.causeOfType(t, IllegalStateException.class);
        assertThat(e).as("%s", t).isNotNull();
        assertThat(e.getMessage()).contains("Layer 'layer0'", "ClipElementWiseAbsoluteValue", "threshold 0.5",
                "ClippingUpdater", "norm[", "Remove .gradientNormalization(");
        NetworkTestSupport.assertBitIdentical(f.model().params(), before, "parameters after the refused fit");
    }

    @Test
    void dl4jGradientNormalization_onAPlainLayer_isAllowed() {
        var conf = new NeuralNetConfiguration.Builder().seed(1).updater(new Sgd(0.1)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH)
                        .gradientNormalization(GradientNormalization.ClipElementWiseAbsoluteValue)
                        .gradientNormalizationThreshold(0.5).build())
                .layer(new DenseLayer.Builder().nIn(5).nOut(6).activation(Activation.TANH)
                        .updater(new ClippingUpdater(new Sgd(0.1), Clip.globalNorm(1.0))).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(6).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        net.setListeners(new ClippingListener());
        INDArray before = net.params().dup();
        net.fit(PartialRulesSafetyTest.batch(net.params().dataType(), 3, false).getFeatures(),
                Nd4j.eye(3).castTo(net.params().dataType()).repeat(0, 3).get(
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 8), org.nd4j.linalg.indexing.NDArrayIndex.all()));
        assertThat(NetworkTestSupport.maxAbsDiff(net.params(), before)).isPositive();
    }
}
