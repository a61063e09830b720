package dev.llmkit.core.tokenizer;

import dev.llmkit.core.util.IntList;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Encoding state: scratch arrays and a cache of encoded pre-tokens (most words repeat, so most
 * pre-tokens cost one hash lookup). Not thread-safe; {@link Tokenizer} lends each to one call at a time.
 */
final class Encoder {
    /** Words up to this many bytes use the quadratic merge loop; longer ones use a heap. */
    static final int HEAP_THRESHOLD = 64;
    private static final int SLOTS = 1 << 17, MAX_ENTRIES = SLOTS / 2, MAX_KEY = 128;

    private final Tokenizer t;
    private final SplitPattern pattern;
    private final int heapThreshold;
    private int[] sym = new int[64];
    private int[] rk = new int[64];

    // Word cache: open addressing over slots holding entry index + 1.
    private final int[] slots = new int[SLOTS];
    private final int[] eHash = new int[MAX_ENTRIES], eKeyOff = new int[MAX_ENTRIES], eKeyLen = new int[MAX_ENTRIES],
            eValOff = new int[MAX_ENTRIES], eValLen = new int[MAX_ENTRIES];
    private final byte[] keyPool = new byte[MAX_ENTRIES * 12];
    private final int[] valPool = new int[MAX_ENTRIES * 4];
    private int entries, keyUsed, valUsed;

    Encoder(Tokenizer t) {
        this(t, HEAP_THRESHOLD);
    }

    /** With {@code heapThreshold} 0 every word takes the heap path (tests compare the two). */
    Encoder(Tokenizer t, int heapThreshold) {
        this.t = t;
        this.pattern = t.pattern();
        this.heapThreshold = heapThreshold;
    }

    /** Encodes without added-token matching into a new array (tests). */
    int[] encodeOnce(String text) {
        IntList out = new IntList();
        encode(text, false, out);
        return out.toArray();
    }

    void encode(String text, boolean allowSpecial, IntList out) {
        List<Tokenizer.AddedToken> added = t.addedByLength();
        if (!allowSpecial || added.isEmpty()) {
            encodeSegment(text, 0, text.length(), out);
            return;
        }
        // Next occurrence of each added token at or after pos; searched again only once pos passes it.
        int[] next = new int[added.size()];
        java.util.Arrays.fill(next, -2);
        int pos = 0;
        while (true) {
            int best = -1, hit = -1;
            for (int k = 0; k < added.size(); k++) {     // longest first, so a longer token wins a tie
                if (next[k] == -2 || (next[k] >= 0 && next[k] < pos)) next[k] = text.indexOf(added.get(k).content(), pos);
                if (next[k] >= 0 && (best < 0 || next[k] < best)) {
                    best = next[k];
                    hit = k;
                }
            }
            if (hit < 0) {
                encodeSegment(text, pos, text.length(), out);
                return;
            }
            encodeSegment(text, pos, best, out);
            out.add(added.get(hit).id());
            pos = best + added.get(hit).content().length();
        }
    }

    private void encodeSegment(String text, int from, int to, IntList out) {
        if (from >= to) return;
        String s = from == 0 && to == text.length() ? text : text.substring(from, to);
        if (t.addPrefixSpace() && s.charAt(0) != ' ') s = " " + s;
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        encodeOrdinary(b, 0, b.length, out);
    }

    void encodeOrdinary(byte[] b, int pos, int end, IntList out) {
        while (pos < end) {
            int q = pattern.next(b, pos, end);
            word(b, pos, q - pos, out);
            pos = q;
        }
    }

    private void word(byte[] b, int off, int len, IntList out) {
        if (len == 1) {
            int id = t.byteId(b[off] & 0xFF);
            if (id >= 0) out.add(id);
            return;
        }
        if (len > MAX_KEY) {
            bpe(b, off, len, out);
            return;
        }
        int h = 0x811C9DC5;
        for (int i = off; i < off + len; i++) h = (h ^ b[i]) * 0x01000193;
        h ^= h >>> 15;
        int s = h & (SLOTS - 1);
        for (int e; (e = slots[s]) != 0; s = (s + 1) & (SLOTS - 1)) {
            int i = e - 1;
            if (eHash[i] == h && eKeyLen[i] == len
                    && Arrays.equals(keyPool, eKeyOff[i], eKeyOff[i] + len, b, off, off + len)) {
                out.addAll(valPool, eValOff[i], eValLen[i]);
                return;
            }
        }
        int start = out.size();
        bpe(b, off, len, out);
        int n = out.size() - start;
        if (entries == MAX_ENTRIES || keyUsed + len > keyPool.length || valUsed + n > valPool.length) {
            Arrays.fill(slots, 0);
            entries = keyUsed = valUsed = 0;
            s = h & (SLOTS - 1);
            while (slots[s] != 0) s = (s + 1) & (SLOTS - 1);
        }
        int i = entries++;
        eHash[i] = h;
        eKeyOff[i] = keyUsed;
        eKeyLen[i] = len;
        System.arraycopy(b, off, keyPool, keyUsed, len);
        keyUsed += len;
        eValOff[i] = valUsed;
        eValLen[i] = n;
        System.arraycopy(out.array(), start, valPool, valUsed, n);
        valUsed += n;
        slots[s] = i + 1;
    }

