package dev.llmkit.core.tokenizer;

import dev.llmkit.core.DataException;
import dev.llmkit.core.util.IntList;
import dev.llmkit.core.util.LongIntMap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * A byte-level BPE tokenizer: the runtime for tokenizer.json files (ours and GPT-2-style files that
 * Hugging Face writes). Text is cut into pre-tokens by a {@link SplitPattern}, each pre-token's UTF-8
 * bytes start as byte tokens, and merges are applied lowest rank first (leftmost first among equal
 * ranks), as Hugging Face does. Added (special) tokens are matched in the text only when the caller
 * allows it. Thread-safe: each call borrows an {@link Encoder} (scratch arrays and a word cache) from
 * a pool, so concurrent calls never share one.
 */
public final class Tokenizer {
    /** A token added beside the BPE vocabulary, matched verbatim in text: {@code <|endoftext|>}, chat markers. */
    public record AddedToken(int id, String content, boolean special) {}

    /** Canonical names of the special tokens llmkit trains with. */
    public static final String EOT = "<|endoftext|>";

    private final String[] strings;     // [vocab] token strings as in tokenizer.json (byte-level, or the added content)
    private final byte[][] bytes;       // [vocab] the token's bytes (UTF-8 of the content for added tokens)
    private final int[] byteIds;        // [256] id of each single-byte token, -1 if the vocabulary lacks it
    private final LongIntMap ranks;     // (left << 32 | right) -> merge rank
    private final int[] mergeResult;    // [merges] id produced by each merge
    private final int[][] mergePairs;   // [merges] {left, right}
    private final SplitPattern pattern;
    private final boolean addPrefixSpace;
    private final List<AddedToken> added;   // longest content first, for matching
    private volatile String sha256;                       // computed on first use from shaSource
    private final java.util.function.Supplier<String> shaSource;
    /** Idle encoders: a thread borrows one per call, so caches outlive threads but not this tokenizer. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Encoder> encoders = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /**
     * @param strings  token strings by id (null where an id has no token)
     * @param merges   merge pairs by rank, as ids
     * @param sha256   hash of the tokenizer.json this came from (token shards record it)
     */
    Tokenizer(String[] strings, int[][] merges, List<AddedToken> added, SplitPattern pattern, boolean addPrefixSpace,
              String sha256, String source) {
        this(strings, merges, added, pattern, addPrefixSpace, () -> sha256, source);
    }

    /**
     * The same with the tokenizer.json hash computed when first asked for: a fresh process that only
     * encodes and decodes (generate, chat) never hashes the file, which costs it a tenth of a second
     * before the JIT has compiled SHA-256.
     */
    Tokenizer(String[] strings, int[][] merges, List<AddedToken> added, SplitPattern pattern, boolean addPrefixSpace,
              java.util.function.Supplier<String> sha256, String source) {
        this.strings = strings;
        this.pattern = pattern;
        this.addPrefixSpace = addPrefixSpace;
        this.shaSource = sha256;
        this.bytes = new byte[strings.length][];
        boolean[] isAdded = new boolean[strings.length];
        for (AddedToken a : added) {
            isAdded[a.id()] = true;
            bytes[a.id()] = a.content().getBytes(StandardCharsets.UTF_8);
        }
        this.byteIds = new int[256];
        java.util.Arrays.fill(byteIds, -1);
        for (int id = 0; id < strings.length; id++) {
            if (strings[id] == null || isAdded[id]) continue;
            byte[] b = ByteLevel.decode(strings[id]);
            if (b == null || b.length == 0) {
                throw new DataException(source + ": model.vocab: token " + id + " \"" + strings[id]
                        + "\" is not a byte-level string", "only byte-level BPE tokenizers (GPT-2 style) are supported");
            }
            bytes[id] = b;
            if (b.length == 1 && byteIds[b[0] & 0xFF] < 0) byteIds[b[0] & 0xFF] = id;
        }
        this.ranks = new LongIntMap(merges.length);
        this.mergeResult = new int[merges.length];
        this.mergePairs = merges;
        java.util.HashMap<String, Integer> index = new java.util.HashMap<>(strings.length * 2);
        for (int id = 0; id < strings.length; id++) if (strings[id] != null && !isAdded[id]) index.putIfAbsent(strings[id], id);
        for (int r = 0; r < merges.length; r++) {
            int a = merges[r][0], b = merges[r][1];
            Integer z = index.get(strings[a] + strings[b]);
            if (z == null) {
                throw new DataException(source + ": model.merges[" + r + "]: the merged token \"" + strings[a] + strings[b]
                        + "\" is not in the vocabulary", "the file is inconsistent; re-export it");
            }
            mergeResult[r] = z;
            ranks.put(((long) a << 32) | b, r);   // a duplicated pair keeps its last rank, as in Hugging Face
        }
        List<AddedToken> sorted = new ArrayList<>(added);
        sorted.sort(Comparator.comparingInt((AddedToken t) -> -t.content().length()).thenComparingInt(AddedToken::id));
        this.added = List.copyOf(sorted);
    }

