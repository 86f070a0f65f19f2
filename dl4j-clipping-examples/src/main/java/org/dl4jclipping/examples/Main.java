package org.dl4jclipping.examples;

import java.io.PrintWriter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The examples' entry point:
 * {@code mvn -B -q -pl dl4j-clipping-examples -am package -DskipTests exec:java -Dexec.args="char-lm --quick"}.
 *
 * <p>Exit codes: 0 done, 2 a usage error or a missing or malformed file (one message, no stack trace), 1 anything
 * else.
 */
@Command(name = "dl4j-clipping-examples", mixinStandardHelpOptions = true, version = "dl4j-clipping examples 0.1.0",
        description = "Sequence models trained with gradient clipping (dl4j-clipping).",
        subcommands = {CharLmCommand.class, ForecastCommand.class, ClassifyCommand.class, LrSweepCommand.class,
                DemoCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        int code = execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Runs the command line and returns the exit code (no {@code System.exit}). */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    /** The command line with its error handling; tests set its output streams. */
    public static CommandLine commandLine() {
        System.setProperty("java.awt.headless", "true");
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        // ND4J's OpenMP threads spin while they wait; on a small machine that costs far more than the little
        // parallelism these recurrent layers offer (a --quick char-lm: 19 s with 1 thread, 170 s with 2 on a busy
        // 2-core machine; a 2 x LSTM(256) char-lm step 1.3 s with OpenBLAS on 2 threads). One thread for libnd4j's
        // loops and for OpenBLAS unless OMP_NUM_THREADS says otherwise.
        if (System.getenv("OMP_NUM_THREADS") == null) {
            Nd4j.getEnvironment().setMaxThreads(1);
            Nd4j.getEnvironment().setMaxMasterThreads(1);
            Nd4j.factory().blas().setMaxThreads(1);
        }
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("error: " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            err.flush();
            commandLine.getOut().flush();
            if (ex instanceof UserError) {
                err.println("error: " + ex.getMessage());
                err.flush();
                return 2;
            }
            throw ex;
        });
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
