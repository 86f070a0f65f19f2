package org.dl4jclipping.strategy;

import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.GradientLayout;
import org.dl4jclipping.engine.Scope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our strategies against PyTorch's own numbers for {@code torch.nn.utils.clip_grad_norm_} (norm_type 2, 1, inf;
 * max_norm 1, 2.5, 0.5 that clip, and max_norm 100 that does not) and {@code clip_grad_value_(0.5)}.
 *
 * <p>Fixtures printed by {@code src/test/python/clip_fixtures.py} with <b>torch 1.13.0a0</b> (Debian's
 * python3-torch, {@code /usr/bin/python3}), pasted unchanged below. Input: three parameters of shapes [3, 4], [4]
 * and [2, 3]; element k (c order) of parameter j is {@code sin(0.7 k + j) * (j + 1) * 0.9}, computed in double
 * and, for the float32 fixtures, rounded to float. All three sit in one layer, so {@link Scope#GLOBAL} is
 * PyTorch's "total norm" (the norm of the per-tensor norms).
 *
 * <p>Element-wise agreement: 1e-12 relative for float64, 1e-6 for float32 (PyTorch accumulates float32 norms in
 * float32, we accumulate in double, so float32 results differ in the last bits).
 */
class PyTorchFixturesTest {

    private static final long[][] SHAPES = {{3, 4}, {4}, {2, 3}};
    private static final double EPS = 1e-6; // PyTorch's and ours: coef = max_norm / (total + 1e-6)

    // ---- PyTorch fixtures (torch 1.13.0a0), as printed ----
    // INPUT_D
    static final double[] INPUT_D = {
        0.0, 0.579795918513922, 0.8869047569896141, 0.7768884299839866, 0.3014893351403146, -0.31570490492065784,
        -0.784418195172229, -0.8842073513618993, -0.5681399740850894, 0.015132510435914742, 0.5912879388469102,
        0.8893514104893002, 1.5146477726542138, 1.7849966588144435, 1.2158337249920717, 0.07484519237992368,
        2.4551030524293407, 1.1539256766313404, -0.6899609754724443, -2.209348199873908, -2.68964444385677,
        -1.9049588790400582};
    // NORM_L2_1_D returned total norm 5.9431657694599505
    static final double[] NORM_L2_1_D = {
        0.0, 0.09755673044433304, 0.14923100619473384, 0.13071960793295753, 0.050728735510094165,
        -0.053120653881524114, -0.1319865697195484, -0.148777139471428, -0.09559549582296438, 0.0025462032318655293,
        0.09949038312122613, 0.1496426812485551, 0.254855337467141, 0.3003443665735539, 0.20457674707024134,
        0.012593486819944107, 0.41309677948889756, 0.19416007010959183, -0.11609315407703767, -0.37174595389566517,
        -0.45256082290640065, -0.32052926544633376};
    // NORM_L1_2_5_D returned total norm 22.28658530208435
    static final double[] NORM_L1_2_5_D = {
        0.0, 0.0650386639136942, 0.09948862793162119, 0.08714753568061342, 0.033819595681205544, -0.03541422861283287,
        -0.0879921878276695, -0.09918604619129175, -0.06373115720642625, 0.0016974908394224864, 0.06632778241946481,
        0.09976308152744368, 0.16990576216158287, 0.20023217493020698, 0.13638626711511678, 0.008395766781577916,
        0.27540142522856087, 0.12944172573026802, -0.07739643996172664, -0.24783385058698726, -0.30171112877045025,
        -0.21368894872673896};
    // NORM_INF_0_5_D returned total norm 2.68964444385677
    static final double[] NORM_INF_0_5_D = {
        0.0, 0.1077829644494952, 0.1648739165631163, 0.14442208949109311, 0.05604629707401122, -0.058688944604527185,
        -0.14582185859550065, -0.16437247395961707, -0.10561614642977162, 0.002813105063806429, 0.10991930928989718,
        0.1653287448203638, 0.2815701556712083, 0.3318275021883328, 0.2260211894785374, 0.013913579678479986,
        0.4563990131184147, 0.21451260039997852, -0.1282624401384085, -0.41071365092379086, -0.49999981410189165,
        -0.35412825199526593};
    // NORM_L2_100_D returned total norm 5.9431657694599505
    static final double[] NORM_L2_100_D = {
        0.0, 0.579795918513922, 0.8869047569896141, 0.7768884299839866, 0.3014893351403146, -0.31570490492065784,
        -0.784418195172229, -0.8842073513618993, -0.5681399740850894, 0.015132510435914742, 0.5912879388469102,
        0.8893514104893002, 1.5146477726542138, 1.7849966588144435, 1.2158337249920717, 0.07484519237992368,
        2.4551030524293407, 1.1539256766313404, -0.6899609754724443, -2.209348199873908, -2.68964444385677,
        -1.9049588790400582};
    // VALUE_0_5_D
    static final double[] VALUE_0_5_D = {
        0.0, 0.5, 0.5, 0.5, 0.3014893351403146, -0.31570490492065784, -0.5, -0.5, -0.5, 0.015132510435914742, 0.5,
        0.5, 0.5, 0.5, 0.5, 0.07484519237992368, 0.5, 0.5, -0.5, -0.5, -0.5, -0.5};
    // INPUT_F
    static final double[] INPUT_F = {
        0.0, 0.5797958970069885, 0.886904776096344, 0.7768884301185608, 0.30148932337760925, -0.31570491194725037,
        -0.7844181656837463, -0.8842073678970337, -0.5681399703025818, 0.015132510103285313, 0.5912879109382629,
        0.8893514275550842, 1.5146477222442627, 1.7849966287612915, 1.2158337831497192, 0.07484519481658936,
        2.4551031589508057, 1.1539256572723389, -0.6899609565734863, -2.209348201751709, -2.6896443367004395,
        -1.9049588441848755};
    // NORM_L2_1_F returned total norm 5.943165302276611
    static final double[] NORM_L2_1_F = {
        0.0, 0.09755674004554749, 0.14923103153705597, 0.1307196170091629, 0.05072873830795288, -0.05312066152691841,
        -0.1319865882396698, -0.14877715706825256, -0.09559550881385803, 0.0025462035555392504, 0.09949038922786713,
        0.1496427059173584, 0.25485536456108093, 0.30034440755844116, 0.204576775431633, 0.01259348914027214,
        0.4130968451499939, 0.1941600888967514, -0.11609316617250443, -0.3717460036277771, -0.4525608718395233,
        -0.3205293118953705};
    // NORM_L1_2_5_F returned total norm 22.28658676147461
    static final double[] NORM_L1_2_5_F = {
        0.0, 0.06503865122795105, 0.09948861598968506, 0.08714752644300461, 0.033819589763879776,
        -0.03541422635316849, -0.08799217641353607, -0.09918603301048279, -0.06373114883899689, 0.001697490573860705,
        0.0663277730345726, 0.09976307302713394, 0.16990573704242706, 0.2002321481704712, 0.13638626039028168,
        0.008395765908062458, 0.27540141344070435, 0.12944170832633972, -0.07739643007516861, -0.24783381819725037,
        -0.3017110824584961, -0.213688924908638};
    // NORM_INF_0_5_F returned total norm 2.6896443367004395
    static final double[] NORM_INF_0_5_F = {
        0.0, 0.10778296738862991, 0.16487392783164978, 0.14442209899425507, 0.05604629963636398,
        -0.058688949793577194, -0.14582186937332153, -0.1643724888563156, -0.10561615228652954, 0.0028131052386015654,
        0.10991931706666946, 0.1653287559747696, 0.281570166349411, 0.3318275213241577, 0.22602121531963348,
        0.013913581147789955, 0.4563990831375122, 0.21451261639595032, -0.1282624453306198, -0.41071370244026184,
        -0.49999985098838806, -0.35412827134132385};
    // NORM_L2_100_F returned total norm 5.943165302276611
    static final double[] NORM_L2_100_F = {
        0.0, 0.5797958970069885, 0.886904776096344, 0.7768884301185608, 0.30148932337760925, -0.31570491194725037,
        -0.7844181656837463, -0.8842073678970337, -0.5681399703025818, 0.015132510103285313, 0.5912879109382629,
        0.8893514275550842, 1.5146477222442627, 1.7849966287612915, 1.2158337831497192, 0.07484519481658936,
        2.4551031589508057, 1.1539256572723389, -0.6899609565734863, -2.209348201751709, -2.6896443367004395,
        -1.9049588441848755};
    // VALUE_0_5_F
    static final double[] VALUE_0_5_F = {
        0.0, 0.5, 0.5, 0.5, 0.30148932337760925, -0.31570491194725037, -0.5, -0.5, -0.5, 0.015132510103285313, 0.5,
        0.5, 0.5, 0.5, 0.5, 0.07484519481658936, 0.5, 0.5, -0.5, -0.5, -0.5, -0.5};

    // The "returned total norm" values printed above, as constants.
    private static final double TOTAL_L2_D = 5.9431657694599505;
    private static final double TOTAL_L1_D = 22.28658530208435;
    private static final double TOTAL_INF_D = 2.68964444385677;
    private static final double TOTAL_L2_F = 5.943165302276611;
    private static final double TOTAL_L1_F = 22.28658676147461;
    private static final double TOTAL_INF_F = 2.6896443367004395;

    /** The Java side of the Python input formula; must reproduce PyTorch's printed input exactly. */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT"})
    void input_formula_reproducesPyTorchInputExactly(DataType dt) {
        // Same formula, same rounding (double, then round-to-nearest float): every element bit-equal to torch's.
        assertThat(flat(input(dt))).containsExactly(dt == DataType.DOUBLE ? INPUT_D : INPUT_F);
    }

    /** clip_grad_norm_(max_norm=1, norm_type=2): total 5.943 > 1, so coef = 1 / (5.943... + 1e-6) ~ 0.1683. */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT"})
    void globalNorm_aboveThreshold_matchesClipGradNorm(DataType dt) {
        boolean d = dt == DataType.DOUBLE;
        INDArray[] g = input(dt);
        ClipReport r = clip(Clip.globalNorm(1.0), g);
        assertClose(flat(g), d ? NORM_L2_1_D : NORM_L2_1_F, tol(dt));
        // our report's total norm before clipping is the norm clip_grad_norm_ returns (5.9431657694599505 in double)
        double total = d ? TOTAL_L2_D : TOTAL_L2_F;
        assertThat(relErr(r.totalNormBefore(), total)).as("total norm %s vs torch %s", r.totalNormBefore(), total)
                .isLessThanOrEqualTo(tol(dt));
        assertThat(relErr(r.minScale(), 1.0 / (total + EPS))).isLessThanOrEqualTo(tol(dt));
        // after: 5.943 / (5.943 + 1e-6) = 0.99999983 <= 1
        assertThat(r.totalNormAfter()).isLessThanOrEqualTo(1.0).isGreaterThan(1.0 - 1e-6);
    }

    /** clip_grad_norm_(max_norm=2.5, norm_type=1): L1 total 22.287 > 2.5, coef = 2.5 / (22.287 + 1e-6) ~ 0.1122. */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT"})
    void norm_p1_aboveThreshold_matchesClipGradNorm(DataType dt) {
        boolean d = dt == DataType.DOUBLE;
        INDArray[] g = input(dt);
        ClipReport r = clip(Clip.norm(2.5, 1.0, Scope.GLOBAL), g);
        assertClose(flat(g), d ? NORM_L1_2_5_D : NORM_L1_2_5_F, tol(dt));
        // the report's norms are L2, so the p = 1 total shows only through the scale applied to every parameter
        double expectedScale = 2.5 / ((d ? TOTAL_L1_D : TOTAL_L1_F) + EPS);
        for (int i = 0; i < 3; i++) {
            assertThat(relErr(r.scale(i), expectedScale)).as("scale of parameter %d", i).isLessThanOrEqualTo(tol(dt));
        }
    }

    /** clip_grad_norm_(max_norm=0.5, norm_type=inf): max |x| = 2.6896 (parameter 2), coef = 0.5 / (2.6896 + 1e-6). */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT"})
    void norm_pInf_aboveThreshold_matchesClipGradNorm(DataType dt) {
        boolean d = dt == DataType.DOUBLE;
        INDArray[] g = input(dt);
        ClipReport r = clip(Clip.norm(0.5, Double.POSITIVE_INFINITY, Scope.GLOBAL), g);
        assertClose(flat(g), d ? NORM_INF_0_5_D : NORM_INF_0_5_F, tol(dt));
        double expectedScale = 0.5 / ((d ? TOTAL_INF_D : TOTAL_INF_F) + EPS);
        for (int i = 0; i < 3; i++) {
            assertThat(relErr(r.scale(i), expectedScale)).as("scale of parameter %d", i).isLessThanOrEqualTo(tol(dt));
        }
        // the largest element becomes 0.5 * 2.6896 / (2.6896 + 1e-6) = 0.49999981..., just under max_norm
        assertThat(r.normAfter(2)).isLessThan(r.normBefore(2));
    }

    /**
     * clip_grad_norm_(max_norm=100): total 5.943 < 100, coef clamps to 1. PyTorch multiplies by 1.0 (same bits);
     * we skip the write: scale exactly 1.0, nothing changed, arrays bit-identical to the input and to torch's.
     */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT"})
    void globalNorm_belowThreshold_writesNothingAndMatchesClipGradNorm(DataType dt) {
        boolean d = dt == DataType.DOUBLE;
        INDArray[] g = input(dt);
        double[] before = flat(g);
        ClipReport r = clip(Clip.globalNorm(100), g);
        assertThat(r.minScale()).isEqualTo(1.0);
        assertThat(r.changed()).isFalse();
        // exact comparison (not INDArray.equals, which allows 1e-5): every element bit-identical to the input
        assertThat(flat(g)).containsExactly(before);
        assertThat(flat(g)).containsExactly(d ? NORM_L2_100_D : NORM_L2_100_F);
        assertThat(relErr(r.totalNormBefore(), d ? TOTAL_L2_D : TOTAL_L2_F)).isLessThanOrEqualTo(tol(dt));
        assertThat(r.totalNormAfter()).isEqualTo(r.totalNormBefore());
    }

    /** clip_grad_value_(0.5): 17 of the 22 inputs have |x| > 0.5 (3+3+2 in p0, 3 in p1, all 6 in p2). */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"DOUBLE", "FLOAT"})
    void value_matchesClipGradValue(DataType dt) {
        INDArray[] g = input(dt);
        ClipReport r = clip(Clip.value(0.5), g);
        // clamping is exact: bit-equal to PyTorch, not just close
        assertThat(flat(g)).containsExactly(dt == DataType.DOUBLE ? VALUE_0_5_D : VALUE_0_5_F);
        assertThat(r.totalClipped()).isEqualTo(17);
        assertThat(r.clipped(0)).isEqualTo(8);
        assertThat(r.clipped(1)).isEqualTo(3);
        assertThat(r.clipped(2)).isEqualTo(6);
    }

    /** The fixture tolerance itself must be able to fail: torch's p = 2 result is not its p = 1 result. */
    @Test
    void fixtures_differBetweenNormTypes() {
        assertThat(relErr(NORM_L2_1_D[1], NORM_L1_2_5_D[1])).isGreaterThan(1e-3);
    }

    // ---- helpers ----

    private static INDArray[] input(DataType dt) {
        INDArray[] out = new INDArray[SHAPES.length];
        for (int j = 0; j < SHAPES.length; j++) {
            int n = (int) java.util.Arrays.stream(SHAPES[j]).reduce(1, (a, b) -> a * b);
            double[] v = new double[n];
            for (int k = 0; k < n; k++) {
                v[k] = StrictMath.sin(0.7 * k + j) * (j + 1) * 0.9;
            }
            out[j] = Nd4j.create(v, SHAPES[j], 'c').castTo(dt);
        }
        return out;
    }

    private static ClipReport clip(ClipStrategy s, INDArray[] g) {
        GradientLayout.Builder b = GradientLayout.builder();
        for (int j = 0; j < g.length; j++) {
            b.add("net", "p" + j, g[j], null);
        }
        return new Clipper(s, b.build()).clip(0);
    }

    private static double[] flat(INDArray[] g) {
        double[] out = new double[22];
        int o = 0;
        for (INDArray a : g) {
            double[] v = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
            System.arraycopy(v, 0, out, o, v.length);
            o += v.length;
        }
        return out;
    }

    private static double tol(DataType dt) {
        return dt == DataType.DOUBLE ? 1e-12 : 1e-6;
    }

    private static double relErr(double a, double e) {
        return a == e ? 0.0 : Math.abs(a - e) / Math.max(Math.abs(a), Math.abs(e));
    }

    private static void assertClose(double[] actual, double[] expected, double tol) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int k = 0; k < expected.length; k++) {
            assertThat(relErr(actual[k], expected[k])).as("element %d: ours %s, torch %s", k, actual[k], expected[k])
                    .isLessThanOrEqualTo(tol);
        }
    }
}
