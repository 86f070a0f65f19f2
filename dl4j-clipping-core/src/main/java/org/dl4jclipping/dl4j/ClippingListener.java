package org.dl4jclipping.dl4j;

import java.io.Serializable;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.dl4jclipping.engine.ClipReport;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the clipping configured by {@link ClippingUpdater}s, once per parameter update, over the whole network,
 * and hands each step's {@link ClipReport} to its consumers (a {@link ClipHistory}, a {@link ClipLogger}, ...).
 *
 * <pre>{@code
 * ClipHistory history = new ClipHistory(10_000);
 * net.addListeners(new ClippingListener(history, new ClipLogger(100)));
 * }</pre>
 *
 * <p>Where in the step: DL4J calls {@code onGradientCalculation} after backpropagation, while the gradient is
 * still the sum over the minibatch, then divides it by the batch size, regularises (L1, L2) and runs the
 * updater. The listener clips the sum with every norm and threshold taken on {@code sum / batchSize}, so the
 * update equals clipping the mean gradient before regularization, as PyTorch and Keras order it. In floating
 * point the two orders (scale then divide, divide then scale) can differ in the last bit of an element; with a
 * power-of-two batch size they are identical.
 *
 * <p>Under truncated BPTT every segment update is one clipping step.
 *
 * <p>A skipped step (non-finite policy {@code SKIP_STEP}) skips the <b>whole network's</b> update, whatever the
 * rules cover: the listener zeroes every trainable gradient (so that no NaN reaches any updater, clipped or
 * plain), copies the parameters and the whole updater state, and puts both back after DL4J's step, so that every
 * parameter and every updater block's state (Adam's moments of plain layers included) end bit-identical, and
 * weight decay cannot move them either. The copies are made only on a skipped step, into buffers kept for the
 * next one. DL4J still counts the iteration. Under {@code SharedTrainingMaster} the (zero) update of a skipped step
 * is what the worker shares; the plain layers' momentum part of it is the one thing not undone there.
 *
 * <p>One listener per network clips. A second {@code ClippingListener} on the same network (after the first in the
 * network's listener list) does nothing at all, with one warning in the log: no clipping, no state, no report.
 * Remove it, or replace the listeners with {@code setListeners(...)}.
 *
 * <p>One listener may serve several networks (ParallelWrapper hands the same listener to every worker): it keeps
 * each network's clipping apart, so nothing is shared between networks but the consumers, which are called under
 * a lock. It holds networks weakly: a network that is no longer used elsewhere can be garbage-collected, and its
 * entry is dropped at the listener's next call. Listeners are not part of a configuration: add it again after
 * {@code ModelSerializer} restore or {@code clone()}; without it the first {@code fit} fails with a message saying
 * so.
 *
 * <p>Java-serialisable (Spark ships listeners to the executors): the consumers travel with it and must be
 * serialisable themselves; the per-network state does not (it is rebuilt on the first step).
 */
public class ClippingListener extends BaseTrainingListener implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(ClippingListener.class);

    private final List<Consumer<ClipReport>> consumers;
    private transient List<Entry> networks = new ArrayList<>();
    private transient volatile boolean warnedSecond;

    /** A listener that passes each step's report to {@code consumers} (none is fine). */
    @SafeVarargs
    public ClippingListener(Consumer<ClipReport>... consumers) {
        this.consumers = List.of(consumers);
    }

    @Override
    public void onGradientCalculation(Model model) {
        if (!clipsFor(model)) {
            return;
        }
        Entry e = entry(model);
        ClipReport report = e.clipping.clip(model);
        if (report.skipped()) {
            e.holdForSkip(model);
        }
        if (!consumers.isEmpty()) {
            synchronized (consumers) {
                for (Consumer<ClipReport> c : consumers) {
                    c.accept(report);
                }
            }
        }
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        Entry e = find(model);
        if (e != null) {
            e.restoreAfterSkip(model);
        }
    }

    /**
     * Whether this listener clips for {@code model}: unless another ClippingListener comes before it in the
     * network's listener list (a second listener would clip the clipped gradient and feed adaptive statistics
     * twice). A listener the network does not list (called by a trainer directly) clips.
     */
    private boolean clipsFor(Model model) {
        Collection<TrainingListener> listeners = model instanceof MultiLayerNetwork net ? net.getListeners()
                : model instanceof ComputationGraph graph ? graph.getListeners() : null;
        if (listeners == null) {
            return true;
        }
        for (TrainingListener l : listeners) {
            if (l == this) {
                return true;
            }
            if (l instanceof ClippingListener) {
                if (!warnedSecond) {
                    warnedSecond = true;
                    LOG.warn("A second ClippingListener on one network does nothing: the first one in the listener "
                            + "list clips. Keep one ClippingListener per network (replace the listeners with "
                            + "setListeners(...) rather than adding another).");
                }
                return false;
            }
        }
        return true;
    }

    private Entry entry(Model model) {
        BaseMultiLayerUpdater<?> updater = NetworkClipping.updaterOf(model);
        Entry e0 = find(model);
        synchronized (networks) {
            Entry e = e0 != null ? e0 : find(model);
            if (e == null) {
                e = new Entry(model);
                networks.add(e);
            }
            if (e.clipping == null || !e.clipping.matches(updater)) {
                e.clipping = NetworkClipping.of(model);
            }
            return e;
        }
    }

    private Entry find(Model model) {
        synchronized (this) {
            if (networks == null) {
                networks = new ArrayList<>(); // after Java deserialisation (Spark)
            }
        }
        synchronized (networks) {
            for (Iterator<Entry> it = networks.iterator(); it.hasNext(); ) {
                Entry e = it.next();
                Model m = e.model.get();
                if (m == null) {
                    it.remove();
                } else if (m == model) {
                    return e;
                }
            }
            return null;
        }
    }

    private static final class Entry {
        final WeakReference<Model> model;
        NetworkClipping clipping;
        INDArray params;
        INDArray state;
        boolean skipPending;

        Entry(Model model) {
            this.model = new WeakReference<>(model);
        }

        /** Zeroes the step's gradient and keeps the parameters and the whole updater state to restore. */
        void holdForSkip(Model model) {
            clipping.zeroGradients();
            params = copy(model.params(), params);
            INDArray view = NetworkClipping.updaterOf(model).getStateViewArray();
            state = view == null ? null : copy(view, state);
            skipPending = true;
        }

        void restoreAfterSkip(Model model) {
            if (!skipPending) {
                return;
            }
            skipPending = false;
            model.params().assign(params);
            if (state != null) {
                NetworkClipping.updaterOf(model).getStateViewArray().assign(state);
            }
        }

        private static INDArray copy(INDArray from, INDArray into) {
            if (into == null || into.length() != from.length() || into.dataType() != from.dataType()) {
                return from.dup();
            }
            return into.assign(from);
        }
    }
}
