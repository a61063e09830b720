package dev.llmkit.trainer;

import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.io.Safetensors;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Tensor;
import dev.llmkit.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoints of a training run: {@code <out>/checkpoints/step-NNNNNN/} holds config.json,
 * model.safetensors, tokenizer.json, provenance.json and trainer-state/ (state.json and
 * optimizer.safetensors with AdamW's moments). Each is written in a staging directory and renamed,
 * so a kill at any moment leaves only complete checkpoints under their final names. The newest
 * {@code keep_checkpoints} and the best by validation loss are kept; {@code final} links to the last.
 */
public final class Checkpoints {
    private static final Pattern NAME = Pattern.compile("step-(\\d{6,})");
    private final Path out, dir, tokenizerJson;
    private final Tokenizer tok;
    private final LoopConfig cfg;
    private final String stage, dataSha256, dataHint;
    private final List<Provenance.InputRef> inputs;
    private final Map<String, Object> config;
    private Path adapterBase;

    /**
     * The checkpoints of a run in {@code out}.
     *
     * @param stage      provenance stage name (pretrain, finetune)
     * @param inputs     provenance inputs (the tokenizer is added)
     * @param config     the resolved config sections recorded in provenance.json
     * @param dataSha256 identity of the training data: a resume on other data is refused
     * @param dataHint   what to say when it differs (e.g. "resume with the run's own --tokens")
     */
    public Checkpoints(Path out, Tokenizer tok, Path tokenizerJson, LoopConfig cfg, String stage, List<Provenance.InputRef> inputs,
                       Map<String, Object> config, String dataSha256, String dataHint) {
        this.out = out;
        this.tok = tok;
        this.dir = out.resolve("checkpoints");
        this.tokenizerJson = tokenizerJson;
        this.cfg = cfg;
        this.stage = stage;
        this.inputs = new ArrayList<>(inputs);
        this.inputs.add(Provenance.InputRef.of(tokenizerJson, tok.sha256()));
        this.config = config;
        this.dataSha256 = dataSha256;
        this.dataHint = dataHint;
    }

    Path out() {
        return out;
    }

    /**
     * LoRA runs: checkpoints hold the adapters alone ({@link Adapters}: adapter_model.safetensors and
     * adapter_config.json naming {@code base}) instead of the whole model.
     */
    public Checkpoints adapters(Path base) {
        this.adapterBase = base;
        return this;
    }

    /** A fresh run, or the newest checkpoint's state with {@code resume}. */
    RunState start(boolean resume, ModelConfig mc, ParamLayout layout, Supplier<float[]> init, TrainingLoop.Listener log) {
        Path newest = newestPath();
        if (newest != null && !resume) {
            throw new ConfigException(out + " already holds checkpoints (newest " + newest.getFileName() + ")",
                    "pass --resume to continue that run, or choose another --out");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StorageException(dir + ": cannot create: " + e.getMessage(), null, e);
        }
        sweep();
        RunState s = new RunState();
        if (newest == null) {
            if (resume) log.log("no checkpoint in " + dir + " yet: starting from step 0");
            s.params = init.get();
            s.m = new float[layout.size - layout.trainFrom];
            s.v = new float[layout.size - layout.trainFrom];
            return s;
        }
        TrainerState st = TrainerState.read(newest.resolve("trainer-state/state.json"));
        if (!st.model().equals(mc)) {
            throw new ConfigException(newest + " is a " + st.model() + ", the config asks for " + mc, "resume with the run's own config");
        }
        checkSameMath(newest, st.loop());
        if (!dataSha256.equals(st.dataSha256())) {
            throw new ConfigException("the training data is not the data the run in " + out + " was trained on", dataHint);
        }
        if (layout.frozenBase()) {
            s.params = init.get();     // the frozen base, and the adapters from the checkpoint
            Adapters.read(newest, layout, s.params);
        } else {
            s.params = layout.flatten(Checkpoint.read(newest).weights());
        }
        Map<String, Tensor> opt = Safetensors.read(newest.resolve("trainer-state/optimizer.safetensors"));
        s.m = moment(opt, "adamw.m", layout, newest);
        s.v = moment(opt, "adamw.v", layout, newest);
        s.step = st.step();
        s.tokensSeen = st.tokensSeen();
        s.elapsed = st.elapsedSeconds();
        s.bestVal = st.bestValLoss();
        s.bestStep = st.bestStep();
        s.skipped = st.skippedSteps();
        s.adamSteps = st.adamSteps();
        s.resumed = true;
        return s;
    }

    /** Resuming with other values of keys that change the arithmetic would not continue the same run. */
    private void checkSameMath(Path ckpt, LoopConfig was) {
        java.util.Map<String, Object> before = was.arithmetic(), now = cfg.arithmetic();
        java.util.Set<String> keys = new java.util.LinkedHashSet<>(now.keySet());
        keys.addAll(before.keySet());
        for (String k : keys) {
            if (!Objects.equals(before.get(k), now.get(k))) {
                throw new ConfigException(cfg.section() + "." + k + " is " + now.get(k) + " but the run in " + ckpt.getParent() + " used " + before.get(k),
                        "resume with the run's own config and flags (steps may change)");
            }
        }
    }

    private static float[] moment(Map<String, Tensor> opt, String name, ParamLayout layout, Path ckpt) {
        Tensor t = opt.get(name);
        if (t == null || t.data().length != layout.size - layout.trainFrom) {
            throw new DataException(ckpt.resolve("trainer-state/optimizer.safetensors") + ": missing or wrong-sized " + name, "resume from another checkpoint");
        }
        return t.data();
    }

    /** Writes checkpoint step-NNNNNN atomically, then prunes old ones. */
    Path save(ParamLayout layout, RunState s) {
        Path target = dir.resolve(String.format("step-%06d", s.step));
        TrainerState st = new TrainerState(TrainerState.VERSION, s.step, s.tokensSeen, s.elapsed, s.bestVal, s.bestStep, s.skipped,
                s.adamSteps, dataSha256, layout.c, cfg);
        Provenance prov = new Provenance(stage, Provenance.versions(Map.of()), inputs, config, ConfigLoader.sha256(Json.MAPPER.valueToTree(config)));
        Checkpoint.Extra state = staging -> {
            Path ts = Files.createDirectories(staging.resolve("trainer-state"));
            Safetensors.write(ts.resolve("optimizer.safetensors"), List.of(
                    new Tensor("adamw.m", new int[] {s.m.length}, s.m), new Tensor("adamw.v", new int[] {s.v.length}, s.v)), Map.of());
            Json.write(ts.resolve("state.json"), st);
        };
        if (layout.frozenBase()) {
            saveAdapters(target, layout, s, prov, state);
        } else {
            Checkpoint.write(target, layout.toWeights(s.params), tok, tokenizerJson, prov, true, state);
        }
        prune(s.bestStep);
        return target;
    }

    /** An adapter checkpoint, staged and renamed like a model checkpoint. */
    private void saveAdapters(Path target, ParamLayout layout, RunState s, Provenance prov, Checkpoint.Extra state) {
        if (adapterBase == null) throw new IllegalStateException("a LoRA run needs Checkpoints.adapters(base)");
        Path staging = AtomicFiles.beginDir(target, true);
        try {
            Adapters.write(staging, layout, s.params, adapterBase);
            Files.copy(tokenizerJson, staging.resolve("tokenizer.json"));
            Path tc = tokenizerJson.resolveSibling(dev.llmkit.core.tokenizer.ChatTemplate.TOKENIZER_CONFIG);
            if (Files.exists(tc)) Files.copy(tc, staging.resolve(tc.getFileName()));
            Json.write(staging.resolve("provenance.json"), prov);
            state.write(staging);
            AtomicFiles.commitDir(staging, target);
        } catch (IOException e) {
            AtomicFiles.abortDir(staging);
            throw new StorageException(target + ": cannot write: " + e.getMessage(), null, e);
        } catch (RuntimeException e) {
            AtomicFiles.abortDir(staging);
            throw e;
        }
    }

    /** Deletes all but the newest keep_checkpoints and the best; each is renamed away first, so a kill mid-delete leaves no half checkpoint. */
    private void prune(long bestStep) {
        List<Path> all = list();
        for (int i = 0; i < all.size() - cfg.keepCheckpoints(); i++) {
            if (step(all.get(i)) == bestStep) continue;
            Path gone = dir.resolve("." + all.get(i).getFileName() + ".deleting");
            try {
                Files.move(all.get(i), gone, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                AtomicFiles.deleteRecursively(gone);
            } catch (IOException e) {
                throw new StorageException(all.get(i) + ": cannot delete an old checkpoint: " + e.getMessage(), null, e);
            }
        }
    }

    /** Removes what a killed run left half-deleted. */
    private void sweep() {
        try (Stream<Path> st = Files.list(dir)) {
            for (Path p : st.filter(p -> p.getFileName().toString().endsWith(".deleting")).toList()) AtomicFiles.deleteRecursively(p);
        } catch (IOException e) {
            throw new StorageException(dir + ": cannot clean up: " + e.getMessage(), null, e);
        }
    }

    /** Whether the run directory {@code out} holds a complete checkpoint. */
    public static boolean exist(Path out) {
        return !complete(out.resolve("checkpoints")).isEmpty();
    }

    /** Complete checkpoints, oldest first. */
    List<Path> list() {
        return complete(dir);
    }

    /** The complete checkpoints in {@code dir} (step-NNNNNN with trainer-state/state.json), oldest first. */
    private static List<Path> complete(Path dir) {
        List<Path> r = new ArrayList<>();
        if (!Files.isDirectory(dir)) return r;
        try (Stream<Path> st = Files.list(dir)) {
            st.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p.resolve("trainer-state/state.json")))
                    .sorted((a, b) -> Long.compare(step(a), step(b))).forEach(r::add);
        } catch (IOException e) {
            throw new StorageException(dir + ": cannot list: " + e.getMessage(), null, e);
        }
        return r;
    }

    Path newestPath() {
        List<Path> all = list();
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    String newest() {
        Path p = newestPath();
        return p == null ? null : p.getFileName().toString();
    }

    private static long step(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Points {@code <out>/final} at the checkpoint (a relative symlink, swapped atomically). */
    void linkFinal(Path ckpt) {
        if (ckpt == null) return;
        Path link = out.resolve("final"), tmp = out.resolve(".final.tmp");
        try {
            Files.deleteIfExists(tmp);
            Files.createSymbolicLink(tmp, out.relativize(ckpt));
            Files.move(tmp, link, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | UnsupportedOperationException e) {
            throw new StorageException(link + ": cannot link the final checkpoint: " + e.getMessage(), null, e instanceof IOException io ? io : null);
        }
    }

    public void appendSample(long step, String prompt, String text) {
        try {
            String line = Json.COMPACT.writeValueAsString(Map.of("step", step, "prompt", prompt, "text", text)) + "\n";
            Files.writeString(out.resolve("samples.jsonl"), line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new StorageException(out.resolve("samples.jsonl") + ": cannot write: " + e.getMessage(), null, e);
        }
    }

}
