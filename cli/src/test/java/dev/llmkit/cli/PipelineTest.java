package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code llmkit pipeline}: every stage once, nothing twice, a changed key re-runs from its stage on and says why. */
class PipelineTest {
    private static final Path DEMO = Path.of("../configs/demo.yaml");
    private static final List<String> SMALL = List.of("data.synth.people=40", "model.dim=64", "model.hidden_dim=256", "model.n_layers=2", "model.n_heads=2",
            "model.n_kv_heads=2", "tokenizer.vocab_size=512", "pretrain.steps=4", "pretrain.batch_size=2", "pretrain.seq_len=64", "pretrain.eval_interval=2",
            "pretrain.eval_batches=1", "pretrain.sample_tokens=4", "finetune.steps=2", "finetune.eval_interval=2", "finetune.em_samples=4", "finetune.batch_size=4");

    /** Runs the CLI and returns what it printed to standard output (exit 0 required). */
    private static String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            CliRun.ok(args);
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    private static String[] pipeline(Path out, List<String> extra, String... more) {
        List<String> a = new ArrayList<>(List.of("pipeline", "run", DEMO.toString(), "--out", out.toString()));
        for (String s : SMALL) a.addAll(List.of("--set", s));
        for (String s : extra) a.addAll(List.of("--set", s));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    @Test
    void runsEveryStageOnceSkipsThemThenRerunsFromAChangedKey(@TempDir Path dir) {
        Path out = dir.resolve("run");
        String first = run(pipeline(out, List.of()));
        for (Pipeline.Stage s : Pipeline.STAGES) assertTrue(Files.isRegularFile(Pipeline.done(out, s)), s.name() + " done:\n" + first);
        assertTrue(Files.isRegularFile(out.resolve("06-eval/report.html")));
        String md;
        try {
            md = Files.readString(out.resolve("06-eval/report.md"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertTrue(md.contains("## Pipeline") && md.contains("| pretrain |") && md.contains("Examples:"), md);
        assertTrue(Files.isRegularFile(out.resolve("05-quantize/model-q4_k_m.gguf")));
        String again = run(pipeline(out, List.of()));
        assertEquals(Pipeline.STAGES.size(), again.lines().filter(l -> l.contains("skipped")).count(), again);
        String changed = run(pipeline(out, List.of("finetune.steps=3")));
        assertEquals(5, changed.lines().filter(l -> l.contains("skipped")).count(), changed);
        assertTrue(changed.contains("finetune -> ") && changed.contains("re-running (finetune changed)"), changed);
        assertTrue(changed.contains("quantize -> ") && changed.contains("finetune was re-run"), changed);
        String status = run("pipeline", "status", out.toString());
        assertEquals(Pipeline.STAGES.size(), status.lines().filter(l -> l.contains(" done ")).count(), status);
        String from = run(pipeline(out, List.of("finetune.steps=3"), "--from", "eval"));
        assertEquals(7, from.lines().filter(l -> l.contains("skipped")).count(), from);
        assertTrue(from.contains("eval -> ") && from.contains("re-running (--from)"), from);
        assertEquals(2, CliRun.run("pipeline", "run", DEMO.toString(), "--out", out.toString(), "--from", "nope").code());
    }

    @Test
    void armsRunThePipelineOncePerArmAndPutTheirExactMatchSideBySide(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("exp.yaml");
        Files.writeString(cfg, Files.readString(DEMO) + "arms:\n  - name: one\n    set: [data.synth.augment=1]\n  - name: two\n    set: [data.synth.augment=2]\n");
        List<String> a = new ArrayList<>(List.of("pipeline", "run", cfg.toString(), "--out", dir.resolve("exp").toString()));
        for (String s : SMALL) a.addAll(List.of("--set", s));
        String out = run(a.toArray(new String[0]));
        assertTrue(out.contains("== arm one") && out.contains("== arm two"), out);
        String table = Files.readString(dir.resolve("exp/arms.md"));
        assertTrue(table.contains("| one | data.synth.augment=1 |") && table.contains("| two | data.synth.augment=2 |") && table.contains("bios:heldout"), table);
        assertTrue(Files.readString(dir.resolve("exp/one/pipeline.yaml")).contains("augment: 1"));
        assertTrue(Files.readString(dir.resolve("exp/two/pipeline.yaml")).contains("augment: 2"));
    }
}
