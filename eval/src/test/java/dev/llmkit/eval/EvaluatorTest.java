package dev.llmkit.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Progress;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import dev.llmkit.eval.engine.LanguageModel;
import dev.llmkit.eval.engine.LlamaEngine;
import dev.llmkit.eval.engine.Measures;
import dev.llmkit.eval.engine.State;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every metric against a value known by construction: log-likelihoods by the scoring path (shared
 * context, rewound KV cache, batched scoring) against token-by-token decoding; acc, acc_norm and their
 * standard errors from those; rolling perplexity against lm-eval's windows done by hand.
 */
class EvaluatorTest {
    static final Tokenizer TOK = byteTokenizer(300);
    static final Weights W = Weights.init(new ModelConfig(48, 80, 2, 6, 2, TOK.vocabSize(), 64, 1e-5f, 10000f, true), 0.6f, 7);

    static Tokenizer byteTokenizer(int vocab) {
        List<int[]> m = new ArrayList<>();
        int[] common = {' ', 'e', 't', 'a', 'o', 'n', 's', 'i', 'r', 'h'};
        for (int a : common) for (int b : common) if (m.size() < vocab - 257) m.add(new int[] {a, b});
        return TokenizerJson.build(m.toArray(new int[0][]), List.of(Tokenizer.EOT), SplitPattern.GPT2);
    }

    /** log p(cont | ctx) token by token through forward(), with lm-eval's tokenization of the pair. */
    static double reference(LlamaEngine e, String context, String continuation) {
        String ctx = context.stripTrailing(), moved = context.substring(ctx.length());
        int[] c = TOK.encode(ctx), whole = TOK.encode(ctx + moved + continuation);
        if (c.length == 0) c = new int[] {TOK.eotId()};
        int[] cont = Arrays.copyOfRange(whole, Math.min(c.length, whole.length), whole.length);
        int[] all = new int[c.length + cont.length];
        System.arraycopy(c, 0, all, 0, c.length);
        System.arraycopy(cont, 0, all, c.length, cont.length);
        int from = Math.max(0, all.length - (e.positions() + 1));     // lm-eval: (context + continuation)[-(max_length + 1):]
        double ll = 0;
        for (int i = from; i < all.length - 1; i++) {
            float[] logits = e.forward(all[i], i - from, true);
            if (i + 1 >= all.length - cont.length) ll += logSoftmax(logits, all[i + 1]);
        }
        return ll;
    }

    static double logSoftmax(float[] logits, int t) {
        double max = Double.NEGATIVE_INFINITY, z = 0;
        for (float v : logits) max = Math.max(max, v);
        for (float v : logits) z += Math.exp(v - max);
        return logits[t] - max - Math.log(z);
    }

    static final String[][] DOCS = {
        {"the cat sat on the ", "mat", "hat", "rat. a longer one"},
        {"Question: where does the sun rise?\nAnswer:", "east", "in the west, near the sea", "north"},
        {"  ", "one", "two", "three"},
        {"a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p", "next", "then", "it is over"},
    };

