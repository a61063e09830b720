package dev.llmkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.ConfigException;
import dev.llmkit.core.Json;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.io.TokenShard;
import dev.llmkit.core.model.Checkpoint;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.quant.QuantPlan;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.eval.engine.LanguageModel;
import dev.llmkit.eval.engine.State;
import dev.llmkit.eval.engine.Measures;
import dev.llmkit.quantize.Quantizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llmkit quantize}: a model to a quantized GGUF file, with llama.cpp's per-tensor plans. */
@Command(name = "quantize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Quantize a checkpoint directory or an F32/F16 GGUF file to one GGUF file that llama.cpp, Ollama and llmkit run, tensor for tensor the bytes llama.cpp's llama-quantize writes (no importance matrix).",
            "Norms stay F32; the output matrix (or the tied token embedding) gets Q6_K; q4_k_s, q4_k_m and q5_k_m give some attn_v and ffn_down more bits; a matrix whose rows are not whole blocks of its type falls back (Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, else F16) and is reported.",
            "Prints a table per tensor (type, RMSE and max error against F32), the file size and bits per weight, the validation bits per byte of the quantized model against F32 and the decode tokens/s of both, and writes them to a report JSON beside the output."},
        footer = {"", "Examples:", "  llmkit quantize --model runs/demo/03-pretrain/final --type q4_k_m --out runs/demo/05-quantize/model-q4_k_m.gguf",
                "  llmkit quantize --model model-f32.gguf --type q8_0 --out model-q8_0.gguf --eval-text valid.txt",
                "  llmkit quantize --model model-f32.gguf --type q4_0 --pure --tensor-type 'attn_v=q8_0' --out m.gguf", "", ExitCodes.HELP})
