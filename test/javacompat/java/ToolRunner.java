import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.common.utils.internals.Exit;

/**
 * Runs Kafka's command-line tools (or any class with a main method) in this one JVM, one
 * after another, as a shell would run kafka-topics.sh and friends, but without a JVM
 * start-up per command.
 *
 * <p>It reads one JSON request per line on stdin: {"main": "org.apache.kafka.tools.TopicCommand",
 * "args": [...], "stdin": "..."}, runs main with System.in, System.out and System.err
 * redirected, and answers one JSON line on stdout: {"exit": N, "out": "...", "err": "..."}.
 *
 * <p>The exit code is the one the process would have ended with. The tools end through Kafka's
 * Exit.exit; we capture it and park the calling thread for good, because a real exit runs
 * no more of the tool's code (no catch, no finally) and a thrown exception would. A main that
 * returns is 0; an uncaught exception is 1 with its stack trace on err, as the JVM prints it.
 * Each command runs in a thread group of its own, which the threads it starts inherit, so an
 * exit from a thread a command left behind never ends a later command. Log4j writes to the
 * redirected System.err (see log4j2-tools.properties).
 */
public final class ToolRunner {
    /** The running and past commands by thread group, completed with their exit codes. */
    private static final Map<ThreadGroup, CompletableFuture<Integer>> RUNS = new ConcurrentHashMap<>();
    private static volatile CompletableFuture<Integer> current;

    public static void main(String[] args) throws Exception {
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        Exit.Procedure exit = (code, message) -> {
            for (ThreadGroup g = Thread.currentThread().getThreadGroup(); g != null; g = g.getParent()) {
                CompletableFuture<Integer> run = RUNS.get(g);
                if (run != null) {
                    if (message != null && run == current) {
                        System.err.println(message);
                    }
                    run.complete(code);
                    break;
                }
            }
            parkForever();
        };
        Exit.setExitProcedure(exit);
        Exit.setHaltProcedure(exit);
        // A process that ends runs its shutdown hooks; the tools close their clients on their
        // normal paths, and the hooks only matter to a process stopped by a signal.
        Exit.setShutdownHookAdder((name, hook) -> { });

        ObjectMapper json = new ObjectMapper();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode req = json.readTree(line);
            List<String> toolArgs = new ArrayList<>();
            req.path("args").forEach(a -> toolArgs.add(a.asText()));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
            PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
            System.setIn(new ByteArrayInputStream(req.path("stdin").asText("").getBytes(StandardCharsets.UTF_8)));
            System.setOut(outStream);
            System.setErr(errStream);
            int code = run(req.path("main").asText(), toolArgs.toArray(new String[0]), errStream);
            outStream.flush();
            errStream.flush();
            ObjectNode resp = json.createObjectNode();
            resp.put("exit", code);
            resp.put("out", out.toString(StandardCharsets.UTF_8));
            resp.put("err", err.toString(StandardCharsets.UTF_8));
            protocol.println(json.writeValueAsString(resp));
        }
        // Tools parked in Exit.exit and their clients' threads must not keep the JVM alive.
        System.exit(0);
    }

    /** run calls mainClass.main(args) on a thread of its own and returns its exit code. */
    private static int run(String mainClass, String[] args, PrintStream err) throws InterruptedException {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        ThreadGroup group = new ThreadGroup("command-" + RUNS.size());
        RUNS.put(group, done);
        current = done;
        Thread tool = new Thread(group, () -> {
            try {
                Class.forName(mainClass).getMethod("main", String[].class).invoke(null, (Object) args);
                done.complete(0);
            } catch (InvocationTargetException e) {
                err.print("Exception in thread \"main\" ");
                e.getCause().printStackTrace(err);
                done.complete(1);
            } catch (ReflectiveOperationException e) {
                e.printStackTrace(err);
                done.complete(127);
            }
        }, "main");
        tool.setDaemon(true);
        tool.start();
        try {
            return done.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void parkForever() {
        while (true) {
            LockSupport.park();
        }
    }
}