    /** Loads a tokenizer.json file; errors name the file and field. */
    public static Tokenizer load(Path file) {
        return TokenizerJson.read(file);
    }

    public int vocabSize() {
        return strings.length;
    }

    public int mergeCount() {
        return mergeResult.length;
    }

    public SplitPattern pattern() {
        return pattern;
    }

    public boolean addPrefixSpace() {
        return addPrefixSpace;
    }

    /** Added tokens, in id order. */
    public List<AddedToken> addedTokens() {
        return added.stream().sorted(Comparator.comparingInt(AddedToken::id)).toList();
    }

    /** Id of an added token with this content, or -1. */
    public int addedId(String content) {
        for (AddedToken a : added) if (a.content().equals(content)) return a.id();
        return -1;
    }

    /** Id of {@code <|endoftext|>}, or -1 when the tokenizer has none. */
    public int eotId() {
        return addedId(EOT);
    }

    /** Hex sha256 of the tokenizer.json this tokenizer was read from or written as. */
    public String sha256() {
        String h = sha256;
        if (h == null) sha256 = h = shaSource.get();
        return h;
    }

    /** The token's string as tokenizer.json writes it (byte-level characters), or null for an unused id. */
    public String tokenString(int id) {
        return strings[id];
    }

    /** The bytes a token decodes to (a copy). */
    public byte[] tokenBytes(int id) {
        checkId(id);
        return bytes[id] == null ? new byte[0] : bytes[id].clone();
    }

    /** Merge pairs by rank, as ids (a copy). */
    public int[][] merges() {
        int[][] m = new int[mergePairs.length][];
        for (int i = 0; i < m.length; i++) m[i] = mergePairs[i].clone();
        return m;
    }

    /** Encodes text; added tokens in it are plain text. */
    public int[] encode(String text) {
        return encode(text, false);
    }

    /** Encodes text; with {@code allowSpecial}, added tokens written in the text become their ids. */
    public int[] encode(String text, boolean allowSpecial) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        Encoder e = borrow();
        try {
            e.encode(text, allowSpecial, out);
        } finally {
            encoders.offer(e);
        }
        return out.toArray();
    }


    private Encoder borrow() {
        Encoder e = encoders.poll();
        return e != null ? e : new Encoder(this);
    }

    /** Encodes many texts on {@code threads} threads (0 = all cores); results in input order. */
    public int[][] encodeBatch(List<String> texts, boolean allowSpecial, int threads) {
        int n = texts.size();
        int[][] out = new int[n][];
        int cores = Runtime.getRuntime().availableProcessors();
        int t = threads > 0 ? threads : cores;
        // Contiguous chunks, each encoded with one borrowed encoder (one cache, no per-text hand-over).
        int chunks = Math.min(n, t * 4);
        IntConsumer chunk = c -> {
            Encoder e = borrow();
            try {
                for (int i = (int) ((long) c * n / chunks); i < (int) ((long) (c + 1) * n / chunks); i++) {
                    IntList ids = new IntList(Math.max(16, texts.get(i).length() / 3));
                    e.encode(texts.get(i), allowSpecial, ids);
                    out[i] = ids.toArray();
                }
            } finally {
                encoders.offer(e);
            }
        };
        if (t == 1 || chunks < 2) {
            for (int c = 0; c < chunks; c++) chunk.accept(c);
            return out;
        }
        if (t == cores) {       // the common pool's workers plus this thread
            IntStream.range(0, chunks).parallel().forEach(chunk);
            return out;
        }
        ForkJoinPool pool = new ForkJoinPool(t);
        try {
            pool.submit(() -> IntStream.range(0, chunks).parallel().forEach(chunk)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdown();
        }
        return out;
    }

    /** The bytes of a token sequence. */
    public byte[] decodeBytes(int[] ids, int off, int len) {
        int total = 0;
        for (int i = off; i < off + len; i++) {
            checkId(ids[i]);
            if (bytes[ids[i]] != null) total += bytes[ids[i]].length;
        }
        byte[] out = new byte[total];
        int p = 0;
        for (int i = off; i < off + len; i++) {
            byte[] b = bytes[ids[i]];
            if (b == null) continue;
            System.arraycopy(b, 0, out, p, b.length);
            p += b.length;
        }
        return out;
    }

    /** Decodes ids to text; byte sequences that are not valid UTF-8 become U+FFFD, as in Hugging Face. */
    public String decode(int[] ids) {
        return new String(decodeBytes(ids, 0, ids.length), StandardCharsets.UTF_8);
    }

    private void checkId(int id) {
        if (id < 0 || id >= strings.length) {
            throw new DataException("token id " + id + " is out of range [0, " + strings.length + ")",
                    "ids must come from this tokenizer (vocabulary size " + strings.length + ")");
        }
    }

    // Package-private views for the Encoder.
    int byteId(int b) { return byteIds[b]; }
    int rank(int left, int right) { return ranks.get(((long) left << 32) | right); }
    int mergeResult(int rank) { return mergeResult[rank]; }
    List<AddedToken> addedByLength() { return added; }
}
