package org.dl4jclipping.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Scope;
import org.dl4jclipping.testing.Networks;
import org.dl4jclipping.testing.ReferenceClipping;
import org.dl4jclipping.testing.UnclippedGradient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.Sgd;
import org.slf4j.LoggerFactory;

/**
 * What a {@link ClippingListener} reports through {@link ClipHistory} and {@link ClipLogger}, on the MLP of
 * {@link Networks} (3 layers) with {@code Clip.globalNorm(0.1)} and {@code Sgd(0.1)}, 8 fits of its minibatch:
 * <ul>
 * <li>a {@code ClipHistory(5)} keeps the last 5 steps (iterations 3..7: the iteration is the network's iteration
 * count when the gradient is ready, 0 for the first fit) and counts all 8;</li>
 * <li>each step's global norm before clipping is the global L2 norm of that step's unclipped mean gradient, read
 * independently with {@link UnclippedGradient} before the fit and normed with {@link ReferenceClipping}
 * (1e-9 relative), and the norm after is {@code 0.1 * n / (n + 1e-6)};</li>
 * <li>{@code writeCsv} writes the header {@code iteration,norm_before,norm_after,min_scale,clipped,zeroed,
 * non_finite,skipped,skipped_by_spike,threshold} (no adaptive strategy here: threshold NaN) followed by {@code before:<layer>} and {@code after:<layer>} for DL4J's layer names
 * {@code layer0..layer2}, then one row per kept step;</li>
 * <li>a {@code ClipLogger(2)} logs steps 0, 2, 4 and 6 at INFO: 4 lines for 8 steps.</li>
 * </ul>
 */
class ClipReportingTest {

    private static final double T = 0.1;

    @Test
    void historyAndLogger_afterEightFits_keepLastFiveStepsWithReferenceNorms(@TempDir Path dir) throws Exception {
        ClipStrategy strategy = Clip.globalNorm(T);
        Networks.Fixture f = Networks.mlp(lr -> new ClippingUpdater(new Sgd(0.1), strategy));
        ClipHistory history = new ClipHistory(5);
        ClipHistory all = new ClipHistory(100);
        f.model().addListeners(new ClippingListener(history, all, new ClipLogger(2)));
        Logger logger = (Logger) LoggerFactory.getLogger(ClipLogger.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        List<Double> referenceNorms = new ArrayList<>();
        List<double[]> referenceLayerNorms = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                UnclippedGradient u = UnclippedGradient.of(f);
                double[][] g = u.gradients();
                referenceNorms.add(ReferenceClipping.groupNorm(g,
                        ReferenceClipping.groups(Scope.GLOBAL, u.layerOf()).get(0), 2.0));
                referenceLayerNorms.add(ReferenceClipping.groups(Scope.LAYER, u.layerOf()).stream()
                        .mapToDouble(group -> ReferenceClipping.groupNorm(g, group, 2.0)).toArray());
                f.fit();
            }
        } finally {
            logger.detachAppender(logged);
        }

        assertThat(history.recorded()).isEqualTo(8);
        assertThat(history.steps()).extracting(ClipHistory.Step::iteration).containsExactly(3L, 4L, 5L, 6L, 7L);
        assertThat(history.layers()).containsExactly("layer0", "layer1", "layer2");
        assertThat(history.steps()).allSatisfy(s -> {
            assertThat(s.layerNormBefore()).hasSize(3);
            assertThat(s.layerNormAfter()).hasSize(3);
            assertThat(s.skipped()).isFalse();
        });
        assertThat(history.normsBefore()).hasSize(5);
        assertThat(history.clippedSteps()).isEqualTo(5);

        // every step, the first one included (kept by the larger history), against the reference
        assertThat(all.steps()).hasSize(8);
        for (int i = 0; i < 8; i++) {
            ClipHistory.Step s = all.steps().get(i);
            double n = referenceNorms.get(i);
            assertThat(n).as("step %d really clips", i).isGreaterThan(T);
            assertThat(s.iteration()).isEqualTo(i);
            assertThat(s.normBefore()).as("step %d norm before", i)
                    .isCloseTo(n, org.assertj.core.data.Offset.offset(1e-9 * n));
            assertThat(s.normAfter()).as("step %d norm after", i)
                    .isCloseTo(T * n / (n + 1e-6), org.assertj.core.data.Offset.offset(1e-9 * T));
            assertThat(s.minScale()).isCloseTo(T / (n + 1e-6), org.assertj.core.data.Offset.offset(1e-9));
            for (int l = 0; l < 3; l++) {
                double ln = referenceLayerNorms.get(i)[l];
                assertThat(s.layerNormBefore()[l]).as("step %d layer %d", i, l)
                        .isCloseTo(ln, org.assertj.core.data.Offset.offset(1e-9 * ln));
            }
            if (i >= 3) {
                assertThat(history.normsBefore()[i - 3]).isEqualTo(s.normBefore());
            }
        }

        Path csv = dir.resolve("clip.csv");
        history.writeCsv(csv);
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(6);
        assertThat(lines.get(0)).isEqualTo("iteration,norm_before,norm_after,min_scale,clipped,zeroed,non_finite,"
                + "skipped,skipped_by_spike,threshold,before:layer0,before:layer1,before:layer2,after:layer0,after:layer1,after:layer2");
        for (int r = 1; r <= 5; r++) {
            String[] cells = lines.get(r).split(",");
            assertThat(cells).hasSize(16);
            assertThat(cells[0]).isEqualTo(String.valueOf(r + 2));
            assertThat(Double.parseDouble(cells[1])).isCloseTo(referenceNorms.get(r + 2),
                    org.assertj.core.data.Offset.offset(1e-8 * referenceNorms.get(r + 2)));
            assertThat(cells[7]).isEqualTo("false");
            assertThat(cells[8]).isEqualTo("false");
            assertThat(cells[9]).isEqualTo("NaN");
        }

        assertThat(logged.list).hasSize(4).allSatisfy(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.INFO);
            assertThat(e.getFormattedMessage()).contains("gradient norm");
        });
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
                .allSatisfy(m -> assertThat(m).containsPattern("^iteration [0246]: "));
    }
}
