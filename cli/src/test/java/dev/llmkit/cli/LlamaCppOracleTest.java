package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.LogFormat;
import de.kherud.llama.args.Sampler;
import dev.llmkit.core.Progress;
import dev.llmkit.core.config.PrepareConfig;
import dev.llmkit.core.config.SynthConfig;
import dev.llmkit.core.config.TokenizerConfig;
import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.data.corpus.CorpusTexts;
import dev.llmkit.data.prepare.Corpus;
import dev.llmkit.data.prepare.InputFiles;
import dev.llmkit.data.synth.Synth;
import dev.llmkit.eval.engine.LlamaEngine;
import dev.llmkit.tokenizertrainer.TokenizerStage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** llama.cpp (through de.kherud:llama) as the oracle for our GGUF files, tokenizer and engine. */
class LlamaCppOracleTest {
    @TempDir
    static Path dir;

    static Tokenizer tok;
    static Weights weights;
    static Path gguf;
    static final List<String> LOG = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void modelAndFile() {
        Synth.generate(new SynthConfig(300, 3, 3, 0.5, 1000), dir.resolve("raw"), false, Progress.NONE);
        Corpus.prepare(PrepareConfig.defaults(), InputFiles.resolve(List.of(dir.resolve("raw/corpus").toString())), dir.resolve("corpus"), false, Progress.NONE);
        CorpusTexts texts = CorpusTexts.open(List.of(dir.resolve("corpus")), List.of());
        TokenizerConfig tc = new TokenizerConfig(1024, "gpt2", TokenizerConfig.defaults().specialTokens(), 2, 32, 0, 2);
        tok = TokenizerStage.run(texts.train().iterator(), -1, null, -1, tc, List.of(), dir.resolve("tok"), false, Progress.NONE).tokenizer();
        ModelConfig c = new ModelConfig(64, 172, 2, 4, 2, tok.vocabSize(), 128, 1e-5f, 10000f, false);
        weights = Weights.init(c, 0.35f, 11);
        gguf = dir.resolve("model.gguf");
        GgufModel.export(weights, tok, gguf, Gguf.F32, "oracle-test");
        LlamaModel.setLogger(LogFormat.TEXT, (level, msg) -> LOG.add(level + " " + msg));
    }

    /**
     * One llama.cpp model for the class, never closed: the binding (3.4.1) crashes when a model is
     * closed while its server thread runs; the forked test JVM ends right after this class.
     */
    static LlamaModel llama;

    private static LlamaModel llama() {
        if (llama == null) llama = new LlamaModel(new ModelParameters().setModelFilePath(gguf.toString()).setNThreads(2).setNCtx(128).setNGpuLayers(0));
        return llama;
    }

    /**
     * Our greedy continuation, decoded. llama.cpp's ignore_eos bans its end-of-generation tokens (EOS
     * {@code <|endoftext|>} and the EOT it detects, {@code <|im_end|>}); so do we here.
     */
    private static String oursGreedy(LlamaEngine e, int[] prompt, int n) {
        float[] logits = null;
        for (int i = 0; i < prompt.length; i++) logits = e.forward(prompt[i], i, true);
        int[] out = new int[n];
        int eos = tok.eotId(), eot = tok.addedId("<|im_end|>");
        for (int k = 0; k < n; k++) {
            int best = -1;
            for (int i = 0; i < logits.length; i++) if (i != eos && i != eot && (best < 0 || logits[i] > logits[best])) best = i;
            out[k] = best;
            if (k + 1 < n) logits = e.forward(best, prompt.length + k, true);
        }
        return tok.decode(out);
    }

    static final List<String> TEXTS = List.of("Alice Smith was born on 12 March 1990 in Paris, France.",
            "It's 2026; they're here and we'll see. DON'T!", "  two  spaces\tand tabs\n\nnew lines  ",
            "def f(x):\n    return x ** 2", "caf\u00e9 na\u00efve \u65e5\u672c\u8a9e \ud83d\udc4d\ud83c\udffd emoji", "1234567 3.14 1e10", "");

