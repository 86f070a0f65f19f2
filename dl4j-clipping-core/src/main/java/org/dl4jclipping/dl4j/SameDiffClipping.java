package org.dl4jclipping.dl4j;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.dl4jclipping.engine.ClipReport;
import org.dl4jclipping.engine.ClipRule;
import org.dl4jclipping.engine.ClipStrategy;
import org.dl4jclipping.engine.Clipper;
import org.dl4jclipping.engine.GradientLayout;
import org.dl4jclipping.engine.ParamGradient;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * Gradient clipping for {@code SameDiff.fit}: the listener that runs the clipping configured by a
 * {@link ClippingUpdater} (every variable) or a {@link VariableClipping} (rules by variable name) in the
 * {@code TrainingConfig}, with the same engine, strategies and {@link ClipReport}s as the layer API.
 *
 * <pre>{@code
 * sd.setTrainingConfig(TrainingConfig.builder()
 *     .updater(new ClippingUpdater(new Adam(1e-3), Clip.globalNorm(1.0)))
 *     .dataSetFeatureMapping("in").dataSetLabelMapping("label").build());
 * ClipHistory history = new ClipHistory(10_000);
 * sd.addListeners(new SameDiffClipping(history));
 * sd.fit(iterator, epochs);
 * }</pre>
 *
 * <p>How: SameDiff updates each variable as soon as its own gradient exists, before the rest of the backward pass
 * has run, so no global norm could be taken in time. The step is therefore deferred: each variable's clipping
 * updater copies its gradient into a buffer kept for the next steps and returns a zero update (so SameDiff moves
 * nothing); when the whole backward pass is done ({@code iterationDone}), this listener clips all buffered
 * gradients together, runs each variable's wrapped updater on its clipped gradient (Adam's moments see the clipped
 * gradient, as in PyTorch), adds the decoupled weight decay SameDiff computed for the step, and subtracts the update
 * from the variable. The numbers equal the layer API's {@code ClippingListener} on the same network.
 *
 * <p>Regularization: {@code WeightDecay} (applied after the updater) gives exactly the layer API's step: the term
 * SameDiff computes from the unchanged parameter is taken out of its update in {@code preUpdate} and added to the
 * deferred one. L1/L2 regularization ({@code L1Regularization}, {@code L2Regularization}, applied before the
 * updater) is added to each gradient by SameDiff before any updater sees it, so the clipping sees gradient plus
 * penalty (as when the penalty is part of the loss, the Keras and PyTorch way), unlike the layer API, which
 * clips before regularizing; the listener says so once in the log.
 *
 * <p>What a SameDiff user sees differently: listeners' {@code preUpdate} receives a zero update for clipped
 * variables (the real update happens after it); {@code iterationDone} listeners added after this one see the
 * updated variables, those before it the variables before the update. A skipped step (non-finite policy
 * {@code SKIP_STEP}, spike skipping) leaves every variable and every updater state bit-identical.
 *
 * <p>Without this listener the first step fails with a message saying to add it (as after {@code SameDiff.load},
 * which restores the configuration and the clipping state but no listeners); with it and no clipping updater in
 * the configuration, the first step fails too. One listener per SameDiff instance; not thread-safe (SameDiff
 * training is single-threaded).
 */
