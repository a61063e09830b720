package dev.llmkit.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.FinetuneConfig;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import dev.llmkit.trainer.TrainingLoop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fine-tuning end to end on a tiny model: outputs, exact resume, vocabulary growth, the errors users meet. */
class FinetunerTest {
    @TempDir
    Path dir;

    private static final TrainingLoop.Listener QUIET = new TrainingLoop.Listener() {};

    /** A byte-level base tokenizer (with or without the chat tokens) and a random tiny model on it. */
    private Path base(boolean chatTokens) {
        Path tokJson = dir.resolve("tok-" + chatTokens + ".json");
        List<String> special = chatTokens ? List.of(Tokenizer.EOT, ChatTemplate.IM_START, ChatTemplate.IM_END, "<|pad|>") : List.of(Tokenizer.EOT);
        TokenizerJson.write(TokenizerJson.build(new int[0][], special, SplitPattern.GPT2), tokJson);
        Tokenizer tok = Tokenizer.load(tokJson);
        ModelConfig c = new ModelConfig(32, 48, 2, 4, 2, tok.vocabSize(), 96, 1e-5f, 10000f, true);
        Path out = dir.resolve("base-" + chatTokens);
        Checkpoint.write(out, Weights.init(c, 0.02f, 1), tokJson, null, false);
        return out;
    }