    @Test
    void loglikelihoodsEqualTokenByTokenDecodingAndGiveTheKnownAccuracies(@TempDir Path dir) throws Exception {
        LanguageModel lm = LanguageModel.of(W, TOK, null);
        assertTrue(TOK.encode(DOCS[3][0]).length > 64, "the last document is longer than the context: the truncating path");
        double[][] ref = new double[DOCS.length][];
        try (State s = lm.newState(64, 2); LlamaEngine e = new LlamaEngine(W, 1)) {
            for (int d = 0; d < DOCS.length; d++) {
                List<String> choices = Arrays.asList(DOCS[d]).subList(1, 4);
                double[] ll = Evaluator.loglikelihoods(s, TOK, DOCS[d][0], choices, " ");
                ref[d] = new double[3];
                for (int c = 0; c < 3; c++) {
                    ref[d][c] = reference(e, DOCS[d][0], " " + choices.get(c));
                    assertEquals(ref[d][c], ll[c], 1e-3, "doc " + d + " choice " + c);
                }
            }
        }
        // The same documents as a task; gold is choice 1 (index) everywhere.
        StringBuilder jsonl = new StringBuilder();
        for (String[] d : DOCS) {
            jsonl.append(dev.llmkit.core.Json.COMPACT.writeValueAsString(java.util.Map.of("q", d[0], "choices", List.of(d[1], d[2], d[3]), "label", 1))).append('\n');
        }
        Files.writeString(dir.resolve("t.jsonl"), jsonl);
        TaskSpec spec = new TaskSpec("t", TaskSpec.MULTIPLE_CHOICE, "", List.of(dir.resolve("t.jsonl")), null, "{{q}}", List.of("{{choices}}"), "{{label}}",
                null, " ", "\n\n", 0, null, List.of(), 1, null, null, false, null, "never", "text", 0);
        Evaluator.Model m = new Evaluator.Model("m", dir, lm, "F32", W.config().parameters(), 0, null);
        JsonNode r = Evaluator.run(List.of(m), List.of(spec), new Evaluator.Options(0, -1, 1, 2, Progress.NONE), dir.resolve("out"));
        double[] acc = new double[DOCS.length], norm = new double[DOCS.length];
        for (int d = 0; d < DOCS.length; d++) {
            int best = 0, bestNorm = 0;
            for (int c = 1; c < 3; c++) {
                if (ref[d][c] > ref[d][best]) best = c;
                if (ref[d][c] / DOCS[d][c + 1].length() > ref[d][bestNorm] / DOCS[d][bestNorm + 1].length()) bestNorm = c;
            }
            acc[d] = best == 1 ? 1 : 0;
            norm[d] = bestNorm == 1 ? 1 : 0;
        }
        JsonNode got = r.at("/tasks/0/results/m/metrics");
        assertEquals(mean(acc), got.at("/acc/value").asDouble(), 1e-12);
        assertEquals(mean(norm), got.at("/acc_norm/value").asDouble(), 1e-12);
        assertEquals(stderr(acc), got.at("/acc/stderr").asDouble(), 1e-12);
        assertTrue(Files.size(dir.resolve("out/samples.jsonl")) > 0 && Files.isRegularFile(dir.resolve("out/report.html")));
        assertEquals(DOCS.length, Files.readAllLines(dir.resolve("out/samples.jsonl")).size());
    }

    /** A generate task's chance level: the most frequent (cleaned) answer of each group, given to every question of it. */
    @Test
    void chanceIsTheMostFrequentAnswerOfEachGroup(@TempDir Path dir) throws Exception {
        String[][] rows = {{"a", " Paris"}, {"a", "Paris "}, {"a", "Rome"}, {"b", "x"}, {"b", "y"}, {"b", "z"}, {"b", "z"}, {"b", "w"}};
        StringBuilder jsonl = new StringBuilder();
        for (String[] r : rows) jsonl.append(dev.llmkit.core.Json.COMPACT.writeValueAsString(java.util.Map.of("q", "question", "a", r[1], "g", r[0]))).append('\n');
        Files.writeString(dir.resolve("g.jsonl"), jsonl);
        TaskSpec spec = new TaskSpec("g", TaskSpec.GENERATE, "", List.of(dir.resolve("g.jsonl")), null, "{{q}}", null, "{{a}}",
                null, " ", "\n\n", 0, null, List.of("\n"), 2, null, null, false, "g", "never", "text", 0);
        Evaluator.Model m = new Evaluator.Model("m", dir, LanguageModel.of(W, TOK, null), "F32", W.config().parameters(), 0, null);
        JsonNode r = Evaluator.run(List.of(m), List.of(spec), new Evaluator.Options(0, -1, 1, 1, Progress.NONE), dir.resolve("out"));
        JsonNode chance = r.at("/tasks/0/chance");
        assertEquals(2.0 / 3, chance.get("exact_match/a").asDouble(), 1e-12, "' Paris' and 'Paris ' are one answer");
        assertEquals(2.0 / 5, chance.get("exact_match/b").asDouble(), 1e-12);
        assertEquals(4.0 / 8, chance.get("exact_match").asDouble(), 1e-12);
        assertTrue(Files.readString(dir.resolve("out/report.md")).contains("| chance |"));
    }

    static double mean(double[] x) {
        return Arrays.stream(x).average().orElse(0);
    }

    static double stderr(double[] x) {
        double m = mean(x), ss = 0;
        for (double v : x) ss += (v - m) * (v - m);
        return Math.sqrt(ss / (x.length - 1) / x.length);
    }

