package org.dl4jclipping.spark;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Consumer;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.AccumulatorV2;
import org.dl4jclipping.engine.ClipReport;

/**
 * A Spark accumulator of the clipping reports of every worker: pass it to the {@code ClippingListener} that runs
 * on the executors ({@link ClippedSpark}), read {@link #value()} on the driver after {@code fit}.
 *
 * <pre>{@code
 * SparkClipStats stats = SparkClipStats.register(sc, "clipping");
 * SparkDl4jMultiLayer sparkNet = ClippedSpark.multiLayer(sc, conf, trainingMaster, stats);
 * sparkNet.fit(data);
 * ClipSummary s = stats.value();   // steps, clipped steps, skipped steps, norms before/after over all workers
 * }</pre>
 *
 * <p>A listener set on a Spark network runs on the executors as deserialised copies; a plain consumer such as a
 * {@code ClipHistory} would fill the copy and never the driver's object. An accumulator is the channel Spark has
 * for that: each task's copy is sent back with the task's result and merged on the driver. Like every accumulator
 * updated inside a transformation, a task that Spark retries (executor lost, speculation) may count twice.
 *
 * <p>Reports go to the copy of the task that runs on the reporting thread, else to the newest copy of a running
 * task in this JVM: under SharedTrainingMaster an executor keeps training the network of its first task (with
 * that task's listener and accumulator copy) in later tasks, and in ParallelWrapper threads that belong to no
 * task; a copy whose task has finished has already been sent to the driver, and counts added to it later would be
 * lost.
 *
 * <p>Register it before the first {@code fit}; it keeps accumulating over later fits ({@link #reset()} clears it).
 * Thread-safe on executors (several ParallelWrapper threads may report into one copy).
 */
public final class SparkClipStats extends AccumulatorV2<ClipReport, ClipSummary> implements Consumer<ClipReport> {

    private static final long serialVersionUID = 1L;

    /** Steps kept one by one by default (the summary counts all of them). */
    public static final int DEFAULT_CAPACITY = 10_000;

    /** Executor-side copies of running tasks, by accumulator id, oldest first. */
    private static final Map<Long, Deque<SparkClipStats>> LIVE = new ConcurrentHashMap<>();

    private final int capacity;
    private ClipSummary summary;
    private transient long taskAttempt = -1;

    /** An accumulator keeping at most {@code capacity} individual steps; register it before use. */
    public SparkClipStats(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity = " + capacity + " is out of range: must be >= 0");
        }
        this.capacity = capacity;
        this.summary = new ClipSummary(capacity);
    }

    /** A registered accumulator named {@code name}, keeping {@link #DEFAULT_CAPACITY} individual steps. */
    public static SparkClipStats register(JavaSparkContext sc, String name) {
        return register(sc, name, DEFAULT_CAPACITY);
    }

    /** A registered accumulator named {@code name}, keeping at most {@code capacity} individual steps. */
    public static SparkClipStats register(JavaSparkContext sc, String name, int capacity) {
        SparkClipStats s = new SparkClipStats(capacity);
        sc.sc().register(s, name);
        return s;
    }

    @Override
    public synchronized boolean isZero() {
        return summary.isEmpty();
    }

    @Override
    public synchronized SparkClipStats copy() {
        SparkClipStats c = new SparkClipStats(capacity);
        c.summary = summary.copy();
        return c;
    }

    @Override
    public synchronized void reset() {
        summary = new ClipSummary(capacity);
    }

    @Override
    public void add(ClipReport report) {
        TaskContext task = TaskContext.get();
        SparkEnv env = SparkEnv.get();
        String executor = env == null ? "driver" : env.executorId();
        int partition = task == null ? -1 : task.partitionId();
        SparkClipStats target = target(task);
        synchronized (target) {
            target.summary.add(report, executor, partition);
        }
    }

    private SparkClipStats target(TaskContext task) {
        if (taskAttempt < 0) {
            return this;   // on the driver, or never shipped
        }
        Deque<SparkClipStats> copies = LIVE.get(id());
        if (copies == null) {
            return this;
        }
        if (task != null) {
            for (SparkClipStats c : copies) {
                if (c.taskAttempt == task.taskAttemptId()) {
                    return c;
                }
            }
        }
        SparkClipStats newest = copies.peekLast();
        return newest != null ? newest : this;
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        TaskContext task = TaskContext.get();
        if (task != null) {   // an executor-side copy, registered with its task by AccumulatorV2.readObject
            long id;
            try {
                id = id();
            } catch (IllegalStateException unregistered) {
                return;
            }
            taskAttempt = task.taskAttemptId();
            Deque<SparkClipStats> copies = LIVE.computeIfAbsent(id, k -> new ConcurrentLinkedDeque<>());
            copies.addLast(this);
            task.addTaskCompletionListener(new org.apache.spark.util.TaskCompletionListener() {
                @Override
                public void onTaskCompletion(TaskContext context) {
                    copies.remove(SparkClipStats.this);
                    LIVE.computeIfPresent(id, (k, d) -> d.isEmpty() ? null : d);
                }
            });
        }
    }

    @Override
    public void accept(ClipReport report) {
        add(report);
    }

    @Override
    public void merge(AccumulatorV2<ClipReport, ClipSummary> other) {
        if (!(other instanceof SparkClipStats o)) {
            throw new UnsupportedOperationException("Cannot merge " + getClass().getName() + " with "
                    + other.getClass().getName());
        }
        ClipSummary theirs;
        synchronized (o) {
            theirs = o.summary.copy();
        }
        synchronized (this) {
            summary.merge(theirs);
        }
    }

    /** A snapshot of the summary so far (on the driver: of every finished task). */
    @Override
    public synchronized ClipSummary value() {
        return summary.copy();
    }
}
