package dev.llmkit.cli;

import dev.llmkit.core.model.Checkpoint;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Loads the model that a {@code generate}, {@code chat} or {@code eval} command line names while picocli
 * builds its model of the command (in a fresh JVM that takes about 0.2 s of one core, interpreted), so
 * that the two overlap: the command then takes the loaded model instead of loading it again. Only a file or
 * directory that exists is loaded ahead; if loading it fails, the command loads it itself and reports
 * the error as it always does.
 */
final class ModelPrefetch {
    private ModelPrefetch() {}

    private static final Set<String> COMMANDS = Set.of("generate", "chat", "eval");
    private static Path path;
    private static FutureTask<Checkpoint.Loaded> task;

    /** Starts loading the model named by {@code args} in the background, if they run a command that loads one. */
    static synchronized void start(String[] args) {
        String command = null, model = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (command == null) {
                if (!a.startsWith("-")) command = a;
                continue;
            }
            if ((a.equals("-m") || a.equals("--model")) && i + 1 < args.length) model = args[i + 1];
            else if (a.startsWith("--model=")) model = a.substring("--model=".length());
            else if (a.equals("--")) break;
            if (model != null) break;
        }
        if (command == null || model == null || !COMMANDS.contains(command)) return;
        Path p;
        try {
            p = Path.of(model).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            return;
        }
        if (!Files.isRegularFile(p) && !Files.isDirectory(p)) return;
        path = p;
        task = new FutureTask<>(() -> ModelCommand.loadNow(p));
        Thread t = new Thread(task, "llmkit-load");
        t.setDaemon(true);
        t.start();
    }

    /** The model loaded ahead for {@code model}, or null: none was, or loading it failed. */
    static synchronized Checkpoint.Loaded take(Path model) {
        FutureTask<Checkpoint.Loaded> t = task;
        if (t == null || !path.equals(model.toAbsolutePath().normalize())) return null;
        task = null;
        path = null;
        try {
            return t.get();
        } catch (ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