    /** Byte-pair merges inside one pre-token; appends the resulting ids. */
    void bpe(byte[] b, int off, int len, IntList out) {
        if (sym.length < len) {
            sym = new int[len];
            rk = new int[len];
        }
        int n = 0;
        for (int i = off; i < off + len; i++) {
            int id = t.byteId(b[i] & 0xFF);
            if (id >= 0) sym[n++] = id;     // a byte without a token is dropped, as Hugging Face does without unk
        }
        if (n > heapThreshold) {
            bpeHeap(n, out);
            return;
        }
        for (int i = 0; i < n - 1; i++) rk[i] = rankOrMax(sym[i], sym[i + 1]);
        while (n > 1) {
            int best = Integer.MAX_VALUE, bi = -1;
            for (int i = 0; i < n - 1; i++) {
                if (rk[i] < best) {
                    best = rk[i];
                    bi = i;
                }
            }
            if (bi < 0) break;
            sym[bi] = t.mergeResult(best);
            System.arraycopy(sym, bi + 2, sym, bi + 1, n - bi - 2);
            if (n - bi - 3 > 0) System.arraycopy(rk, bi + 2, rk, bi + 1, n - bi - 3);
            n--;
            if (bi > 0) rk[bi - 1] = rankOrMax(sym[bi - 1], sym[bi]);
            if (bi < n - 1) rk[bi] = rankOrMax(sym[bi], sym[bi + 1]);
        }
        out.addAll(sym, 0, n);
    }

    private int rankOrMax(int a, int b) {
        int r = t.rank(a, b);
        return r < 0 ? Integer.MAX_VALUE : r;
    }

    /** The same merges for long pre-tokens in O(n log n): a heap of (rank, position) over a linked list. */
    private void bpeHeap(int n, IntList out) {
        int[] next = new int[n], prev = new int[n];
        boolean[] dead = new boolean[n];
        long[] heap = new long[Math.max(4, 2 * n)];
        int size = 0;
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        for (int i = 0; i < n - 1; i++) {
            int r = t.rank(sym[i], sym[i + 1]);
            if (r >= 0) size = push(heap = grow(heap, size), size, ((long) r << 32) | i);
        }
        while (size > 0) {
            long e = heap[0];
            heap[0] = heap[--size];
            siftDown(heap, size);
            int r = (int) (e >>> 32), i = (int) e;
            if (dead[i] || next[i] < 0) continue;
            int j = next[i];
            if (t.rank(sym[i], sym[j]) != r) continue;  // stale: a neighbour changed since this was queued
            sym[i] = t.mergeResult(r);
            dead[j] = true;
            next[i] = next[j];
            if (next[j] >= 0) prev[next[j]] = i;
            if (prev[i] >= 0) {
                int r2 = t.rank(sym[prev[i]], sym[i]);
                if (r2 >= 0) size = push(heap = grow(heap, size), size, ((long) r2 << 32) | prev[i]);
            }
            if (next[i] >= 0) {
                int r3 = t.rank(sym[i], sym[next[i]]);
                if (r3 >= 0) size = push(heap = grow(heap, size), size, ((long) r3 << 32) | i);
            }
        }
        for (int i = 0; i >= 0; i = next[i]) out.add(sym[i]);
    }

    private static long[] grow(long[] heap, int size) {
        return size < heap.length ? heap : Arrays.copyOf(heap, heap.length * 2);
    }

    private static int push(long[] heap, int size, long v) {
        int i = size;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (heap[p] <= v) break;
            heap[i] = heap[p];
            i = p;
        }
        heap[i] = v;
        return size + 1;
    }

    private static void siftDown(long[] heap, int size) {
        if (size == 0) return;
        long v = heap[0];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) break;
            if (c + 1 < size && heap[c + 1] < heap[c]) c++;
            if (heap[c] >= v) break;
            heap[i] = heap[c];
            i = c;
        }
        heap[i] = v;
    }
}
