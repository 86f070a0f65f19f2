package org.dl4jclipping.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A Spark standalone cluster on this machine, each part its own JVM started from the module's own dependencies
 * (no Spark installation): one master and two workers (127.0.0.1, one core and 1 GB each; each worker starts its
 * executor JVM itself), and {@link ClusterJob} submitted in the uber-jar ({@code -Puberjar}) through
 * {@code org.apache.spark.deploy.SparkSubmit --master spark://127.0.0.1:PORT}, as {@code spark-submit} does. The
 * same job then runs on {@code local[2]}; the two are compared.
 *
 * <p>Run by {@code .ci/run} after {@code mvn verify}, on its own with its own timeout:
 * {@code mvn -B -Puberjar,cluster -pl dl4j-clipping-spark verify} (the profile builds the uber-jar, a jar of
 * the test classes holding the job, and the classpath file, skips the unit tests and runs this). It is not part
 * of {@code mvn verify}: six JVMs that each load ND4J take about as long as the module's unit tests.
 *
 * <p>The fake SPARK_HOME ({@code target/cluster/spark-home/jars}) holds links to the jars of the module's
 * classpath that a Spark distribution has (everything but DL4J, ND4J, JavaCPP and this library): the job's own
 * code reaches the driver and the executors only through the submitted jars, as on a real cluster. Everything the
 * JVMs write (work dirs, local dirs, temp dirs, Aeron dirs, logs) is under {@code target/cluster}; every process
 * started here, executors included, is stopped in {@link #stopCluster()}, also when a step fails.
 */
class StandaloneClusterIT {

    private static final Path DIR = Path.of(System.getProperty("cluster.dir", "target/cluster")).toAbsolutePath();
    private static final Path SPARK_HOME = DIR.resolve("spark-home");
    private static final String OPENS = System.getProperty("cluster.jdk17.opens", "");
    /** Aeron's default (15 s) is below its client liveness timeout (30 s): shared training fails to start. */
    private static final String AERON_TIMEOUT = "-Daeron.publication.unblock.timeout=60000000000";
    private static final List<Process> STARTED = new ArrayList<>();
    private static final List<ProcessHandle> ALL = new ArrayList<>();
    private static String master;
    private static Path clusterOut;
    private static Path localOut;
    private static double clusterSeconds;
    private static double localSeconds;

    @BeforeAll
    static void runOnClusterAndLocally() throws Exception {
        deleteRecursively(DIR.resolve("run"));
        Files.createDirectories(DIR.resolve("run/tmp"));
        Files.writeString(DIR.resolve("run/logback.xml"), """
                <configuration>
                  <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="out"/></root>
                </configuration>
                """);
        sparkHome();
        try {
            int masterPort = freePort();
            master = "spark://127.0.0.1:" + masterPort;
            Process m = start("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", Integer.toString(masterPort), "--webui-port", Integer.toString(freePort())), Map.of());
            awaitLog(m, "master", "I have been elected leader", Duration.ofSeconds(90));
            for (int w = 1; w <= 2; w++) {
                Path work = Files.createDirectories(DIR.resolve("run/worker-" + w));
                Path local = Files.createDirectories(DIR.resolve("run/worker-" + w + "-local"));
                start("worker-" + w, List.of("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                        "--port", Integer.toString(freePort()), "--webui-port", Integer.toString(freePort()),
                        "--cores", "1", "--memory", "1g", "--work-dir", work.toString(), master),
                        Map.of("SPARK_LOCAL_DIRS", local.toString()));
            }
            awaitLog(STARTED.get(1), "worker-1", "Successfully registered with master", Duration.ofSeconds(90));
            awaitLog(STARTED.get(2), "worker-2", "Successfully registered with master", Duration.ofSeconds(90));

            clusterOut = DIR.resolve("run/out-cluster");
            long t0 = System.nanoTime();
            submit("submit-cluster", master, clusterOut,
                    List.of("--fail-once", Files.createDirectories(DIR.resolve("run/fail-once")).toString()));
            clusterSeconds = (System.nanoTime() - t0) / 1e9;
            localOut = DIR.resolve("run/out-local");
            t0 = System.nanoTime();
            submit("submit-local", "local[2]", localOut, List.of());
            localSeconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "standalone cluster job %.1f s, local[2] job %.1f s%n", clusterSeconds,
                    localSeconds);
        } catch (Exception | Error e) {
            stopCluster();
            throw e;
        }
    }

    @AfterAll
    static void stopCluster() {
        // the driver and the workers (with their executors) before the master, as Spark's stop scripts do
        for (int i = STARTED.size() - 1; i >= 0; i--) {
            Process p = STARTED.get(i);
            ALL.addAll(p.descendants().toList());
            ALL.add(p.toHandle());
        }
        for (ProcessHandle h : ALL) {
            h.destroy();
        }
        for (ProcessHandle h : ALL) {
            try {
                h.onExit().get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
        STARTED.clear();
        // Anything still running from this cluster (its command line names our SPARK_HOME) is an orphan.
        List<ProcessHandle> orphans = ProcessHandle.allProcesses()
                .filter(h -> h.info().commandLine().map(c -> c.contains(SPARK_HOME.toString())).orElse(false))
                .toList();
        orphans.forEach(ProcessHandle::destroyForcibly);
        assertThat(orphans).as("processes of the cluster still running after it was stopped").isEmpty();
        assertThat(tmpEntries()).as("files the cluster left in " + TMP).isSubsetOf(TMP_BEFORE);
    }

    private static final Path TMP = Path.of("/tmp");
    private static final List<String> TMP_BEFORE = tmpEntries();

    /** Entries of /tmp that Spark, Aeron or the JVM would create there if a temp directory escaped target/. */
    private static List<String> tmpEntries() {
        if (!Files.isDirectory(TMP)) {
            return List.of();
        }
        try (var s = Files.list(TMP)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("spark") || n.startsWith("blockmgr") || n.startsWith("aeron")
                            || n.startsWith("hsperfdata") || n.startsWith("hadoop"))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parameter averaging: the cluster's parameters and updater state equal local[2]'s, every step reported. */
    @Test
    void parameterAveragingMultiLayerEqualsLocal() throws IOException {
        assertEqualToLocal("mln");
    }

    @Test
    void parameterAveragingGraphEqualsLocal() throws IOException {
        assertEqualToLocal("graph");
    }

    /** ZClip's statistics live in the updater state, averaged per round on the cluster as on local[2]. */
    @Test
    void zclipStateIsAveragedAsOnLocal() throws IOException {
        assertEqualToLocal("zclip");
        INDArray state = Nd4j.readBinary(clusterOut.resolve("zclip.state").toFile());
        assertThat(state.amaxNumber().doubleValue()).as("ZClip's statistics are in the state").isPositive();
        assertThat(stats(clusterOut, "zclip").getProperty("clippedSteps")).isNotEqualTo("0");
    }

    /** One task failed once on the cluster and was retried: statistics and parameters as without the failure. */
    @Test
    void aRetriedTaskChangesNothing() throws IOException {
        assertThat(DIR.resolve("run/fail-once/failed-once")).as("the failure was injected").exists();
        assertThat(log("submit-cluster")).contains("injected failure");
        assertThat(stats(clusterOut, "retry")).isEqualTo(stats(clusterOut, "mln"));
        assertThat(params(clusterOut, "retry")).isEqualTo(params(clusterOut, "mln"));
        assertThat(state(clusterOut, "retry")).isEqualTo(state(clusterOut, "mln"));
    }

    /**
     * Shared training: the updates are threshold-encoded and applied asynchronously, so the parameters are not
     * reproducible (neither between runs nor against local[2]); what is: every step of every executor is reported
     * and clipped to the threshold, and training moved the parameters.
     */
    @Test
    void sharedTrainingClipsEveryStepOnEveryExecutor() throws IOException {
        Properties s = stats(clusterOut, "shared");
        assertThat(Long.parseLong(s.getProperty("steps"))).isEqualTo(ClusterJob.SHARED_MINIBATCHES);
        assertThat(Long.parseLong(s.getProperty("clippedSteps"))).isEqualTo(ClusterJob.SHARED_MINIBATCHES);
        assertThat(Double.parseDouble(s.getProperty("maxNormAfter")))
                .isLessThanOrEqualTo(ClusterJob.SHARED_MAX_NORM * (1 + 1e-6));
        assertThat(Long.parseLong(s.getProperty("executors"))).isEqualTo(2);
        INDArray after = params(clusterOut, "shared");
        INDArray before = state(clusterOut, "shared");
        assertThat(after.sub(before).amaxNumber().doubleValue()).isPositive();
        assertThat(after.isInfinite().any() || after.isNaN().any()).isFalse();
    }

    private static void assertEqualToLocal(String name) throws IOException {
        Properties cluster = stats(clusterOut, name);
        Properties local = stats(localOut, name);
        long steps = ClusterJob.MINIBATCHES * ClusterJob.EPOCHS;
        assertThat(Long.parseLong(cluster.getProperty("steps"))).as("every worker step reported").isEqualTo(steps);
        assertThat(Long.parseLong(cluster.getProperty("executors"))).as("both executors trained").isEqualTo(2);
        if (!name.equals("zclip")) {
            assertThat(Double.parseDouble(cluster.getProperty("maxNormAfter")))
                    .isLessThanOrEqualTo(ClusterJob.MAX_NORM * (1 + 1e-6));
            assertThat(Long.parseLong(cluster.getProperty("clippedSteps"))).isPositive();
        }
        for (String key : List.of("steps", "clippedSteps", "skippedSteps", "minNormBefore", "maxNormBefore",
                "maxNormAfter")) {
            assertThat(cluster.getProperty(key)).as(name + " " + key).isEqualTo(local.getProperty(key));
        }
        INDArray p = params(clusterOut, name);
        INDArray q = params(localOut, name);
        double diff = p.sub(q).amaxNumber().doubleValue();
        System.out.printf(Locale.ROOT, "%s: largest parameter difference cluster vs local[2] %.3g%n", name, diff);
        assertThat(diff).isLessThanOrEqualTo(1e-6);
        assertThat(state(clusterOut, name).sub(state(localOut, name)).amaxNumber().doubleValue())
                .isLessThanOrEqualTo(1e-6);
    }

    private static INDArray params(Path out, String name) throws IOException {
        return Nd4j.readBinary(out.resolve(name + ".params").toFile());
    }

    private static INDArray state(Path out, String name) throws IOException {
        return Nd4j.readBinary(out.resolve(name + ".state").toFile());
    }

    private static Properties stats(Path out, String name) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(out.resolve(name + ".properties"))) {
            p.load(r);
        }
        return p;
    }

    /** Runs {@link ClusterJob} as spark-submit does (client mode), waiting for it; fails with its log. */
    private static void submit(String name, String masterUrl, Path out, List<String> jobArgs) throws Exception {
        String uberJar = System.getProperty("cluster.uberJar");
        String testJar = System.getProperty("cluster.testJar");
        String executorOptions = OPENS + " -XX:-UsePerfData -Daeron.dir=aeron -Djava.io.tmpdir=. " + AERON_TIMEOUT
                + " -Dlogback.configurationFile=" + DIR.resolve("run/logback.xml");
        List<String> args = new ArrayList<>(List.of("org.apache.spark.deploy.SparkSubmit", "--master", masterUrl,
                "--deploy-mode", "client", "--class", ClusterJob.class.getName(), "--jars", testJar,
                "--executor-memory", "768m", "--total-executor-cores", "2",
                "--conf", "spark.executor.cores=1",
                // wait for both executors before the first job: otherwise one executor may take every task
                "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
                "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=120s",
                "--conf", "spark.executor.extraJavaOptions=" + executorOptions,
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                "--conf", "spark.ui.enabled=false",
                "--conf", "spark.local.dir=" + Files.createDirectories(DIR.resolve("run/" + name + "-local")),
                "--conf", "spark.hadoop.hadoop.tmp.dir=" + DIR.resolve("run/" + name + "-hadoop"),
                uberJar, out.toString()));
        args.addAll(jobArgs);
        Process p = start(name, args, Map.of(), "-Xmx1g", AERON_TIMEOUT,
                "-Daeron.dir=" + DIR.resolve("run/" + name + "-aeron"));
        if (!p.waitFor(8, TimeUnit.MINUTES)) {
            throw new AssertionError(name + " did not finish in 8 minutes; log: " + DIR.resolve("run/" + name
                    + ".log"));
        }
        assertThat(p.exitValue()).as(name + " exit value; log:\n" + tail(log(name))).isZero();
    }

    /** Starts {@code java [jvmOptions] -cp SPARK_HOME/jars/* args}, output to run/NAME.log. */
    private static Process start(String name, List<String> args, Map<String, String> env, String... jvmOptions)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(jvmOptions));
        if (jvmOptions.length == 0) {
            cmd.add("-Xmx256m");
        }
        for (String o : OPENS.split("\\s+")) {
            if (!o.isBlank()) {
                cmd.add(o);
            }
        }
        cmd.addAll(List.of("-XX:-UsePerfData", "-Djava.io.tmpdir=" + DIR.resolve("run/tmp"),
                "-Dlogback.configurationFile=" + DIR.resolve("run/logback.xml"), "-cp",
                SPARK_HOME.resolve("jars") + "/*"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(Files.createDirectories(DIR.resolve("run")).toFile())
                .redirectErrorStream(true).redirectOutput(DIR.resolve("run/" + name + ".log").toFile());
        pb.environment().put("SPARK_HOME", SPARK_HOME.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.12");
        pb.environment().put("SPARK_LOG_DIR", DIR.resolve("run").toString());
        pb.environment().put("SPARK_WORKER_DIR", DIR.resolve("run").toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        STARTED.add(p);
        return p;
    }

    private static void awaitLog(Process p, String name, String text, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (log(name).contains(text)) {
                return;
            }
            if (!p.isAlive()) {
                throw new AssertionError(name + " exited (" + p.exitValue() + "):\n" + tail(log(name)));
            }
            Thread.sleep(200);
        }
        throw new AssertionError(name + " did not log '" + text + "' in " + timeout + ":\n" + tail(log(name)));
    }

    private static String log(String name) throws IOException {
        Path f = DIR.resolve("run/" + name + ".log");
        return Files.exists(f) ? Files.readString(f) : "";
    }

    private static String tail(String s) {
        return s.length() <= 6000 ? s : s.substring(s.length() - 6000);
    }

    /**
     * SPARK_HOME/jars: links to the classpath's jars that a Spark distribution has; DL4J, ND4J, JavaCPP and this
     * library reach the JVMs only in the submitted jars.
     */
    private static void sparkHome() throws IOException {
        Path jars = SPARK_HOME.resolve("jars");
        deleteRecursively(SPARK_HOME);
        Files.createDirectories(jars);
        String classpath = Files.readString(Path.of(System.getProperty("cluster.classpath"))).trim();
        for (String entry : classpath.split(java.io.File.pathSeparator)) {
            Path jar = Path.of(entry);
            String s = jar.toString().replace('\\', '/');
            if (!s.endsWith(".jar") || s.contains("/org/deeplearning4j/") || s.contains("/org/nd4j/")
                    || s.contains("/org/bytedeco/") || s.contains("/org/dl4jclipping/")) {
                continue;
            }
            Path link = jars.resolve(jar.getFileName());
            if (!Files.exists(link)) {
                Files.createSymbolicLink(link, jar);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
