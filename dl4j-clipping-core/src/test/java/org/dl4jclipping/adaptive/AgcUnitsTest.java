package org.dl4jclipping.adaptive;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.dl4jclipping.Clip;
import org.dl4jclipping.dl4j.ClippingListener;
import org.dl4jclipping.dl4j.ClippingUpdater;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.testing.Networks;
import org.dl4jclipping.testing.UnclippedGradient;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Defect 6 of issue 13: a Dense layer with {@code nIn = 1} (the {@code classify} example has one input feature)
 * has a {@code [1, nOut]} weight. AGC read units from the shape and took one norm over the whole weight, scaling
 * every element by one factor. Units now come from DL4J's parameter key: the weight has {@code nOut = 8} units
 * (one element each), the bias one.
 *
 * <p>Network: Dense(1 -> 8, tanh) -> Output(8 -> 2, softmax), Sgd(1), batch 6, float and double. The clip factor is
 * set between the two smallest unit ratios {@code |G_j| / max(|W_j|, eps)} of the layer-0 weight, so exactly 7 of
 * its 8 units clip, each by its own factor {@code lambda * |W_j| / |G_j|} (the reference, {@link AdaptiveReference#agc},
 * by units of what the parameter is); the update of each element is minus that, to 1e-6 relative (plus a float
 * ulp of the parameter in float, as in the exactness matrix).
 */
class AgcUnitsTest {

    private static Networks.Fixture net(DataType type, IUpdater updater) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).dataType(type)
                .weightInit(WeightInit.XAVIER).updater(updater).list()
                .layer(new DenseLayer.Builder().nIn(1).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork n = new MultiLayerNetwork(conf);
        n.init();
        Nd4j.getRandom().setSeed(6);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 6, 1).muli(2).castTo(type);
        INDArray y = Nd4j.zeros(type, 6, 2);
        for (int i = 0; i < 6; i++) {
            y.putScalar(i, i % 2, 1.0);
        }
        return new Networks.Fixture("Dense(1->8)", n, new DataSet(x, y), null);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void agc_denseWithOneInput_clipsEachOfItsNOutUnits(DataType type) {
        Networks.Fixture plain = net(type, new Sgd(1.0));
        UnclippedGradient u = UnclippedGradient.of(plain);
        UnclippedGradient.Param w = u.params.get(0);
        assertThat(w.key()).isEqualTo("0_W");
        double eps = 1e-3;
        double[] ratio = new double[8];
        for (int j = 0; j < 8; j++) {
            ratio[j] = Math.abs(w.meanGradient()[j]) / Math.max(Math.abs(w.values()[j]), eps);
        }
        double[] sorted = ratio.clone();
        Arrays.sort(sorted);
        double lambda = Math.sqrt(sorted[0] * sorted[1]); // between the two smallest: 7 units clip
        ClipStrategy agc = Clip.agc(lambda);
        AdaptiveReference.AgcResult expected = AdaptiveReference.agc(w.values(), w.meanGradient(), new long[] {1, 8},
                true, lambda, eps);
        assertThat(expected.clippedUnits()).as("7 of 8 units clip").isEqualTo(7);

        Networks.Fixture clipped = net(type, new ClippingUpdater(new Sgd(1.0), agc));
        clipped.model().addListeners(new ClippingListener());
        clipped.fit();

        double[] after = UnclippedGradient.paramValues(clipped.model(), "0_W");
        int unitsScaled = 0;
        for (int j = 0; j < 8; j++) {
            double actual = after[j] - w.values()[j];
            double exp = -expected.gradient()[j];
            double storage = type == DataType.FLOAT ? Math.ulp((float) after[j]) : 1e-15;
            assertThat(Math.abs(actual - exp)).as("%s unit %d: update %s, expected %s", type, j, actual, exp)
                    .isLessThanOrEqualTo(1e-6 * Math.abs(exp) + storage);
            unitsScaled += Math.abs(actual) < Math.abs(w.meanGradient()[j]) * (1 - 1e-4) ? 1 : 0;
        }
        assertThat(unitsScaled).as("units whose update is smaller than the raw gradient").isEqualTo(7);
    }
}
