package org.dl4jclipping.dl4j;

import java.io.Serializable;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.dl4jclipping.engine.ClipReport;
import org.nd4j.linalg.api.ndarray.INDArray;

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
 * <p>Under truncated BPTT every segment update is one clipping step. A skipped step (non-finite policy
 * {@code SKIP_STEP}) leaves the wrapped updaters uncalled (their state bit-identical) and restores the
 * parameters after DL4J's step, so that weight decay cannot move them either.
 *
 * <p>One listener may serve several networks (ParallelWrapper hands the same listener to every worker): it keeps
 * each network's clipping apart, so nothing is shared between networks but the consumers, which are called under
 * a lock. Listeners are not part of a configuration: add it again after {@code ModelSerializer} restore or
 * {@code clone()}; without it the first {@code fit} fails with a message saying so.
 *
 * <p>Java-serialisable (Spark ships listeners to the executors): the consumers travel with it and must be
 * serialisable themselves; the per-network state does not (it is rebuilt on the first step).
 */
public class ClippingListener extends BaseTrainingListener implements Serializable {

    private static final long serialVersionUID = 1L;

    private final List<Consumer<ClipReport>> consumers;
    private transient List<Entry> networks = new ArrayList<>();

    /** A listener that passes each step's report to {@code consumers} (none is fine). */
    @SafeVarargs
    public ClippingListener(Consumer<ClipReport>... consumers) {
        this.consumers = List.of(consumers);
    }

    @Override
    public void onGradientCalculation(Model model) {
        Entry e = entry(model);
        ClipReport report = e.clipping.clip(model);
        if (report.skipped()) {
            e.paramsBeforeSkip = model.params().dup();
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
        if (e != null && e.paramsBeforeSkip != null) {
            model.params().assign(e.paramsBeforeSkip);
            e.paramsBeforeSkip = null;
        }
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
        INDArray paramsBeforeSkip;

        Entry(Model model) {
            this.model = new WeakReference<>(model);
        }
    }
}