    /** Question/answer pairs of a tiny fact table. */
    private Path qa(int n) throws IOException {
        String[] names = {"Ada", "Bo", "Cy", "Di", "Ed", "Flo"}, cities = {"Oslo", "Rome", "Lima", "Pune"};
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            lines.add(Json.COMPACT.writeValueAsString(Map.of("question", "Where does " + names[i % 6] + " " + i + " live?",
                    "answer", cities[(i * 7) % 4])));
        }
        Path f = dir.resolve("qa.jsonl");
        Files.write(f, lines);
        return f;
    }

    private static FinetuneConfig cfg(String... sets) {
        List<String> all = new ArrayList<>(List.of("finetune.batch_size=4", "finetune.seq_len=64", "finetune.steps=8", "finetune.eval_interval=4",
                "finetune.warmup_steps=2", "finetune.lr=0.01", "finetune.grad_accum=2", "finetune.em_samples=4", "finetune.em_max_tokens=4",
                "finetune.val_fraction=0.2", "finetune.threads=2"));
        all.addAll(List.of(sets));
        return ConfigLoader.load(null, all).config().finetune();
    }

    private Finetuner.Result run(Path base, Path data, FinetuneConfig c, Path out, boolean resume, TrainingLoop.Listener l) {
        return Finetuner.run(base, List.of(data.toString()), Map.of(), c, out, resume, Progress.NONE, l);
    }

    @Test
    void trainsResumesBitwiseAndSavesTheChatTemplate() throws IOException {
        Path base = base(true), data = qa(60);
        Finetuner.Result straight = run(base, data, cfg(), dir.resolve("a"), false, QUIET);
        assertEquals(8, straight.train().steps());
        Path ckpt = straight.train().checkpoint();
        Checkpoint.Loaded tuned = Checkpoint.read(ckpt);
        assertEquals(ChatTemplate.JINJA, tuned.chatTemplate());
        assertTrue(Files.exists(ckpt.resolve("tokenizer_config.json")));
        JsonNode report = Json.MAPPER.readTree(dir.resolve("a/report.json").toFile());
        assertEquals(60, report.at("/data/records").asInt());
        assertEquals(60, report.at("/examples/train").asInt() + report.at("/examples/val").asInt());
        List<String> metrics = Files.readAllLines(dir.resolve("a/metrics.jsonl"));
        assertTrue(Json.MAPPER.readTree(metrics.get(3)).has("val_exact_match"), metrics.get(3));
        // a crash after step 5, then --resume on one thread: the same model and optimizer state
        Path b = dir.resolve("b");
        assertThrows(IllegalStateException.class, () -> run(base, data, cfg(), b, false, new TrainingLoop.Listener() {
            @Override
            public void afterStep(long step) {
                if (step == 5) throw new IllegalStateException("simulated crash after step 5");
            }
        }));
        Finetuner.Result resumed = run(base, data, cfg("finetune.threads=1"), b, true, QUIET);
        assertTrue(resumed.train().resumed());
        for (String f : List.of("model.safetensors", "trainer-state/optimizer.safetensors", "tokenizer_config.json")) {
            assertArrayEquals(Files.readAllBytes(ckpt.resolve(f)), Files.readAllBytes(resumed.train().checkpoint().resolve(f)), f);
        }
        // resuming on other data is refused
        Files.writeString(data, "{\"question\": \"Who?\", \"answer\": \"Me\"}\n", java.nio.file.StandardOpenOption.APPEND);
        ConfigException e = assertThrows(ConfigException.class, () -> run(base, data, cfg("finetune.steps=9"), b, true, QUIET));
        assertTrue(e.getMessage().contains("not the data"), e.getMessage());
    }

    @Test
    void loraSavesAdaptersAloneResumesBitwiseAndMerges() throws IOException {
        Path base = base(true), data = qa(60);
        FinetuneConfig c = cfg("finetune.lora.enabled=true", "finetune.lora.rank=4", "finetune.lora.dropout=0.1");
        Finetuner.Result straight = run(base, data, c, dir.resolve("a"), false, QUIET);
        Path ckpt = straight.train().checkpoint();
        assertTrue(Files.exists(ckpt.resolve("adapter_model.safetensors")) && Files.exists(ckpt.resolve("adapter_config.json")));
        assertTrue(!Files.exists(ckpt.resolve("model.safetensors")), "an adapter checkpoint holds no base weights");
        JsonNode ac = Json.MAPPER.readTree(ckpt.resolve("adapter_config.json").toFile());
        assertEquals(4, ac.get("r").asInt());
        assertEquals("LORA", ac.get("peft_type").asText());
        // the merged model: the base changed only where adapters are, and equal to merging the checkpoint again
        Checkpoint.Loaded merged = Checkpoint.read(straight.merged());
        Weights again = dev.llmkit.trainer.Adapters.merge(Checkpoint.read(base).weights(), ckpt);
        assertArrayEquals(again.get(TensorNames.blk(1, "ffn_down")), merged.weights().get(TensorNames.blk(1, "ffn_down")));
        assertArrayEquals(Checkpoint.read(base).weights().get(TensorNames.EMBED), merged.weights().get(TensorNames.EMBED));
        assertTrue(!java.util.Arrays.equals(Checkpoint.read(base).weights().get(TensorNames.blk(0, "attn_q")), merged.weights().get(TensorNames.blk(0, "attn_q"))));
        assertEquals(ChatTemplate.JINJA, merged.chatTemplate());
        // crash and resume (dropout masks included) give the same adapters
        Path b = dir.resolve("b");
        assertThrows(IllegalStateException.class, () -> run(base, data, c, b, false, new TrainingLoop.Listener() {
            @Override
            public void afterStep(long step) {
                if (step == 6) throw new IllegalStateException("simulated crash after step 6");
            }
        }));
        ConfigException other = assertThrows(ConfigException.class, () -> run(base, data, cfg("finetune.lora.enabled=true", "finetune.lora.rank=8",
                "finetune.lora.dropout=0.1"), b, true, QUIET));
        assertTrue(other.getMessage().contains("finetune.lora.rank"), other.getMessage());
        // resumed on one thread: the adapters' products and row work give the same bits however the threads share them
        Finetuner.Result resumed = run(base, data, cfg("finetune.lora.enabled=true", "finetune.lora.rank=4", "finetune.lora.dropout=0.1",
                "finetune.threads=1"), b, true, QUIET);
        for (String f : List.of("adapter_model.safetensors", "trainer-state/optimizer.safetensors")) {
            assertArrayEquals(Files.readAllBytes(ckpt.resolve(f)), Files.readAllBytes(resumed.train().checkpoint().resolve(f)), f);
        }
    }

    @Test
    void aLongConversationKeepsItsLeadingTurns() throws IOException {
        Path base = base(true);
        Tokenizer tok = Checkpoint.read(base).tokenizer();
        dev.llmkit.core.tokenizer.ChatMessage u = new dev.llmkit.core.tokenizer.ChatMessage("user", "Hi?"),
                a = new dev.llmkit.core.tokenizer.ChatMessage("assistant", "Yes."),
                longer = new dev.llmkit.core.tokenizer.ChatMessage("user", "word ".repeat(60));
        dev.llmkit.finetune.data.Conversation conv = new dev.llmkit.finetune.data.Conversation(List.of(u, a, longer, a), "x:1");
        SftExamples.Split split = SftExamples.build(List.of(conv), tok, 64, 0, "");
        assertEquals(1, split.truncated());
        assertArrayEquals(ChatTemplate.render(tok, List.of(u, a), false).tokens(), split.train().get(0).tokens());
    }

    @Test
    void loraOnABaseWithoutChatTokensIsRefused() throws IOException {
        Path base = base(false);
        ConfigException e = assertThrows(ConfigException.class, () -> run(base, qa(10), cfg("finetune.lora.enabled=true"), dir.resolve("l"), false, QUIET));
        assertTrue(e.getMessage().contains("LoRA"), e.getMessage());
    }

    @Test
    void aBaseWithoutChatTokensGrowsItsVocabulary() throws IOException {
        Path base = base(false);
        int before = Checkpoint.read(base).weights().config().vocabSize();
        Finetuner.Result r = run(base, qa(20), cfg("finetune.steps=2", "finetune.em_samples=0"), dir.resolve("g"), false, QUIET);
        Checkpoint.Loaded tuned = Checkpoint.read(r.train().checkpoint());
        assertEquals(before + 2, tuned.weights().config().vocabSize());
        assertTrue(tuned.tokenizer().addedId(ChatTemplate.IM_END) >= before);
        Weights grown = Finetuner.grow(Checkpoint.read(base).weights(), before + 2);
        float[] e = grown.get(TensorNames.EMBED);
        int d = grown.config().dim();
        double mean0 = 0;
        for (int r0 = 0; r0 < before; r0++) mean0 += e[r0 * d];
        assertEquals(mean0 / before, e[before * d], 1e-6, "a new row starts as the mean of the old rows");
    }

    @Test
    void answersCutAwayBySeqLenAreAnErrorNamingTheCause() throws IOException {
        Path base = base(true);
        Path f = dir.resolve("long.jsonl");
        Files.writeString(f, "{\"prompt\": \"" + "word ".repeat(80) + "\", \"completion\": \"yes\"}\n");
        DataException e = assertThrows(DataException.class, () -> run(base, f, cfg(), dir.resolve("x"), false, QUIET));
        assertTrue(e.getMessage().contains("seq_len"), e.getMessage());
        assertNotNull(e.hint());
    }
}