public class SameDiffClipping extends BaseListener {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SameDiffClipping.class);

    private static final ThreadLocal<SameDiffClipping> STEP = new ThreadLocal<>();

    private final List<Consumer<ClipReport>> consumers;
    private Map<String, GradientUpdater> boundTo;
    private Map<GradientUpdater<?>, Member> members = new IdentityHashMap<>();
    private final Map<String, Member> byName = new LinkedHashMap<>();
    private Clipper clipper;
    private SameDiff current;
    private boolean warnedPenalty;

    /** A listener that passes each step's report to {@code consumers} (none is fine). */
    @SafeVarargs
    public SameDiffClipping(Consumer<ClipReport>... consumers) {
        this.consumers = List.of(consumers);
    }

    /** The listener deferring the current thread's SameDiff step, or {@code null} outside one. */
    static SameDiffClipping inStep() {
        return STEP.get();
    }

    @Override
    public boolean isActive(Operation operation) {
        return operation == Operation.TRAINING;
    }

    @Override
    public void iterationStart(SameDiff sd, At at, MultiDataSet data, long etlMs) {
        TrainingConfig config = sd.getTrainingConfig();
        IUpdater updater = config.getUpdater();
        if (!(updater instanceof WrappingUpdater)) {
            throw new IllegalStateException("SameDiffClipping is on this SameDiff, but its TrainingConfig's updater is "
                    + updater + ", not a ClippingUpdater or VariableClipping: nothing would be clipped. Set "
                    + "TrainingConfig.builder().updater(new ClippingUpdater(<updater>, <strategy>)), or remove the "
                    + "listener.");
        }
        warnPenalty(config);
        current = sd;
        STEP.set(this);
    }

    /** Called by a variable's clipping updater: keeps the gradient for the end of the step, updates nothing now. */
    void defer(ClippingGradientUpdater updater, INDArray gradient) {
        Member m = members.get(updater);
        if (m == null) {
            bind(current);
            m = members.get(updater);
        }
        if (m == null) {
            throw new IllegalStateException("A clipping updater that no SameDiff variable of this step owns received "
                    + "a gradient: one SameDiffClipping listener serves one SameDiff at a time.");
        }
        if (m.gradient == null) {
            m.gradient = gradient.dup(gradient.ordering()); // allocated once, reused every step
        } else {
            m.gradient.assign(gradient);
        }
        gradient.assign(0);
        m.arrived = true;
    }

    @Override
    public void preUpdate(SameDiff sd, At at, Variable v, INDArray update) {
        Member m = byName.get(v.getName());
        if (m == null || !m.arrived) {
            return;
        }
        if (m.hasDecay) {
            // decoupled weight decay, computed by SameDiff from the unchanged variable: added to the deferred update
            if (m.decay == null) {
                m.decay = update.dup(update.ordering());
            } else {
                m.decay.assign(update);
            }
            update.assign(0);
        }
    }

    @Override
    public void iterationDone(SameDiff sd, At at, MultiDataSet data, Loss loss) {
        STEP.remove();
        current = null;
        boolean any = false;
        for (Member m : byName.values()) {
            any |= m.arrived;
            if (m.arrived && !m.inLayout) {
                clipper = null; // a variable's first gradient: the layout grows
            }
        }
        if (!any) {
            return; // no clipped variable received a gradient
        }
        try {
            if (clipper == null) {
                clipper = buildClipper(sd);
            }
            ClipReport report = clipper.clip(at.iteration(), 1.0, loss == null ? Double.NaN : loss.totalLoss());
            if (!report.skipped()) {
                update(sd, at);
            }
            for (Consumer<ClipReport> c : consumers) {
                c.accept(report);
            }
        } finally {
            for (Member m : byName.values()) {
                m.arrived = false;
            }
        }
    }

    /** The deferred update: the wrapped updater on the clipped gradient, weight decay, then the variable. */
    private void update(SameDiff sd, At at) {
        boolean minimize = sd.getTrainingConfig().isMinimize();
        for (Member m : byName.values()) {
            if (!m.arrived) {
                continue;
            }
            m.updater.applyClipped(m.gradient, at.iteration(), at.epoch());
            if (m.hasDecay && m.decay != null) {
                m.gradient.addi(m.decay);
            }
            if (minimize) {
                m.param.subi(m.gradient);
            } else {
                m.param.addi(m.gradient);
            }
        }
    }

    /**
     * Binds to the SameDiff's updaters when they changed (first step, after {@code load}, a new configuration):
     * the members, their order (the SameDiff's variable order) and, for stateful strategies, their state slots.
     * SameDiff creates its updaters after the first {@code iterationStart}, so this runs at the first gradient.
     */
    private void bind(SameDiff sd) {
        Map<String, GradientUpdater> updaters = sd.getUpdaterMap();
        if (updaters == null || updaters == boundTo) {
            return;
        }
        boundTo = updaters;
        members = new IdentityHashMap<>();
        byName.clear();
        clipper = null;
        boolean decay = hasDecay(sd.getTrainingConfig());
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() != VariableType.VARIABLE) {
                continue;
            }
            GradientUpdater<?> gu = updaters.get(v.name());
            if (gu instanceof ClippingGradientUpdater cgu) {
                Member m = new Member(v.name(), cgu, v.getArr(), decay);
                members.put(cgu, m);
                byName.put(v.name(), m);
            }
        }
    }

    private Clipper buildClipper(SameDiff sd) {
        GradientLayout.Builder layout = GradientLayout.builder();
        Map<ClipStrategy, List<Integer>> rules = new LinkedHashMap<>();
        Map<ClipStrategy, List<Member>> ruleMembers = new LinkedHashMap<>();
        WrappingUpdater config = (WrappingUpdater) sd.getTrainingConfig().getUpdater(); // checked at iterationStart
        int index = 0;
        for (Member m : byName.values()) {
            if (m.gradient == null) {
                // declared but without a gradient in this graph: never updated, not part of the clipping
                continue;
            }
            m.inLayout = true;
            String layer = VariableClipping.layerOf(m.name);
            String param = VariableClipping.paramOf(m.name);
            layout.add(new ParamGradient(layer, param, m.gradient, m.param, false,
                    ParamGradient.isWeightByName(param, m.gradient)));
            ClipStrategy s = config.strategyFor(m.name);
            if (s != null) {
                rules.computeIfAbsent(s, x -> new ArrayList<>()).add(index);
                ruleMembers.computeIfAbsent(s, x -> new ArrayList<>()).add(m);
            }
            index++;
        }
        GradientLayout built = layout.build();
        List<ClipRule> clipRules = new ArrayList<>();
        rules.forEach((strategy, idx) -> {
            ClipRule rule = new ClipRule(strategy, idx.stream().mapToInt(Integer::intValue).toArray(), built);
            List<Member> own = ruleMembers.get(strategy);
            int ruleSize = strategy.stateSize();
            int parameterSize = strategy.parameterStateSize();
            if (ruleSize > 0) {
                // the rule's state: the first part of its first variable's slot
                rule.attachState(own.get(0).updater.slot(0, 1).get(NDArrayIndex.interval(0, ruleSize)));
            }
            if (parameterSize > 0) {
                for (int k = 0; k < own.size(); k++) {
                    rule.attachParameterState(k, own.get(k).updater.slot(0, 1)
                            .get(NDArrayIndex.interval(ruleSize, ruleSize + parameterSize)));
                }
            }
            clipRules.add(rule);
        });
        return new Clipper(clipRules, built);
    }

    private static boolean hasDecay(TrainingConfig config) {
        List<Regularization> regs = config.getRegularization();
        if (regs == null) {
            return false;
        }
        for (Regularization r : regs) {
            if (r.applyStep() == Regularization.ApplyStep.POST_UPDATER) {
                return true;
            }
        }
        return false;
    }

    private void warnPenalty(TrainingConfig config) {
        if (warnedPenalty || config.getRegularization() == null) {
            return;
        }
        for (Regularization r : config.getRegularization()) {
            if (r.applyStep() == Regularization.ApplyStep.BEFORE_UPDATER) {
                warnedPenalty = true;
                LOG.info("SameDiff adds {} to each gradient before any updater: the clipping sees gradient plus "
                        + "penalty (as with the penalty in the loss), unlike the layer API, which clips before "
                        + "regularizing. Use WeightDecay for a penalty outside the clipping.", r);
                return;
            }
        }
    }

    /** One clipped variable: its updater, its values, and the buffers of the deferred step. */
    private static final class Member {
        final String name;
        final ClippingGradientUpdater updater;
        final INDArray param;
        final boolean hasDecay;
        INDArray gradient;
        INDArray decay;
        boolean arrived;
        boolean inLayout;

        Member(String name, ClippingGradientUpdater updater, INDArray param, boolean hasDecay) {
            this.name = name;
            this.updater = updater;
            this.param = param;
            this.hasDecay = hasDecay;
        }
    }
}