public final class QuantizeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|FILE", description = "Checkpoint directory, LoRA adapter directory (merged) or F32/F16 .gguf file.")
    Path model;

    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_s, q4_k_m, q5_k_m, q6_k, f16, bf16 or f32.")
    String type;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "Output .gguf file (written to a temporary name, then renamed).")
    Path out;

    @Option(names = "--pure", description = "No mixture rules: every matrix gets TYPE (fallbacks for rows that are not whole blocks still apply).")
    boolean pure;

    @Option(names = "--tensor-type", paramLabel = "NAME=TYPE", description = "Give tensors whose name matches the regular expression NAME the block type TYPE (q8_0, q4_k, q6_k, f16, ...); repeatable, the last match wins.")
    List<String> tensorTypes = new ArrayList<>();

    @Option(names = "--eval-text", paramLabel = "FILE", description = "UTF-8 text for the bits-per-byte comparison (default: the run's 02-tokens/val-*.tok shards when the model is inside a run directory).")
    Path evalText;

    @Option(names = "--eval-tokens", paramLabel = "N", defaultValue = "16384", description = "Tokens of validation data scored per model (default ${DEFAULT-VALUE}; 0 skips the comparison).")
    int evalTokens;

    @Option(names = "--bench-tokens", paramLabel = "N", defaultValue = "128", description = "Greedy tokens timed per model for decode tokens/s (default ${DEFAULT-VALUE}; 0 skips).")
    int benchTokens;

    @Option(names = "--report", paramLabel = "FILE", description = "Report JSON (default: the output's name with .report.json for .gguf).")
    Path report;

    @Option(names = "--name", paramLabel = "NAME", description = "general.name (default: the output file's name without .gguf).")
    String name;

    @Option(names = "--allow-requantize", description = "Accept an already quantized GGUF as input (it is decoded to F32 first, which compounds the rounding).")
    boolean allowRequantize;

    @Option(names = "--threads", paramLabel = "N", description = "Threads (default: all cores).")
    Integer threads;

    @Option(names = "--force", description = "Replace the output file if it exists.")
    boolean force;

    /** Whether to print the per-tensor table (the demo prints only the summary). */
    boolean table = true;

    @Override
    public Integer call() {
        QuantPlan.Preset preset = QuantPlan.Preset.parse(type);
        if (evalTokens < 0 || benchTokens < 0) throw new ConfigException("--eval-tokens and --bench-tokens must be >= 0", null);
        if (Files.exists(out) && !force) throw new ConfigException(out + " already exists", "pass --force to replace it");
        String stem = out.getFileName().toString().replaceFirst("\\.gguf$", "");
        Path reportFile = report != null ? report : defaultReport(out);
        int t = ModelCommand.engineThreads(threads);

        Checkpoint.Loaded m = ModelCommand.loadForInference(model);
        Weights stored = m.weights();
        if (!stored.quantized().isEmpty() && stored.quantized().values().stream().anyMatch(q -> q.type().blockSize > 1) && !allowRequantize) {
            throw new ConfigException(model + " is already quantized (" + stored.quantized().values().iterator().next().type() + ")",
                    "quantize the F32 model instead, or pass --allow-requantize");
        }
        Weights f32 = stored.dequantized();
        int[] evalIds = evalTokens > 0 ? validation(m.tokenizer()) : null;     // read before the long work: a bad file fails fast
        QuantPlan plan = new QuantPlan(preset, pure, f32.config().nLayers(), !f32.config().tiedEmbeddings(), tensorTypes);
        int tensorCount = dev.llmkit.core.model.TensorNames.shapes(f32.config()).size();
        ConsoleProgress progress = ConsoleProgress.create();
        progress.start("quantize " + preset.label, tensorCount, "tensors");
        long t0 = System.nanoTime();
        Quantizer.Result r;
        try {
            r = Quantizer.quantize(f32, m.tokenizer(), m.chatTemplate(), plan, out, name != null ? name : stem, t, progress::update);
        } finally {
            progress.close();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        // The table.
        if (table) System.out.printf(Locale.ROOT, "%-28s %-14s %-5s %10s %10s  %s%n", "tensor", "shape", "type", "rmse", "max err", "note");
        long f32Bytes = 0;
        for (Quantizer.TensorReport tr : r.tensors()) {
            f32Bytes += 4L * Arrays.stream(tr.shape()).asLongStream().reduce(1, (a, b) -> a * b);
            if (table) System.out.printf(Locale.ROOT, "%-28s %-14s %-5s %10.3g %10.3g  %s%n", tr.name(), shape(tr.shape()), tr.type(), tr.rmse(), tr.maxError(),
                    tr.reason() == null ? "" : tr.reason());
        }
        System.out.printf(Locale.ROOT, (table ? "%n" : "") + "wrote %s: %s, %.2f MB (F32 tensors %.2f MB), %.2f bits per weight, %d fallback%s, %.1f s%n",
                out, preset.label, r.fileBytes() / 1e6, f32Bytes / 1e6, r.bitsPerWeight(), r.fallbacks(), r.fallbacks() == 1 ? "" : "s", seconds);

        ObjectNode rep = Json.MAPPER.createObjectNode();
        rep.put("model", model.toString());
        rep.put("output", out.toString());
        rep.put("type", preset.label);
        rep.put("pure", pure);
        ArrayNode ov = rep.putArray("tensor_types");
        tensorTypes.forEach(ov::add);
        rep.put("file_bytes", r.fileBytes());
        rep.put("f32_tensor_bytes", f32Bytes);
        rep.put("parameters", r.parameters());
        rep.put("bits_per_weight", r.bitsPerWeight());
        rep.put("fallbacks", r.fallbacks());
        rep.put("seconds", seconds);
        ArrayNode ta = rep.putArray("tensors");
        for (Quantizer.TensorReport tr : r.tensors()) {
            ObjectNode o = ta.addObject();
            o.put("name", tr.name());
            ArrayNode sh = o.putArray("shape");
            for (int d : tr.shape()) sh.add(d);
            o.put("type", tr.type().name());
            o.put("bytes", tr.bytes());
            o.put("rmse", tr.rmse());
            o.put("max_error", tr.maxError());
            if (tr.reason() != null) o.put("note", tr.reason());
        }

        // Quality and speed against F32, on the engine.
        Checkpoint.Loaded q = GgufModel.loadQuantized(out);
        ObjectNode quality = rep.putObject("quality");
        if (evalIds == null) {
            quality.put("skipped", evalTokens == 0 ? "--eval-tokens 0" : "no validation data: pass --eval-text FILE");
            if (evalTokens > 0) System.out.println("quality: skipped (no validation data found beside the model; pass --eval-text FILE)");
        } else {
            long bytes = m.tokenizer().decodeBytes(evalIds, 0, evalIds.length).length;
            int bos = Math.max(0, m.tokenizer().eotId());
            Measures.Likelihood a, b;
            int ctx = f32.config().contextLength();
            try (State ef = LanguageModel.of(f32, m.tokenizer(), null).newState(ctx, t); State eq = LanguageModel.of(q).newState(ctx, t)) {
                a = Measures.rolling(ef, bos, evalIds);
                b = Measures.rolling(eq, bos, evalIds);
            }
            double bpbF = a.bitsPerByte(bytes), bpbQ = b.bitsPerByte(bytes);
            quality.put("source", evalSource);
            quality.put("tokens", evalIds.length);
            quality.put("bytes", bytes);
            quality.put("f32_bits_per_byte", bpbF);
            quality.put("bits_per_byte", bpbQ);
            quality.put("relative_change", bpbQ / bpbF - 1);
            quality.put("f32_perplexity", a.perplexity());
            quality.put("perplexity", b.perplexity());
            System.out.printf(Locale.ROOT, "quality on %s (%,d tokens, %,d bytes): bits per byte %.4f (F32 %.4f, %+.2f%%), perplexity %.3f (F32 %.3f)%n",
                    evalSource, evalIds.length, bytes, bpbQ, bpbF, 100 * (bpbQ / bpbF - 1), b.perplexity(), a.perplexity());
        }
        ObjectNode speed = rep.putObject("decode");
        if (benchTokens > 0) {
            int[] prompt = m.tokenizer().encode("The", true);
            if (prompt.length == 0) prompt = new int[] {Math.max(0, m.tokenizer().eotId())};
            int positions = Math.min(f32.config().contextLength(), prompt.length + 32 + benchTokens);
            double sf = 0, sq = 0;
            try (State ef = LanguageModel.of(f32, m.tokenizer(), null).newState(positions, t); State eq = LanguageModel.of(q).newState(positions, t)) {
                for (int round = 0; round < 3; round++) {      // alternating, best of each: a noisy machine
                    sf = Math.max(sf, Measures.decodeTokensPerSecond(ef, prompt, 32, benchTokens, 1));
                    sq = Math.max(sq, Measures.decodeTokensPerSecond(eq, prompt, 32, benchTokens, 1));
                }
            }
            speed.put("threads", t);
            speed.put("tokens", benchTokens);
            speed.put("f32_tokens_per_second", sf);
            speed.put("tokens_per_second", sq);
            speed.put("ratio", sq / sf);
            System.out.printf(Locale.ROOT, "decode (%d threads, %d greedy tokens, best of 3): %.0f tokens/s (F32 %.0f, %.2fx)%n", t, benchTokens, sq, sf, sq / sf);
        } else {
            speed.put("skipped", "--bench-tokens 0");
        }
        Json.write(reportFile, rep);
        System.out.println("report: " + reportFile);
        return ExitCodes.OK;
    }

    /** The report beside a GGUF file: NAME.report.json for NAME.gguf. */
    static Path defaultReport(Path gguf) {
        return gguf.resolveSibling(gguf.getFileName().toString().replaceFirst("\\.gguf$", "") + ".report.json");
    }

    private String evalSource;

    /** Up to --eval-tokens tokens of --eval-text, or of the run's val-*.tok shards; null when neither exists. */
    private int[] validation(Tokenizer tok) {
        if (evalText != null) {
            String text;
            try {
                text = Files.readString(evalText);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new dev.llmkit.core.ConfigException(evalText + ": no such file", "pass an existing UTF-8 text file to --eval-text", e);
            } catch (java.nio.charset.MalformedInputException e) {
                throw new dev.llmkit.core.DataException(evalText + ": not UTF-8 text", "pass a UTF-8 text file to --eval-text");
            } catch (IOException e) {
                throw new StorageException(evalText + ": cannot read: " + e.getMessage(), null, e);
            }
            int[] ids = tok.encode(text, false);
            if (ids.length < 2) throw new ConfigException(evalText + " has fewer than 2 tokens", "pass a longer text to --eval-text");
            evalSource = evalText.toString();
            return Arrays.copyOf(ids, Math.min(ids.length, evalTokens));
        }
        Path dir = model.toAbsolutePath().normalize();
        for (Path p = Files.isDirectory(dir) ? dir : dir.getParent(); p != null; p = p.getParent()) {
            Path tokens = p.resolve("02-tokens");
            if (!Files.isDirectory(tokens)) continue;
            List<Path> shards;
            try (Stream<Path> s = Files.list(tokens)) {
                shards = s.filter(f -> f.getFileName().toString().matches("val-\\d+\\.tok")).sorted().toList();
            } catch (IOException e) {
                throw new StorageException(tokens + ": cannot list: " + e.getMessage(), null, e);
            }
            if (shards.isEmpty()) continue;
            int[] all = new int[0];
            for (Path s : shards) {
                int[] ids = TokenShard.readAll(s);
                int take = Math.min(ids.length, evalTokens - all.length);
                int[] joined = Arrays.copyOf(all, all.length + take);
                System.arraycopy(ids, 0, joined, all.length, take);
                all = joined;
                if (all.length >= evalTokens) break;
            }
            for (int id : all) {
                if (id < 0 || id >= tok.vocabSize()) throw new dev.llmkit.core.DataException(tokens + ": token " + id + " is outside the model's vocabulary of " + tok.vocabSize(),
                        "these shards were not made with this model's tokenizer; pass --eval-text FILE");
            }
            evalSource = tokens.toString();
            return all.length >= 2 ? all : null;
        }
        return null;
    }

    private static String shape(int[] s) {
        StringBuilder b = new StringBuilder();
        for (int d : s) b.append(b.isEmpty() ? "" : "x").append(d);
        return b.toString();
    }
}
