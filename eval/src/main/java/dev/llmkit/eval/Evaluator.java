package dev.llmkit.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.DataException;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.io.TokenShard;
import dev.llmkit.core.tokenizer.ChatMessage;
import dev.llmkit.core.tokenizer.ChatTemplate;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.eval.engine.LanguageModel;
import dev.llmkit.eval.engine.Measures;
import dev.llmkit.eval.engine.State;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs tasks on models, every model on the same documents and the same few-shot examples, and writes
 * {@code report.json}, {@code samples.jsonl}, {@code report.md} and {@code report.html}. Metric
 * definitions follow lm-evaluation-harness:
 * <ul>
 *   <li>multiple choice: the log-likelihood of {@code target_delimiter + choice} after the context (the
 *       context's trailing whitespace moved onto the continuation; continuation tokens =
 *       tokens(context + continuation) minus tokens(context)); {@code acc}: the best log-likelihood is
 *       the gold choice; {@code acc_norm}: the same with each log-likelihood divided by the choice's
 *       length in characters. The context is run once per document and its KV cache reused per choice.</li>
 *   <li>perplexity: the rolling log-likelihood of each document ({@link Measures#sliding});
 *       {@code word_perplexity} = exp(NLL / words), {@code byte_perplexity} = exp(NLL / UTF-8 bytes),
 *       {@code bits_per_byte} = NLL / bytes / ln 2, {@code token_perplexity} = exp(NLL / tokens), summed
 *       over documents before dividing.</li>
 *   <li>generate: greedy decoding until a stop string, end of text or max_tokens; the answer is
 *       answer_regex's first group (else the whole text); {@code exact_match} against the target
 *       (target_regex's group, else the whole target), {@code f1} the token F1 of the two.</li>
 * </ul>
 * Standard errors of means are the sample standard deviation over sqrt(n).
 */
public final class Evaluator {
    private Evaluator() {}

    /** A model to evaluate: its name in the report, where it came from, and how it is stored. */
    public record Model(String name, Path path, LanguageModel lm, String storage, long parameters, long bytes, Path metricsJsonl) {}

    /** limit: first N documents per task (0 = all); fewshot: -1 keeps each task's own count. */
    public record Options(int limit, int fewshot, long seed, int threads, Progress progress) {}

    /** Runs everything and writes the reports into {@code out}; returns report.json's content. */
    public static ObjectNode run(List<Model> models, List<TaskSpec> tasks, Options o, Path out) {
        return run(models, tasks, o, out, null);
    }

    /** The same, with {@code pipeline} (the stages of the run that evaluates, or null) in the report as it is written. */
    public static ObjectNode run(List<Model> models, List<TaskSpec> tasks, Options o, Path out, JsonNode pipeline) {
        ObjectNode report = Json.MAPPER.createObjectNode();
        report.put("created", java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        report.put("llmkit_version", dev.llmkit.core.Version.llmkit());
        ObjectNode cfg = report.putObject("config");
        cfg.put("limit", o.limit());
        cfg.put("fewshot", o.fewshot());
        cfg.put("seed", o.seed());
        cfg.put("threads", o.threads());
        ArrayNode ms = report.putArray("models");
        for (Model m : models) {
            ObjectNode n = ms.addObject();
            n.put("name", m.name());
            n.put("path", m.path().toString());
            n.put("storage", m.storage());
            n.put("parameters", m.parameters());
            n.put("bytes", m.bytes());
            if (java.nio.file.Files.isRegularFile(m.path())) n.put("sha256", dev.llmkit.core.util.Text.sha256(m.path()));
            if (m.metricsJsonl() != null) n.put("metrics_jsonl", m.metricsJsonl().toString());
            else n.putNull("metrics_jsonl");
        }
        ArrayNode ts = report.putArray("tasks");
        List<ObjectNode> samples = new ArrayList<>();     // samples.jsonl, one node per model and document
        for (TaskSpec spec0 : tasks) {
            TaskSpec spec = spec0.withFewshot(o.fewshot());
            ObjectNode t = ts.addObject();
            int first = samples.size();     // this task's samples start here
            t.put("name", spec.name());
            t.put("type", spec.type());
            t.put("description", spec.description());
            t.put("data", spec.data().toString());
            ObjectNode sums = t.putObject("data_sha256");
            for (Path f : spec.files()) sums.put(f.toString(), dev.llmkit.core.util.Text.sha256(f));
            t.put("fewshot", spec.fewshot());
            ObjectNode results = Json.MAPPER.createObjectNode();
            if (spec.type().equals(TaskSpec.PERPLEXITY)) {
                List<Text> texts = texts(spec, models.get(0).lm().tokenizer(), o.limit());
                t.put("examples", texts.size());
                putMetrics(t, List.of("word_perplexity", "byte_perplexity", "bits_per_byte", "token_perplexity"));
                for (Model m : models) results.set(m.name(), perplexity(spec, texts, m, o, samples));
            } else {
                Prepared p = prepare(spec, o);
                t.put("examples", p.docs.size());
                if (p.note != null) t.put("note", p.note);
                List<String> names = new ArrayList<>(spec.type().equals(TaskSpec.MULTIPLE_CHOICE) ? List.of("acc", "acc_norm") : List.of("exact_match", "f1"));
                if (spec.type().equals(TaskSpec.GENERATE) && spec.groupBy() != null) {
                    for (Docs.Doc d : p.docs) {
                        String g = "exact_match/" + Template.text("{{" + spec.groupBy() + "}}", d.fields(), d.where());
                        if (!names.contains(g)) names.add(g);
                    }
                }
                putMetrics(t, names);
                if (spec.type().equals(TaskSpec.GENERATE)) t.set("chance", chance(spec, p));
                for (Model m : models) {
                    results.set(m.name(), spec.type().equals(TaskSpec.MULTIPLE_CHOICE) ? multipleChoice(spec, p, m, o, samples) : generate(spec, p, m, o, samples));
                }
            }
            t.set("results", results);
            shown(t, samples.subList(first, samples.size()));
        }
        if (pipeline != null) report.set("pipeline", pipeline);
        StringBuilder jsonl = new StringBuilder();
        for (ObjectNode sm : samples) jsonl.append(line(sm)).append('\n');
        AtomicFiles.write(out.resolve("samples.jsonl"), jsonl.toString().getBytes(StandardCharsets.UTF_8));
        Json.write(out.resolve("report.json"), report);
        EvalReport.write(report, out);
        return report;
    }

    /** The first documents of a task with every model's answer beside the target (the report's examples table). */
    private static void shown(ObjectNode t, List<ObjectNode> samples) {
        Map<String, ObjectNode> byDoc = new LinkedHashMap<>();
        for (ObjectNode s : samples) {
            if (!s.has("prompt")) continue;
            String doc = s.get("doc").asText();
            if (!byDoc.containsKey(doc) && byDoc.size() >= 5) continue;
            ObjectNode e = byDoc.computeIfAbsent(doc, k -> {
                ObjectNode n = Json.MAPPER.createObjectNode().put("doc", k).put("prompt", s.get("prompt").asText());
                if (s.has("target")) n.put("target", s.get("target").asText());
                else n.put("target", s.at("/choices/" + s.get("gold").asInt() + "/text").asText());
                n.putObject("outputs");
                return n;
            });
            String out = s.has("answer") ? s.get("answer").asText() : s.at("/choices/" + s.get("pred").asInt() + "/text").asText();
            ((ObjectNode) e.get("outputs")).put(s.get("model").asText(), out);
        }
        ArrayNode a = t.putArray("examples_shown");
        byDoc.values().forEach(a::add);
    }

    private static void putMetrics(ObjectNode t, List<String> names) {
        ArrayNode a = t.putArray("metrics");
        names.forEach(a::add);
    }

    // ---------------------------------------------------------------- documents and few-shot contexts

    /** A task's documents (after --limit) and, per document, its context text (description, few-shot examples, doc_to_text). */
    private record Prepared(List<Docs.Doc> docs, List<String> contexts, String note) {}

    private static Prepared prepare(TaskSpec spec, Options o) {
        List<Docs.Doc> all = new ArrayList<>();
        String note = null;
        for (Path f : spec.files()) {
            Docs.Loaded l = Docs.read(f);
            all.addAll(l.docs());
            if (l.note() != null) note = note == null ? l.note() : note + "; " + l.note();
        }
        if (spec.labels() != null) all = Docs.withLabels(all, spec.labels(), "label");
        if (all.isEmpty()) throw new DataException("task " + spec.name() + ": no documents in " + spec.data(), null);
        List<Docs.Doc> pool = all;
        if (spec.fewshotData() != null) pool = Docs.read(spec.fewshotData()).docs();
        List<Docs.Doc> docs = o.limit() > 0 && o.limit() < all.size() ? all.subList(0, o.limit()) : all;
        List<String> contexts = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            StringBuilder b = new StringBuilder(spec.description());
            if (spec.fewshot() > 0) {
                Random r = new Random(o.seed() * 1_000_003L + i);
                List<Integer> picks = new ArrayList<>();
                for (int tries = 0; picks.size() < spec.fewshot() && tries < 100 * spec.fewshot() && pool.size() > 1; tries++) {
                    int k = r.nextInt(pool.size());
                    if (picks.contains(k) || (pool == all && k == i)) continue;
                    picks.add(k);
                }
                for (int k : picks) {
                    Docs.Doc d = pool.get(k);
                    b.append(Template.text(spec.docToText(), d.fields(), d.where())).append(spec.targetDelimiter()).append(answerText(spec, d))
                            .append(spec.fewshotDelimiter());
                }
            }
            Docs.Doc d = docs.get(i);
            b.append(Template.text(spec.docToText(), d.fields(), d.where()));
            contexts.add(b.toString());
        }
        return new Prepared(docs, contexts, note);
    }

    /** The text a few-shot example shows as its answer: the gold choice, or the target. */
    private static String answerText(TaskSpec spec, Docs.Doc d) {
        if (spec.type().equals(TaskSpec.MULTIPLE_CHOICE)) {
            List<String> choices = choices(spec, d);
            return choices.get(gold(spec, d, choices));
        }
        return Template.text(spec.docToTarget(), d.fields(), d.where());
    }

    private static List<String> choices(TaskSpec spec, Docs.Doc d) {
        List<String> out = new ArrayList<>();
        for (String c : spec.docToChoice()) out.addAll(Template.list(c, d.fields(), d.where()));
        if (out.size() < 2) throw new DataException(d.where() + ": " + out.size() + " choice(s); multiple choice needs at least 2", null);
        return out;
    }

    /** The gold choice's index: a letter of choice_labels, an index, or a choice's text. */
    private static int gold(TaskSpec spec, Docs.Doc d, List<String> choices) {
        String t = Template.text(spec.docToTarget(), d.fields(), d.where()).strip();
        if (spec.choiceLabels() != null) {
            int i = Template.list(spec.choiceLabels(), d.fields(), d.where()).indexOf(t);
            if (i >= 0 && i < choices.size()) return i;
        }
        if (t.matches("\\d+")) {
            int i = Integer.parseInt(t);
            if (i < choices.size()) return i;
        }
        int i = choices.indexOf(t);
        if (i >= 0) return i;
        throw new DataException(d.where() + ": target \"" + t + "\" is neither a choice index (0-" + (choices.size() - 1) + "), a choice label nor a choice's text",
                "check doc_to_target against the data");
    }

    // ---------------------------------------------------------------- multiple choice

    private static ObjectNode multipleChoice(TaskSpec spec, Prepared p, Model m, Options o, List<ObjectNode> samples) {
        Tokenizer tok = m.lm().tokenizer();
        int n = p.docs.size();
        double[] acc = new double[n], accNorm = new double[n];
        long t0 = System.nanoTime();
        o.progress().start(spec.name() + " / " + m.name(), n, "examples");
        try (State s = m.lm().newState(m.lm().config().contextLength(), o.threads())) {
            for (int i = 0; i < n; i++) {
                Docs.Doc d = p.docs.get(i);
                List<String> choices = choices(spec, d);
                int gold = gold(spec, d, choices);
                double[] ll = loglikelihoods(s, tok, p.contexts.get(i), choices, spec.targetDelimiter());
                int best = 0, bestNorm = 0;
                for (int c = 1; c < ll.length; c++) {
                    if (ll[c] > ll[best]) best = c;
                    if (ll[c] / choices.get(c).length() > ll[bestNorm] / choices.get(bestNorm).length()) bestNorm = c;
                }
                acc[i] = best == gold ? 1 : 0;
                accNorm[i] = bestNorm == gold ? 1 : 0;
                ObjectNode sm = sample(m, spec, d, p.contexts.get(i));
                ArrayNode cs = sm.putArray("choices");
                for (int c = 0; c < choices.size(); c++) cs.addObject().put("text", choices.get(c)).put("loglikelihood", ll[c]);
                sm.put("pred", best).put("pred_norm", bestNorm).put("gold", gold).put("acc", acc[i] == 1).put("acc_norm", accNorm[i] == 1);
                samples.add(sm);
                o.progress().update(i + 1);
            }
        } finally {
            o.progress().close();
        }
        ObjectNode r = Json.MAPPER.createObjectNode();
        ObjectNode mt = r.putObject("metrics");
        putMean(mt, "acc", acc);
        putMean(mt, "acc_norm", accNorm);
        timing(r, n, t0);
        return r;
    }

    /**
     * The log-likelihood of {@code delimiter + choice} after {@code context} for every choice, lm-eval's
     * way: trailing whitespace of the context moved onto each continuation, continuation tokens =
     * tokens(context + continuation) minus tokens(context). The context but its last token is run once
     * and each choice rewinds to there; when context and a choice do not fit the state together, each
     * choice keeps the context's tail that fits with it (lm-eval's left truncation of every request).
     */
    static double[] loglikelihoods(State s, Tokenizer tok, String context, List<String> choices, String delimiter) {
        String ctx = context.stripTrailing(), moved = context.substring(ctx.length());
        int[] ctxEnc = tok.encode(ctx);
        if (ctxEnc.length == 0) ctxEnc = new int[] {Math.max(0, tok.eotId())};
        int[][] conts = new int[choices.size()][];
        int longest = 1;
        for (int c = 0; c < choices.size(); c++) {
            int[] whole = tok.encode(ctx + moved + delimiter + choices.get(c));
            conts[c] = Arrays.copyOfRange(whole, Math.min(ctxEnc.length, whole.length), whole.length);
            longest = Math.max(longest, conts[c].length);
        }
        int cap = s.capacity();
        boolean shared = ctxEnc.length + longest <= cap + 1;     // else each choice keeps the context's tail that fits with it, as lm-eval does
        double[] ll = new double[choices.size()];
        if (shared) {
            s.rewind(0);
            if (ctxEnc.length > 1) s.prefill(ctxEnc, 0, ctxEnc.length - 1);
        }
        for (int c = 0; c < choices.size(); c++) {
            int[] cont = conts[c];
            if (cont.length == 0) continue;     // the choice added no token: log-likelihood 0
            int k = Math.min(cont.length, cap), keep = Math.min(ctxEnc.length, cap + 1 - k);
            if (shared) {
                s.rewind(ctxEnc.length - 1);
            } else {
                s.rewind(0);
                if (keep > 1) s.prefill(ctxEnc, ctxEnc.length - keep, ctxEnc.length - 1);
            }
            int[] in = new int[k];     // the context's last token, then the continuation but its last token (the next to predict)
            in[0] = ctxEnc[ctxEnc.length - 1];
            System.arraycopy(cont, cont.length - k, in, 1, k - 1);
            double[] lp = new double[k];
            s.score(in, 0, k, cont[cont.length - 1], lp, 0);
            for (double v : lp) ll[c] += v;
        }
        return ll;
    }

    // ---------------------------------------------------------------- generate

    private static final Pattern NUMBER = Pattern.compile("-?[$0-9.,]*[0-9]");

    private static ObjectNode generate(TaskSpec spec, Prepared p, Model m, Options o, List<ObjectNode> samples) {
        Tokenizer tok = m.lm().tokenizer();
        int n = p.docs.size();
        double[] em = new double[n], f1 = new double[n];
        Map<String, List<Double>> groups = new TreeMap<>();
        boolean chat = spec.chat().equals("auto") && m.lm().chatTemplate() != null && tok.addedId(ChatTemplate.IM_START) >= 0;
        Pattern answerRe = spec.answerRegex() == null ? null : Pattern.compile(spec.answerRegex());
        Pattern targetRe = spec.targetRegex() == null ? null : Pattern.compile(spec.targetRegex());
        long t0 = System.nanoTime();
        o.progress().start(spec.name() + " / " + m.name(), n, "examples");
        try (State s = m.lm().newState(m.lm().config().contextLength(), o.threads())) {
            for (int i = 0; i < n; i++) {
                Docs.Doc d = p.docs.get(i);
                String prompt = p.contexts.get(i);
                int[] ids = chat ? ChatTemplate.render(tok, List.of(new ChatMessage(ChatMessage.USER, prompt)), true).tokens() : tok.encode(prompt);
                if (ids.length == 0) ids = new int[] {Math.max(0, tok.eotId())};
                if (ids.length >= s.capacity()) ids = Arrays.copyOfRange(ids, ids.length - s.capacity() + 1, ids.length);
                String text = greedy(s, tok, ids, Math.min(spec.maxTokens(), s.capacity() - ids.length), spec.until());
                String answer = extract(answerRe, text), target = extract(targetRe, Template.text(spec.docToTarget(), d.fields(), d.where()));
                String a = clean(answer, spec.normalize(), answerRe != null), b = clean(target, spec.normalize(), targetRe != null);
                em[i] = a.equals(b) ? 1 : 0;
                f1[i] = f1(a, b);
                ObjectNode sm = sample(m, spec, d, prompt);
                sm.put("generation", text).put("answer", answer).put("target", target).put("exact_match", em[i] == 1).put("f1", f1[i]);
                if (spec.groupBy() != null) {
                    String g = Template.text("{{" + spec.groupBy() + "}}", d.fields(), d.where());
                    groups.computeIfAbsent(g, k -> new ArrayList<>()).add(em[i]);
                    sm.put("group", g);
                }
                samples.add(sm);
                o.progress().update(i + 1);
            }
        } finally {
            o.progress().close();
        }
        ObjectNode r = Json.MAPPER.createObjectNode();
        ObjectNode mt = r.putObject("metrics");
        putMean(mt, "exact_match", em);
        putMean(mt, "f1", f1);
        for (Map.Entry<String, List<Double>> g : groups.entrySet()) putMean(mt, "exact_match/" + g.getKey(), g.getValue().stream().mapToDouble(x -> x).toArray());
        timing(r, n, t0);
        return r;
    }

    /**
     * What answering every question with the most frequent target of its group (of the whole task
     * without group_by) scores: the chance level a model's exact match is read against.
     */
    static ObjectNode chance(TaskSpec spec, Prepared p) {
        Pattern targetRe = spec.targetRegex() == null ? null : Pattern.compile(spec.targetRegex());
        Map<String, Map<String, Integer>> counts = new TreeMap<>();
        for (Docs.Doc d : p.docs) {
            String g = spec.groupBy() == null ? "" : Template.text("{{" + spec.groupBy() + "}}", d.fields(), d.where());
            String target = clean(extract(targetRe, Template.text(spec.docToTarget(), d.fields(), d.where())), spec.normalize(), targetRe != null);
            counts.computeIfAbsent(g, k -> new HashMap<>()).merge(target, 1, Integer::sum);
        }
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.put("rule", spec.groupBy() == null ? "the most frequent answer" : "the most frequent answer of each " + spec.groupBy());
        int hits = 0;
        for (Map.Entry<String, Map<String, Integer>> g : counts.entrySet()) {
            int best = java.util.Collections.max(g.getValue().values()), n = g.getValue().values().stream().mapToInt(Integer::intValue).sum();
            hits += best;
            if (spec.groupBy() != null) c.put("exact_match/" + g.getKey(), (double) best / n);
        }
        c.put("exact_match", p.docs.isEmpty() ? 0 : (double) hits / p.docs.size());
        return c;
    }

    /** Greedy tokens after {@code ids} until a stop string (cut before it), end of text, {@code <|im_end|>} or max tokens. */
    static String greedy(State s, Tokenizer tok, int[] ids, int maxTokens, List<String> until) {
        s.rewind(0);
        float[] logits = s.prefill(ids, 0, ids.length);
        int eot = tok.eotId(), imEnd = tok.addedId(ChatTemplate.IM_END);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int k = 0; k < maxTokens; k++) {
            int best = 0;
            for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
            if (best == eot || best == imEnd) break;
            out.writeBytes(tok.tokenBytes(best));
            String text = out.toString(StandardCharsets.UTF_8);
            for (String u : until) {
                int at = u.isEmpty() ? -1 : text.indexOf(u);
                if (at >= 0) return text.substring(0, at);
            }
            if (k + 1 < maxTokens) logits = s.decode(best);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String extract(Pattern re, String text) {
        if (re == null) return text.strip();
        Matcher m = re.matcher(text);
        if (m.find()) return (m.groupCount() > 0 ? m.group(1) : m.group()).strip();
        // no match: the last number, as lm-eval's flexible extraction does
        String last = "";
        Matcher num = NUMBER.matcher(text);
        while (num.find()) last = num.group();
        return last;
    }

    /** For regex-extracted answers, commas, dollar signs and a final period do not count; normalize: SQuAD's. */
    static String clean(String s, boolean normalize, boolean extracted) {
        String t = s.strip();
        if (extracted) t = t.replace(",", "").replace("$", "").replaceAll("\\.$", "");
        if (!normalize) return t;
        t = t.toLowerCase(Locale.ROOT).replaceAll("\\p{Punct}", " ").replaceAll("\\b(a|an|the)\\b", " ");
        return String.join(" ", t.strip().split("\\s+"));
    }

    /** Token F1 of two texts split on whitespace (multiset overlap). */
    static double f1(String a, String b) {
        List<String> x = a.isBlank() ? List.of() : Arrays.asList(a.strip().split("\\s+")), y = b.isBlank() ? List.of() : Arrays.asList(b.strip().split("\\s+"));
        if (x.isEmpty() || y.isEmpty()) return x.equals(y) ? 1 : 0;
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String w : y) counts.merge(w, 1, Integer::sum);
        int common = 0;
        for (String w : x) {
            Integer c = counts.get(w);
            if (c != null && c > 0) {
                common++;
                counts.put(w, c - 1);
            }
        }
        if (common == 0) return 0;
        double p = (double) common / x.size(), r = (double) common / y.size();
        return 2 * p * r / (p + r);
    }

    // ---------------------------------------------------------------- perplexity

    /** A document of a perplexity task: its tokens and the text's UTF-8 bytes and words. */
    private record Text(String where, int[] tokens, long bytes, long words) {}

    private static List<Text> texts(TaskSpec spec, Tokenizer tok, int limit) {
        List<Text> out = new ArrayList<>();
        for (Path f : spec.files()) {
            String base = Docs.base(f);
            if (base.endsWith(".tok")) {
                int[] ids = TokenShard.readAll(f);
                for (int id : ids) if (id < 0 || id >= tok.vocabSize()) throw new DataException(f + ": token " + id + " is outside the vocabulary of " + tok.vocabSize(), "score shards made with this model's tokenizer");
                String text = new String(tok.decodeBytes(ids, 0, ids.length), StandardCharsets.UTF_8);
                out.add(new Text(f.getFileName().toString(), ids, text.getBytes(StandardCharsets.UTF_8).length, words(text)));
            } else if (base.endsWith(".txt")) {
                String text = Docs.text(f, null);
                out.add(new Text(f.getFileName().toString(), tok.encode(text), text.getBytes(StandardCharsets.UTF_8).length, words(text)));
            } else {
                for (Docs.Doc d : Docs.read(f).docs()) {
                    String text = Template.text("{{" + spec.textField() + "}}", d.fields(), d.where());
                    out.add(new Text(d.where(), tok.encode(text), text.getBytes(StandardCharsets.UTF_8).length, words(text)));
                }
            }
            if (limit > 0 && out.size() >= limit) return out.subList(0, limit);
        }
        return out;
    }

    /** Python's len(re.split(r"\s+", text)), as lm-eval counts words. */
    static long words(String text) {
        return text.split("\\s+", -1).length;
    }

    private static ObjectNode perplexity(TaskSpec spec, List<Text> texts, Model m, Options o, List<ObjectNode> samples) {
        long t0 = System.nanoTime(), tokens = 0, bytes = 0, words = 0;
        double nll = 0;
        o.progress().start(spec.name() + " / " + m.name(), texts.size(), "documents");
        try (State s = m.lm().newState(m.lm().config().contextLength(), o.threads())) {
            int bos = Math.max(0, m.lm().tokenizer().eotId()), i = 0;
            for (Text t : texts) {
                if (t.tokens().length > 0) {
                    Measures.Likelihood l = Measures.sliding(s, bos, t.tokens(), spec.stride());
                    nll += l.nats();
                    ObjectNode sm = Json.MAPPER.createObjectNode().put("model", m.name()).put("task", spec.name()).put("doc", t.where())
                            .put("tokens", t.tokens().length).put("bytes", t.bytes()).put("nll", l.nats());
                    samples.add(sm);
                }
                tokens += t.tokens().length;
                bytes += t.bytes();
                words += t.words();
                o.progress().update(++i);
            }
        } finally {
            o.progress().close();
        }
        ObjectNode r = Json.MAPPER.createObjectNode();
        ObjectNode mt = r.putObject("metrics");
        mt.putObject("word_perplexity").put("value", Math.exp(nll / words)).putNull("stderr");
        mt.putObject("byte_perplexity").put("value", Math.exp(nll / bytes)).putNull("stderr");
        mt.putObject("bits_per_byte").put("value", nll / bytes / Math.log(2)).putNull("stderr");
        mt.putObject("token_perplexity").put("value", Math.exp(nll / tokens)).putNull("stderr");
        r.put("tokens", tokens);
        double sec = (System.nanoTime() - t0) / 1e9;
        r.put("examples", texts.size());
        r.put("seconds", sec);
        r.put("examples_per_second", texts.size() / sec);
        r.put("tokens_per_second", tokens / sec);
        return r;
    }

    // ---------------------------------------------------------------- shared

    private static ObjectNode sample(Model m, TaskSpec spec, Docs.Doc d, String prompt) {
        return Json.MAPPER.createObjectNode().put("model", m.name()).put("task", spec.name()).put("doc", d.where()).put("prompt", prompt);
    }

    /** Mean and its standard error (sample standard deviation / sqrt(n)). */
    static void putMean(ObjectNode metrics, String name, double[] x) {
        double mean = 0;
        for (double v : x) mean += v;
        mean /= Math.max(1, x.length);
        double ss = 0;
        for (double v : x) ss += (v - mean) * (v - mean);
        ObjectNode n = metrics.putObject(name).put("value", mean);
        if (x.length > 1) n.put("stderr", Math.sqrt(ss / (x.length - 1) / x.length));
        else n.putNull("stderr");
    }

    private static void timing(ObjectNode r, int n, long t0) {
        double sec = (System.nanoTime() - t0) / 1e9;
        r.put("examples", n);
        r.put("seconds", sec);
        r.put("examples_per_second", n / sec);
    }

    private static String line(JsonNode n) {
        try {
            return Json.COMPACT.writeValueAsString(n);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
