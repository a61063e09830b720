package dev.llmkit.trainer;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.DataException;
import dev.llmkit.core.io.TokenManifest;
import dev.llmkit.core.io.TokenShard;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The token shards of a 02-tokens directory, memory-mapped, and the two ways batches are drawn:
 * training windows at random positions chosen by a counter-based generator (the batch of
 * (step, micro-step) depends only on the seed, so resuming needs no sampler state beyond the step),
 * and fixed validation windows spread evenly over the validation shards.
 */
final class TokenData {
    private record Shard(Path file, TokenShard.Body body, long count) {}

    private final List<Shard> train = new ArrayList<>(), val = new ArrayList<>();
    private final long[] trainCumulative;
    private final int vocab;

    TokenData(Path dir, int vocab, String tokenizerSha256) {
        TokenManifest manifest = TokenManifest.read(dir);
        this.vocab = vocab;
        if (tokenizerSha256 != null && !tokenizerSha256.equals(manifest.tokenizer().sha256())) {
            throw new ConfigException(dir + " was tokenized with another tokenizer (sha256 " + manifest.tokenizer().sha256() + ")",
                    "tokenize the corpus with the model's tokenizer, or pass that tokenizer");
        }
        Path mf = dir.resolve("manifest.json");
        if (manifest.tokenizer().vocabSize() > vocab) {
            throw new DataException(mf + ": tokens of a " + manifest.tokenizer().vocabSize() + "-token vocabulary, the model has " + vocab, "use the model's tokenizer");
        }
        long[] tokens = new long[2];
        int[] shards = new int[2];
        for (TokenManifest.Shard s : manifest.shards()) {
            Path file = dir.resolve(s.file());
            Shard shard = map(file, manifest.tokenizer().sha256());
            TokenShard.Header h = shard.body().header();
            // the manifest and every shard's header describe the same tokens
            if (h.vocabSize() != manifest.tokenizer().vocabSize()) {
                throw new DataException(file + ": its header says a vocabulary of " + h.vocabSize() + " tokens, " + mf + " says " + manifest.tokenizer().vocabSize(),
                        "the token directory is damaged; re-run `llmkit data tokenize --force`");
            }
            if (h.width() != manifest.tokenWidth()) {
                throw new DataException(file + ": " + h.width() + "-byte tokens, " + mf + " says " + manifest.tokenWidth(), "the token directory is damaged; re-run `llmkit data tokenize --force`");
            }
            if (h.count() != s.tokens()) {
                throw new DataException(file + ": " + h.count() + " tokens, " + mf + " says " + s.tokens(), "the token directory is damaged; re-run `llmkit data tokenize --force`");
            }
            shard.body().checkTokens();        // every token below the vocabulary size, before step 1
            int k = "val".equals(s.split()) ? 1 : 0;
            (k == 1 ? val : train).add(shard);
            tokens[k] += h.count();
            shards[k]++;
        }
        for (int k = 0; k < 2; k++) {
            TokenManifest.Totals t = k == 0 ? manifest.train() : manifest.val();
            if (t != null && (t.tokens() != tokens[k] || t.shards() != shards[k])) {
                throw new DataException(mf + ": its " + (k == 0 ? "train" : "val") + " totals say " + t.shards() + " shards of " + t.tokens() + " tokens, its shards hold "
                        + shards[k] + " of " + tokens[k], "the token directory is damaged; re-run `llmkit data tokenize --force`");
            }
        }
        trainCumulative = new long[train.size()];
        long sum = 0;
        for (int i = 0; i < train.size(); i++) trainCumulative[i] = sum += train.get(i).count;
    }

    private Shard map(Path file, String sha) {
        TokenShard.Body body = TokenShard.map(file);
        TokenShard.Header h = body.header();
        if (!h.tokenizerSha256().equals(sha)) throw new DataException(file + ": tokenized with another tokenizer than manifest.json says", "re-run `llmkit data tokenize --force`");
        if (h.vocabSize() > vocab) throw new DataException(file + ": vocabulary of " + h.vocabSize() + " tokens, the model has " + vocab, "use the model's tokenizer");
        return new Shard(file, body, h.count());
    }

    long trainTokens() {
        return trainCumulative.length == 0 ? 0 : trainCumulative[trainCumulative.length - 1];
    }

    /** Checks there is enough training text for windows of t + 1 tokens. */
    void requireWindows(int t, Path dir) {
        for (Shard s : train) if (s.count > t) return;
        throw new DataException(dir + ": no training shard has more than seq_len " + t + " tokens (" + trainTokens() + " in all)",
                "use more text or a smaller pretrain.seq_len");
    }

    /** Pre-training batches: random training windows, fixed validation windows, every token predicted (weight 1). */
    final class Windows implements BatchSource {
        private final long seed;
        private final int b, t, valWindows;

        Windows(long seed, int b, int t, int evalBatches) {
            this.seed = seed;
            this.b = b;
            this.t = t;
            this.valWindows = valWindows(t, evalBatches * b);
        }

        @Override
        public void train(long step, int micro, Batch into) {
            into.reset(b, t, false);
            trainBatch(seed, step, micro, b, t, into.tokens, into.targets);
            java.util.Arrays.fill(into.weights, 0, b * t, 1f);
        }

        @Override
        public int validationBatches() {
            return (valWindows + b - 1) / b;
        }

        @Override
        public void validation(int i, Batch into) {
            int n = Math.min(b, valWindows - i * b);
            into.reset(n, t, false);
            for (int r = 0; r < n; r++) valWindow(i * b + r, valWindows, t, into.tokens, into.targets, r);
            java.util.Arrays.fill(into.weights, 0, n * t, 1f);
        }

        @Override
        public long trainTokens() {
            return TokenData.this.trainTokens();
        }
    }

    Windows windows(long seed, int b, int t, int evalBatches) {
        return new Windows(seed, b, t, evalBatches);
    }

    /** Training batch of (step, micro): b windows of t + 1 tokens into in/out (shifted by one). */
    void trainBatch(long seed, long step, int micro, int b, int t, int[] in, int[] out) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step * 1_000_003L + micro);
        for (int s = 0; s < b; s++) {
            Shard sh;
            do {
                long pick = r.nextLong(trainTokens());
                int i = 0;
                while (trainCumulative[i] <= pick) i++;
                sh = train.get(i);
            } while (sh.count <= t);
            long start = r.nextLong(sh.count - t);
            read(sh, start, t, in, out, s * t);
        }
    }

    /** Number of validation windows of t + 1 tokens available, at most {@code want}. */
    int valWindows(int t, int want) {
        long n = 0;
        for (Shard s : val) n += s.count / (t + 1);
        return (int) Math.min(want, n);
    }

    /** Validation window {@code w} of {@code n}: windows spread evenly over the validation shards. */
    void valWindow(int w, int n, int t, int[] in, int[] out, int row) {
        long total = 0;
        for (Shard s : val) total += s.count / (t + 1);
        long k = total * w / n;
        for (Shard s : val) {
            long here = s.count / (t + 1);
            if (k < here) {
                read(s, k * (t + 1), t, in, out, row * t);
                return;
            }
            k -= here;
        }
        throw new IllegalStateException("validation window " + w + " out of range");
    }

    private void read(Shard s, long start, int t, int[] in, int[] out, int off) {
        for (int i = 0; i <= t; i++) {
            int tok = s.body.get(start + i);     // checked against the shard's vocabulary, itself <= the model's
            if (i < t) in[off + i] = tok;
            if (i > 0) out[off + i - 1] = tok;
        }
    }
}
