package dev.llmkit.cli;

import dev.llmkit.core.DataException;
import dev.llmkit.core.model.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Loads the model that a {@code generate}, {@code chat} or {@code eval} command line names (its first
 * {@code -m}/{@code --model}) on a second thread while picocli builds its model of the command on the
 * first (in a fresh JVM that takes about 0.2 s of one core, interpreted), so that the two overlap: the
 * command then takes the loaded model instead of loading it again. Only a file or directory that
 * exists is loaded ahead, exactly as the command line names it; the load starts before the command
 * line is checked, so a command that fails its checks (or only prints help) has spent that CPU for
 * nothing. If loading ahead failed, the command loads the model itself and reports the error as it
 * always does.
 */
final class ModelPrefetch {
    private ModelPrefetch() {}

    private static final Set<String> COMMANDS = Set.of("generate", "chat", "eval");
    private static Path path;
    private static FutureTask<Checkpoint.Loaded> task;

    /** Starts loading the model named by {@code args} in the background, if they run a command that loads one. */
    static synchronized void start(String[] args) {
        String command = null, model = null;
        for (int i = 0; i < args.length && model == null; i++) {
            String a = args[i];
            if (a.equals("--")) break;
            if (command == null) {
                if (!a.startsWith("-")) command = a;
            } else if ((a.equals("-m") || a.equals("--model")) && i + 1 < args.length) {
                model = args[i + 1];
            } else if (a.startsWith("--model=")) {
                model = a.substring("--model=".length());
            }
        }
        if (command == null || model == null || !COMMANDS.contains(command)) return;
        Path p;
        try {
            p = Path.of(model);
        } catch (InvalidPathException e) {
            return;
        }
        if (!Files.isRegularFile(p) && !Files.isDirectory(p)) return;
        path = p;
        task = new FutureTask<>(() -> ModelCommand.loadNow(p, dev.llmkit.eval.engine.LlamaEngine::prepare));
        Thread t = new Thread(task, "llmkit-load");
        t.setDaemon(true);
        t.start();
    }

    /** What is being loaded ahead (tests), or null. */
    static synchronized Path pending() {
        return task == null ? null : path;
    }

    /**
     * The model loaded ahead if it is {@code model} (the same path, or the same file by another
     * path), else null: none was, it is another model (whose load is then abandoned: the first model a
     * command loads is the one its line names first), or loading it failed.
     */
    static Checkpoint.Loaded take(Path model) {
        FutureTask<Checkpoint.Loaded> t;
        Path p;
        synchronized (ModelPrefetch.class) {
            t = task;
            p = path;
            task = null;
            path = null;
        }
        if (t == null) return null;
        if (!same(p, model)) {
            t.cancel(true);
            return null;
        }
        try {
            return t.get();
        } catch (ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            t.cancel(true);
            Thread.currentThread().interrupt();
            throw new DataException("interrupted while loading " + model, "run the command again", e);
        }
    }

    private static boolean same(Path a, Path b) {
        if (a.toAbsolutePath().equals(b.toAbsolutePath())) return true;
        try {
            return Files.isSameFile(a, b);
        } catch (IOException | SecurityException e) {
            return false;
        }
    }
}
