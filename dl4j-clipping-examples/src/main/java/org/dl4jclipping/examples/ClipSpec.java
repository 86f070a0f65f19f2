package org.dl4jclipping.examples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import org.dl4jclipping.Clip;
import org.dl4jclipping.engine.ClipStrategy;

/**
 * The {@code --clip} option: a chain of strategies written as {@code name[:argument]} joined by {@code ,}, e.g.
 * {@code skip-nonfinite,global-norm:1.0}; {@code none} means no clipping.
 *
 * <p>The names live in one registry (name to factory), so a new strategy is one line in {@link #REGISTRY}.
 * The adaptive strategies are there too: {@code agc:L} ({@code Clip.agc}), {@code autoclip:P}
 * ({@code Clip.autoClip}) and {@code zclip} ({@code Clip.zClip()}).
 */
public final class ClipSpec {

    /** Makes a strategy from the text after {@code name:} ({@code null} when there is none). */
    @FunctionalInterface
    interface Factory {
        ClipStrategy make(String name, String arg);
    }

    private static final Map<String, Factory> REGISTRY = new LinkedHashMap<>();
    private static final Map<String, String> HELP = new LinkedHashMap<>();

    static {
        register("global-norm", "global-norm:C  scale all gradients so their global L2 norm is at most C",
                (n, a) -> Clip.globalNorm(number(n, a)));
        register("layer-norm", "layer-norm:C   scale each layer's gradients to an L2 norm of at most C",
                (n, a) -> Clip.layerNorm(number(n, a)));
        register("param-norm", "param-norm:C   scale each parameter's gradient to an L2 norm of at most C",
                (n, a) -> Clip.parameterNorm(number(n, a)));
        register("value", "value:C        clamp every gradient element into [-C, C]",
                (n, a) -> Clip.value(number(n, a)));
        register("zero-out", "zero-out:T     set gradient elements with |g| > T to zero",
                (n, a) -> Clip.zeroOut(number(n, a)));
        register("skip-nonfinite", "skip-nonfinite skip a step whose gradient holds NaN or Inf",
                (n, a) -> noArg(n, a, Clip.skipNonFinite()));
        register("zero-nonfinite", "zero-nonfinite set NaN and Inf gradient elements to zero",
                (n, a) -> noArg(n, a, Clip.zeroNonFinite()));
        register("agc", "agc:L          adaptive gradient clipping (Brock et al. 2021): each unit's gradient to at most "
                + "L x its weights' norm (output layer excluded)", (n, a) -> Clip.agc(number(n, a)));
        register("autoclip", "autoclip:P     AutoClip (Seetharaman et al. 2020): global norm clipped at the P-th "
                + "percentile of the norms seen so far", (n, a) -> Clip.autoClip(number(n, a)));
        register("zclip", "zclip          ZClip: global norm clipped when its z-score against a running mean is "
                + "above 2.5", (n, a) -> noArg(n, a, Clip.zClip()));
        register("adagc", "adagc          AdaGC (Wang et al. 2025): a threshold per tensor, 1.05 x the EMA of its own "
                + "clipped norms (100 warm-up steps at global norm 1.0)", (n, a) -> noArg(n, a, Clip.adaGC()));
        register("skip-spikes", "skip-spikes    skip a step whose loss or gradient norm is above mean + 6 std of "
                + "the last 128 (OLMo-core, Levanter)", (n, a) -> noArg(n, a, Clip.skipSpikes()));
    }

    private static void register(String name, String help, Factory factory) {
        REGISTRY.put(name, factory);
        HELP.put(name, help);
    }

    private final String text;
    private final ClipStrategy strategy;
    private final Double globalThreshold;

    private ClipSpec(String text, ClipStrategy strategy, Double globalThreshold) {
        this.text = text;
        this.strategy = strategy;
        this.globalThreshold = globalThreshold;
    }

    /** Parses a chain; throws {@link UserError} naming the part that is wrong. */
    public static ClipSpec parse(String text) {
        if (text == null || text.isBlank()) {
            throw new UserError("--clip: empty; use for example global-norm:1.0, or none");
        }
        String spec = text.trim().toLowerCase(Locale.ROOT);
        if (spec.equals("none")) {
            return new ClipSpec("none", null, null);
        }
        List<ClipStrategy> parts = new ArrayList<>();
        Double global = null;
        for (String part : spec.split(",")) {
            String p = part.trim();
            int colon = p.indexOf(':');
            String name = colon < 0 ? p : p.substring(0, colon).trim();
            String arg = colon < 0 ? null : p.substring(colon + 1).trim();
            if (name.equals("none")) {
                throw new UserError("--clip " + text + ": 'none' cannot be chained with other strategies");
            }
            Factory f = REGISTRY.get(name);
            if (f == null) {
                throw new UserError("--clip " + text + ": unknown strategy '" + name + "'; known: "
                        + String.join(", ", REGISTRY.keySet()) + ", none");
            }
            ClipStrategy s;
            try {
                s = f.make(name, arg);
            } catch (IllegalArgumentException e) {
                throw new UserError("--clip " + p + ": " + e.getMessage());
            }
            if (name.equals("global-norm")) {
                global = global == null ? number(name, arg) : Math.min(global, number(name, arg));
            }
            parts.add(s);
        }
        ClipStrategy strategy = parts.size() == 1 ? parts.get(0) : Clip.chain(parts.toArray(ClipStrategy[]::new));
        return new ClipSpec(spec, strategy, global);
    }

    /** Whether {@code name} (e.g. {@code agc}) can be used in this version. */
    public static boolean isAvailable(String name, String exampleArg) {
        Factory f = REGISTRY.get(name);
        if (f == null) {
            return false;
        }
        try {
            f.make(name, exampleArg);
            return true;
        } catch (UserError e) {
            return false;
        }
    }

    /** One line per strategy, for {@code --help}. */
    public static String help() {
        return String.join("%n", HELP.values()) + "%nnone           no clipping";
    }

    /** The strategy, {@code null} for {@code none}. */
    public ClipStrategy strategy() {
        return strategy;
    }

    public boolean isNone() {
        return strategy == null;
    }

    /** The global-norm threshold, when the chain has one (the smallest if several). */
    public OptionalDouble globalThreshold() {
        return globalThreshold == null ? OptionalDouble.empty() : OptionalDouble.of(globalThreshold);
    }

    @Override
    public String toString() {
        return text;
    }

    private static double number(String name, String arg) {
        if (arg == null || arg.isEmpty()) {
            throw new UserError("--clip " + name + ": needs a number, e.g. " + name + ":1.0");
        }
        try {
            return Double.parseDouble(arg);
        } catch (NumberFormatException e) {
            throw new UserError("--clip " + name + ":" + arg + ": '" + arg + "' is not a number");
        }
    }

    private static ClipStrategy noArg(String name, String arg, ClipStrategy s) {
        if (arg != null) {
            throw new UserError("--clip " + name + ":" + arg + ": " + name + " takes no argument");
        }
        return s;
    }
}
