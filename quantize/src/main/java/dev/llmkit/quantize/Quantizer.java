package dev.llmkit.quantize;

import dev.llmkit.core.io.Gguf;
import dev.llmkit.core.model.GgufModel;
import dev.llmkit.core.model.ModelConfig;
import dev.llmkit.core.model.TensorNames;
import dev.llmkit.core.model.Weights;
import dev.llmkit.core.quant.GgmlType;
import dev.llmkit.core.quant.QuantPlan;
import dev.llmkit.core.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * Quantizes an F32 model tensor by tensor as {@link QuantPlan} decides, with llama.cpp's reference
 * quantizers ({@link GgmlType#quantize}), and writes one GGUF file: the same metadata as
 * {@code llmkit export}, tensors in the model's order. Each tensor's error against F32 is measured by
 * decoding what was written. Tensors are split over threads in row chunks; the bytes do not depend on
 * the thread count (each block is quantized on its own).
 */
public final class Quantizer {
    private Quantizer() {}

    /** One tensor's outcome: type, why it is not the preset's type (or null), sizes and error against F32. */
    public record TensorReport(String name, int[] shape, GgmlType type, String reason, long bytes, double rmse, double maxError) {}

    /** The whole file: its tensors, the matrices' parameter count and the file's size in bytes. */
    public record Result(List<TensorReport> tensors, long parameters, long fileBytes, List<Gguf.OutTensor> encoded) {
        /** Bits per weight of the file (all tensors, metadata included), as llama.cpp counts "BPW". */
        public double bitsPerWeight() {
            return fileBytes * 8.0 / parameters;
        }

        public long fallbacks() {
            return tensors.stream().filter(t -> t.reason != null && t.reason.contains("fallback")).count();
        }
    }

    /** Encodes every tensor of {@code w} (all F32) as the plan says, on {@code threads} threads. */
    public static List<Gguf.OutTensor> encode(Weights w, QuantPlan plan, int threads, List<TensorReport> reports, IntConsumer progress) {
        ModelConfig c = w.config();
        List<Gguf.OutTensor> out = new ArrayList<>();
        ExecutorService ex = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "llmkit-quantize");
            t.setDaemon(true);
            return t;
        });
        try {
            int done = 0;
            for (Map.Entry<String, int[]> e : TensorNames.shapes(c).entrySet()) {
                String name = e.getKey();
                int[] shape = e.getValue();
                float[] x = w.get(name);
                QuantPlan.Choice ch = plan.choose(name, shape);
                int cols = shape[shape.length - 1], rows = x.length / cols;
                GgmlType t = ch.type();
                long rowBytes = t.bytes(cols);
                if (rowBytes * rows > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(name + " is too large to quantize in one array");
                byte[] q = new byte[(int) (rowBytes * rows)];
                double[][] err = new double[Math.max(1, threads)][2];
                List<Future<?>> fs = new ArrayList<>();
                int parts = Math.max(1, Math.min(threads, rows));
                for (int p = 0; p < parts; p++) {
                    int r0 = (int) ((long) rows * p / parts), r1 = (int) ((long) rows * (p + 1) / parts), part = p;
                    fs.add(ex.submit(() -> {
                        float[] back = new float[cols];
                        double se = 0, max = 0;
                        for (int r = r0; r < r1; r++) {
                            t.quantize(x, r * cols, cols, q, (int) (r * rowBytes));
                            t.dequantize(q, (int) (r * rowBytes), cols, back, 0);
                            for (int i = 0; i < cols; i++) {
                                double d = (double) back[i] - x[r * cols + i];
                                se += d * d;
                                max = Math.max(max, Math.abs(d));
                            }
                        }
                        err[part][0] = se;
                        err[part][1] = max;
                    }));
                }
                for (Future<?> f : fs) f.get();
                double se = 0, max = 0;
                for (double[] pe : err) {
                    se += pe[0];
                    max = Math.max(max, pe[1]);
                }
                out.add(Gguf.OutTensor.raw(name, shape, t, q));
                reports.add(new TensorReport(name, shape, t, ch.reason(), q.length, Math.sqrt(se / x.length), max));
                if (progress != null) progress.accept(++done);
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        } finally {
            ex.shutdownNow();
        }
    }

    /** Quantizes and writes {@code file} (atomically: a temporary name, then a rename). */
    public static Result quantize(Weights w, Tokenizer tok, String chatTemplate, QuantPlan plan, Path file, String name, int threads, IntConsumer progress) {
        List<TensorReport> reports = new ArrayList<>();
        List<Gguf.OutTensor> encoded = encode(w.dequantized(), plan, threads, reports, progress);
        GgufModel.write(w.config(), tok, file, name, chatTemplate, plan.preset().fileType, encoded);
        long size;
        try {
            size = java.nio.file.Files.size(file);
        } catch (java.io.IOException e) {
            throw new dev.llmkit.core.StorageException(file + ": cannot read its size: " + e.getMessage(), null, e);
        }
        return new Result(reports, w.config().parameters(), size, encoded);
    }
}