    @Test
    void ourGgufLoadsWithoutTokenizerWarningsAndEncodesIdentically() {
        LlamaModel m = llama();
        {
            for (String l : LOG) {
                String low = l.toLowerCase();
                assertTrue(!(l.startsWith("WARN") || l.startsWith("ERROR")) || !(low.contains("token") || low.contains("vocab")), l);
                assertTrue(!low.contains("generation quality will be degraded"), l);
            }
            for (String s : TEXTS) assertArrayEquals(tok.encode(s), m.encode(s), s);
        }
    }

    @Test
    void greedyContinuationsAreIdentical() {
        List<String> prompts = List.of("Alice Smith was born", "The university of", "She works at", "<|endoftext|>In 1990");
        LlamaModel m = llama();
        try (LlamaEngine e = new LlamaEngine(weights, 2)) {
            for (String prompt : prompts) {
                String theirs = m.complete(new InferenceParameters(prompt).setTemperature(0).setNPredict(40).setIgnoreEos(true));
                String ours = oursGreedy(e, tok.encode(prompt, true), 40);
                assertEquals(theirs, ours, prompt);
                assertTrue(ours.length() > 40, "a non-trivial continuation: " + ours);
            }
        }
    }

    @Test
    void f16FileGivesTheSameGreedyContinuationInBoth() {
        Path f16 = dir.resolve("model-f16.gguf");
        GgufModel.export(weights, tok, f16, Gguf.F16, "oracle-test-f16");
        LlamaModel m = new LlamaModel(new ModelParameters().setModelFilePath(f16.toString()).setNThreads(2).setNCtx(128).setNGpuLayers(0));
        try (LlamaEngine e = new LlamaEngine(GgufModel.load(f16).weights(), 2)) {
            String prompt = "Alice Smith was born";
            assertEquals(m.complete(new InferenceParameters(prompt).setTemperature(0).setNPredict(32).setIgnoreEos(true)),
                    oursGreedy(e, tok.encode(prompt, true), 32));
        }
    }

    @Test
    void nextTokenProbabilitiesAgree() {
        List<String> prompts = List.of("Alice Smith was born", "He studied", "x", "The company is based in the city of");
        LlamaModel m = llama();
        try (LlamaEngine e = new LlamaEngine(weights, 2)) {
            for (String prompt : prompts) {
                InferenceParameters p = new InferenceParameters(prompt).setNPredict(1).setNProbs(10).setTemperature(1)
                        .setTopK(0).setTopP(1).setMinP(0).setSamplers(Sampler.TEMPERATURE).setSeed(1);
                Map<String, Float> theirs = null;
                for (LlamaOutput o : m.generate(p)) if (!o.probabilities.isEmpty()) theirs = o.probabilities;
                assertTrue(theirs != null && theirs.size() == 10, String.valueOf(theirs));
                int[] ids = tok.encode(prompt, true);
                float[] logits = null;
                for (int i = 0; i < ids.length; i++) logits = e.forward(ids[i], i, true);
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (float v : logits) max = Math.max(max, v);
                for (float v : logits) sum += Math.exp(v - max);
                double[] ours = new double[logits.length];
                for (int i = 0; i < logits.length; i++) ours[i] = Math.exp(logits[i] - max) / sum;
                double[] top = java.util.Arrays.stream(ours).map(x -> -x).sorted().map(x -> -x).limit(10).toArray();
                double[] their = theirs.values().stream().mapToDouble(Float::doubleValue).map(x -> -x).sorted().map(x -> -x).toArray();
                for (int i = 0; i < 10; i++) assertEquals(top[i], their[i], 1e-3, prompt + " rank " + i);
                assertTrue(top[0] > 0.05 && top[0] < 0.99, "a peaked but not degenerate distribution: " + top[0]);
            }
        }
    }
}