    @Test
    void rollingAndSlidingPerplexityEqualLmEvalWindowsByHand() {
        int[] tokens = TOK.encode("the rain in spain stays mainly in the plain; the rest is noise and more noise, then silence.");
        int cap = 16, bos = TOK.eotId();
        try (LlamaEngine s = new LlamaEngine(W, 2, cap); LlamaEngine e = new LlamaEngine(W, 1, cap)) {
            // disjoint windows: [bos] + tokens in windows of cap inputs, each predicting cap tokens, context 1 after the first
            double nll = 0;
            int[] seq = new int[tokens.length + 1];
            seq[0] = bos;
            System.arraycopy(tokens, 0, seq, 1, tokens.length);
            for (int begin = 0; begin < tokens.length; begin += cap) {
                int end = Math.min(begin + cap, tokens.length);
                for (int j = begin; j < end; j++) nll -= logSoftmax(e.forward(seq[j], j - begin, true), seq[j + 1]);
            }
            assertEquals(nll, Measures.rolling(s, bos, tokens).nats(), 1e-3);
            // sliding with stride 4: each token counted once, from the first window that predicts it
            double slide = 0;
            int done = 0;
            for (int begin = 0; done < tokens.length; begin += 4) {
                int end = Math.min(begin + cap, tokens.length);
                for (int j = begin; j < end; j++) {
                    double lp = logSoftmax(e.forward(seq[j], j - begin, true), seq[j + 1]);
                    if (j >= done) slide -= lp;
                }
                done = end;
            }
            assertEquals(slide, Measures.sliding(s, bos, tokens, 4).nats(), 1e-3);
            assertTrue(slide < nll, "more context predicts better on average: " + slide + " vs " + nll);
        }
    }

    @Test
    void templatesPythonListsCsvAndCharsets(@TempDir Path dir) throws Exception {
        assertEquals(List.of("a", "b's", "c\"d", "e,f"), Template.PyList.parse("['a', \"b's\", 'c\"d', 'e,f']"));
        assertNull(Template.PyList.parse("not a list"));
        Files.write(dir.resolve("m.csv"), "question;choices;answer\nCaf\u00e9?;['x', 'y', 'z', 'w'];2\n".getBytes(Charset.forName("windows-1252")));
        Docs.Loaded l = Docs.read(dir.resolve("m.csv"));
        assertTrue(l.note() != null && l.note().contains("Windows-1252"), String.valueOf(l.note()));
        JsonNode d = l.docs().get(0).fields();
        assertEquals("Caf\u00e9? y", Template.text("{{question}} {{choices.1}}", d, "x"));
        assertEquals("m.csv:2", l.docs().get(0).where());
        assertEquals(List.of("x", "y", "z", "w"), Template.list("{{choices}}", d, "x"));
        Files.writeString(dir.resolve("a.jsonl"), "{\"question\": {\"stem\": \"Q\", \"choices\": [{\"text\": \"t1\", \"label\": \"A\"}, {\"text\": \"t2\", \"label\": \"B\"}]}}\n", StandardCharsets.UTF_8);
        JsonNode arc = Docs.read(dir.resolve("a.jsonl")).docs().get(0).fields();
        assertEquals(List.of("t1", "t2"), Template.list("{{question.choices[].text}}", arc, "x"));
        Files.writeString(dir.resolve("bad.jsonl"), "{\"a\": 1}\n{\"a\": \n", StandardCharsets.UTF_8);
        DataException e = assertThrows(DataException.class, () -> Docs.read(dir.resolve("bad.jsonl")));
        assertTrue(e.getMessage().contains("bad.jsonl:2"), e.getMessage());
        DataException missing = assertThrows(DataException.class, () -> Template.text("{{nope}}", arc, "a.jsonl:1"));
        assertTrue(missing.getMessage().contains("a.jsonl:1") && missing.getMessage().contains("nope"), missing.getMessage());
    }

    @Test
    void answersAreExtractedCleanedAndScored() {
        assertEquals("1234", Evaluator.clean("1,234.", false, true));
        assertEquals("cat sat", Evaluator.clean("The  cat, sat!", true, false));
        assertEquals(1.0, Evaluator.f1("a b c", "c b a"), 1e-12);
        assertEquals(2 * 0.5 * 1.0 / 1.5, Evaluator.f1("a b", "a"), 1e-12);
        assertEquals(0.0, Evaluator.f1("x", "y"), 1e-12);
        assertEquals(3, Evaluator.words("one two  three"));
        try (State s = LanguageModel.of(W, TOK, null).newState(64, 1)) {
            String g = Evaluator.greedy(s, TOK, TOK.encode("the cat"), 20, List.of("e"));
            assertTrue(!g.contains("e"), "cut before the stop string: " + g);
        }
    }
}
