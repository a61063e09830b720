package dev.llmkit.tokenizertrainer;

import dev.llmkit.core.Progress;
import dev.llmkit.core.config.TokenizerConfig;
import dev.llmkit.core.tokenizer.SplitPattern;
import dev.llmkit.core.tokenizer.Tokenizer;
import dev.llmkit.core.tokenizer.TokenizerJson;
import dev.llmkit.core.util.Text;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Byte-level BPE training. Phase 1 cuts every text into pre-tokens with the split pattern and counts
 * distinct pre-tokens on all cores (one counter per thread, added together at the end). Phase 2
 * ({@link Merger}) learns merges from the counts. Ids: 0..255 the bytes, then one per merge, then
 * the special tokens. The same texts and config always give the same tokenizer.
 */
public final class BpeTrainer {
    private BpeTrainer() {}

    /** What training did. */
    public record Stats(long documents, long bytes, boolean truncated, long distinctWords, long pretokens, int merges,
                        String stopReason, int threads, double secondsCount, double secondsMerge) {}

    public record Result(Tokenizer tokenizer, Stats stats) {}

    private static final int BATCH_BYTES = 1 << 20;
    private static final List<String> POISON = new ArrayList<>();

    /**
     * Trains on {@code texts} (each a document; at most {@code cfg.maxBytes()} bytes of them when that is
     * &gt; 0). {@code totalBytes} sizes the progress bar (&lt;= 0: unknown).
     */
    public static Result train(Iterator<String> texts, TokenizerConfig cfg, long totalBytes, Progress progress) {
        SplitPattern pattern = SplitPattern.parse(cfg.pattern());
        int threads = cfg.threads() > 0 ? cfg.threads() : Runtime.getRuntime().availableProcessors();

        // 1. Count pre-tokens: this thread reads batches, workers split and count.
        long t0 = System.nanoTime();
        long limit = cfg.maxBytes() > 0 ? cfg.maxBytes() : Long.MAX_VALUE;
        progress.start("count words", Math.min(totalBytes, limit), "B");
        BlockingQueue<List<String>> queue = new ArrayBlockingQueue<>(threads * 2);
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bpe-count");
            t.setDaemon(true);
            return t;
        });
        List<Future<WordCounter>> futures = new ArrayList<>();
        for (int i = 0; i < threads; i++) futures.add(pool.submit(() -> count(queue, pattern)));
        long docs = 0, bytes = 0, withText = 0;
        boolean truncated = false;
        try {
            List<String> batch = new ArrayList<>();
            long batchBytes = 0;
            while (texts.hasNext()) {
                String s = texts.next();
                long n = Text.utf8Length(s);
                if (bytes + n > limit) {
                    truncated = true;
                    break;
                }
                batch.add(s);
                docs++;
                if (!s.isBlank()) withText++;
                bytes += n;
                batchBytes += n;
                if (batchBytes >= BATCH_BYTES) {
                    put(queue, batch, futures);
                    progress.update(bytes);
                    batch = new ArrayList<>();
                    batchBytes = 0;
                }
            }
            if (!batch.isEmpty()) put(queue, batch, futures);
            for (int i = 0; i < threads; i++) put(queue, POISON, futures);
            WordCounter words = futures.get(0).get();
            for (int i = 1; i < threads; i++) words.addAll(futures.get(i).get());
            progress.update(bytes);
            long pretokens = 0;
            for (int i = 0; i < words.size(); i++) pretokens += words.count(i);
            double secondsCount = (System.nanoTime() - t0) / 1e9;
            if (withText == 0) {
                // an empty result is never what a user wants: most often the wrong directory or file
                throw new dev.llmkit.core.DataException("no text to train on: " + docs + " document(s), " + bytes + " bytes, all empty or whitespace",
                        "check the --corpus paths (a prepared corpus directory or .txt files with text in them)");
            }

            // 2. Merge.
            long t1 = System.nanoTime();
            Merger merger = new Merger(words);
            int maxMerges = cfg.vocabSize() - 256 - cfg.specialTokens().size();
            Set<String> special = new HashSet<>(cfg.specialTokens());
            progress.start("merge", maxMerges, "merges");
            String[] stop = new String[1];
            int[][] merges = merger.run(maxMerges, cfg.minFrequency(), cfg.maxTokenLength(),
                    b -> special.contains(new String(b, StandardCharsets.UTF_8)), progress, stop);
            Tokenizer tok = TokenizerJson.build(merges, cfg.specialTokens(), pattern);
            double secondsMerge = (System.nanoTime() - t1) / 1e9;
            return new Result(tok, new Stats(docs, bytes, truncated, merger.distinctWords(), pretokens, merges.length,
                    stop[0], threads, secondsCount, secondsMerge));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static void put(BlockingQueue<List<String>> queue, List<String> batch, List<Future<WordCounter>> workers)
            throws InterruptedException, ExecutionException {
        while (!queue.offer(batch, 100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
            for (Future<WordCounter> f : workers) if (f.isDone()) f.get();   // surfaces a worker's failure
        }
    }

    private static WordCounter count(BlockingQueue<List<String>> queue, SplitPattern pattern) throws InterruptedException {
        WordCounter wc = new WordCounter();
        while (true) {
            List<String> batch = queue.take();
            if (batch == POISON) return wc;
            for (String s : batch) {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                int p = 0;
                while (p < b.length) {
                    int q = pattern.next(b, p, b.length);
                    wc.add(b, p, q - p, 1);
                    p = q;
                }
            }
        }
    }


}
