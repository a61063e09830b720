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
    void aFinishedStageWhoseArtefactIsGoneRunsAgain(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        run(pipeline(out, List.of("pipeline.quantize=[q8_0]")));
        Files.delete(out.resolve("05-quantize/model-q8_0.gguf"));
        String status = run("pipeline", "status", out.toString());
        assertTrue(status.contains("incomplete") && status.contains("05-quantize/model-q8_0.gguf is missing"), status);
        String again = run(pipeline(out, List.of("pipeline.quantize=[q8_0]")));
        assertTrue(again.contains("quantize -> ") && again.contains("re-running (05-quantize/model-q8_0.gguf is missing)"), again);
        assertTrue(Files.isRegularFile(out.resolve("05-quantize/model-q8_0.gguf")));
        assertEquals(7, again.lines().filter(l -> l.contains("skipped")).count(), again);
    }

    /** configs/my-corpus.yaml: the user's shards and Q&A instead of the synthesized ones. */
    @Test
    void runsOnTheUsersShardsAndQuestions(@TempDir Path dir) throws Exception {
        Path shards = Files.createDirectories(dir.resolve("shards"));
        StringBuilder docs = new StringBuilder();
        String[] animals = {"fox", "dog", "cat", "owl", "hen", "cow"}, colours = {"red", "brown", "grey", "white", "black"};
        for (int i = 0; i < 300; i++) {
            docs.append("{\"text\":\"Story ").append(i).append(": the ").append(colours[i % 5]).append(' ').append(animals[i % 6])
                    .append(" jumps over the lazy ").append(animals[(i / 6) % 6]).append(" and runs home before night falls.\"}\n");
        }
        Files.writeString(shards.resolve("part-0.jsonl"), docs);
        Path qa = dir.resolve("qa.jsonl");
        StringBuilder q = new StringBuilder();
        for (int i = 0; i < 60; i++) q.append("{\"question\":\"What colour is animal ").append(i).append("?\",\"answer\":\"").append(colours[i % 5]).append("\"}\n");
        Files.writeString(qa, q);
        Path out = dir.resolve("mine");
        List<String> sets = new ArrayList<>(List.of("pipeline.inputs=[" + shards + "]", "data.prepare.val_fraction=0.1", "pipeline.finetune_data=" + qa));
        String first = run(mine(out, sets));
        assertTrue(first.contains("synth -> ") && first.contains("not run (pipeline.inputs names the corpus)"), first);
        String md = Files.readString(out.resolve("06-eval/report.md"));
        assertTrue(md.contains("validation") && md.contains("fine-tuned") && md.contains("fine-tuned Q4_K_M"), md);
        assertTrue(!Files.exists(out.resolve("raw")));
        // no fine-tuning data: no fine-tuning stage; quantization and evaluation follow the pre-trained model
        String noFt = run(mine(out, sets.subList(0, 2)));
        assertTrue(noFt.contains("finetune -> ") && noFt.contains("not run (no pipeline.finetune_data)"), noFt);
        assertTrue(noFt.contains("quantize -> ") && noFt.contains("re-running (finetune is no longer an input)"), noFt);
        assertTrue(Files.readString(out.resolve("06-eval/report.md")).contains("pretrained Q8_0"));
        // a changed input file re-runs preparation and everything after it
        Files.writeString(shards.resolve("part-0.jsonl"), docs + "{\"text\":\"One more story about a fox.\"}\n");
        String changed = run(mine(out, sets.subList(0, 2)));
        assertTrue(changed.contains("prepare -> ") && changed.contains("re-running (its input files changed)"), changed);
        String status = run("pipeline", "status", out.toString());
        assertTrue(status.lines().anyMatch(l -> l.startsWith("synth") && l.contains("skipped")), status);
        var missing = CliRun.run("pipeline", "run", "../configs/my-corpus.yaml", "--out", dir.resolve("none").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("pipeline.inputs: my-shards/ does not exist"), missing.err());
        assertTrue(!Files.exists(dir.resolve("none")), "nothing written before the inputs are checked");
    }

    private static String[] mine(Path out, List<String> extra) {
        List<String> a = new ArrayList<>(List.of("pipeline", "run", "../configs/my-corpus.yaml", "--out", out.toString()));
        for (String s : SMALL) a.addAll(List.of("--set", s));
        for (String s : extra) a.addAll(List.of("--set", s));
        return a.toArray(new String[0]);
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
