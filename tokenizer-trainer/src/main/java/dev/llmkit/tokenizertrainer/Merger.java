package dev.llmkit.tokenizertrainer;

import dev.llmkit.core.Progress;
import dev.llmkit.core.util.IntList;
import dev.llmkit.core.util.LongIntMap;
import java.util.Arrays;
import java.util.function.Predicate;

/**
 * The merge phase of BPE training over counted words, with incremental pair counts: each merge
 * visits only the words that contain its pair (an index from pair to words), updates the counts of
 * the pairs around each occurrence, and pushes the pairs it created onto a lazy max-heap. The most
 * frequent pair wins; ties go to the smaller (left id, right id), so the result is deterministic.
 */
final class Merger {
    // Words: symbols of word w are syms[start[w] .. start[w] + len[w]); merges shrink len in place.
    private final int[] syms, start, len, stamp;
    private final long[] wcount;

    // Pairs, by index: (left, right), count, and the words that contained it when it was counted.
    private final LongIntMap pairIndex;
    private int pairs;
    private int[] left = new int[1 << 16], right = new int[1 << 16], lastWord = new int[1 << 16], pstamp = new int[1 << 16];
    private long[] count = new long[1 << 16];
    private int[][] words = new int[1 << 16][];
    private int[] wordsN = new int[1 << 16];
    private boolean[] banned = new boolean[1 << 16];

    // Lazy max-heap of (count snapshot, pair index).
    private long[] hcount = new long[1 << 16];
    private int[] hpair = new int[1 << 16];
    private int hsize;

    private int mergeNo;

    Merger(WordCounter wc) {
        int n = wc.size();
        start = new int[n];
        len = new int[n];
        stamp = new int[n];
        wcount = new long[n];
        syms = new int[(int) wc.poolBytes()];
        pairIndex = new LongIntMap(1 << 16);
        byte[] pool = wc.pool();
        int p = 0;
        for (int w = 0; w < n; w++) {
            start[w] = p;
            len[w] = wc.length(w);
            wcount[w] = wc.count(w);
            for (int i = 0; i < len[w]; i++) syms[p + i] = pool[wc.offset(w) + i] & 0xFF;
            p += len[w];
        }
        Arrays.fill(lastWord, -1);
        for (int w = 0; w < n; w++) {
            for (int i = start[w]; i < start[w] + len[w] - 1; i++) {
                int pi = pair(syms[i], syms[i + 1]);
                count[pi] += wcount[w];
                note(pi, w);
            }
        }
        for (int pi = 0; pi < pairs; pi++) push(count[pi], pi);
    }

    int distinctWords() {
        return start.length;
    }

    /**
     * Runs up to {@code maxMerges} merges. Ids 0..255 are the bytes; merge k creates id 256 + k.
     * A merge whose token would be longer than {@code maxTokenLength} bytes (when &gt; 0) or that
     * {@code forbidden} rejects (by the new token's bytes) is skipped for good. {@code stop[0]} gets
     * the reason training stopped.
     */
    int[][] run(int maxMerges, long minFrequency, int maxTokenLength, Predicate<byte[]> forbidden,
                Progress progress, String[] stop) {
        int firstId = 256;
        byte[][] tokens = new byte[firstId + maxMerges][];
        for (int i = 0; i < 256; i++) tokens[i] = new byte[] {(byte) i};
        int[][] merges = new int[maxMerges][];
        int m = 0;
        IntList changed = new IntList();
        stop[0] = "vocab_size reached";
        while (m < maxMerges) {
            if (hsize == 0) {
                stop[0] = "no pairs left to merge";
                break;
            }
            long c = hcount[0];
            int pi = hpair[0];
            pop();
            if (banned[pi] || count[pi] <= 0) continue;
            if (c != count[pi]) {            // stale snapshot: queue again with the current count
                push(count[pi], pi);
                continue;
            }
            if (c < minFrequency) {
                stop[0] = "min_frequency reached (the most frequent pair occurs " + c + " times)";
                break;
            }
            int a = left[pi], b = right[pi];
            int z = firstId + m;
            byte[] bytes = Arrays.copyOf(tokens[a], tokens[a].length + tokens[b].length);
            System.arraycopy(tokens[b], 0, bytes, tokens[a].length, tokens[b].length);
            if ((maxTokenLength > 0 && bytes.length > maxTokenLength) || forbidden.test(bytes)) {
                banned[pi] = true;
                continue;
            }
            tokens[z] = bytes;
            merges[m++] = new int[] {a, b};
            mergeNo++;
            changed.clear();
            apply(pi, a, b, z, changed);
            for (int i = 0; i < changed.size(); i++) {
                int q = changed.get(i);
                if (count[q] > 0) push(count[q], q);
            }
            if ((m & 63) == 0) progress.update(m);
        }
        progress.update(m);
        return Arrays.copyOf(merges, m);
    }

    private void apply(int pi, int a, int b, int z, IntList changed) {
        int[] ws = words[pi];
        int nw = wordsN[pi];
        for (int k = 0; k < nw; k++) {
            int w = ws[k];
            if (stamp[w] == mergeNo) continue;
            stamp[w] = mergeNo;
            long c = wcount[w];
            int s = start[w], n = len[w];
            for (int i = 0; i < n - 1; i++) {
                if (syms[s + i] != a || syms[s + i + 1] != b) continue;
                if (i > 0) {
                    int prev = syms[s + i - 1];
                    count[pair(prev, a)] -= c;
                    int q = pair(prev, z);
                    count[q] += c;
                    note(q, w);
                    mark(q, changed);
                }
                if (i + 2 < n) {
                    int next = syms[s + i + 2];
                    count[pair(b, next)] -= c;
                    int q = pair(z, next);
                    count[q] += c;
                    note(q, w);
                    mark(q, changed);
                }
                syms[s + i] = z;
                System.arraycopy(syms, s + i + 2, syms, s + i + 1, n - i - 2);
                n--;
            }
            len[w] = n;
        }
        count[pi] = 0;
        words[pi] = null;
        wordsN[pi] = 0;
    }

    private void mark(int q, IntList changed) {
        if (pstamp[q] != mergeNo) {
            pstamp[q] = mergeNo;
            changed.add(q);
        }
    }

    /** The index of pair (a, b), created on first use. */
    private int pair(int a, int b) {
        long key = ((long) a << 32) | b;
        int pi = pairIndex.get(key);
        if (pi >= 0) return pi;
        pi = pairs++;
        if (pi == left.length) {
            int cap = pi * 2;
            left = Arrays.copyOf(left, cap);
            right = Arrays.copyOf(right, cap);
            lastWord = Arrays.copyOf(lastWord, cap);
            Arrays.fill(lastWord, pi, cap, -1);
            pstamp = Arrays.copyOf(pstamp, cap);
            count = Arrays.copyOf(count, cap);
            words = Arrays.copyOf(words, cap);
            wordsN = Arrays.copyOf(wordsN, cap);
            banned = Arrays.copyOf(banned, cap);
        }
        left[pi] = a;
        right[pi] = b;
        pairIndex.put(key, pi);
        return pi;
    }

    /** Records that word w contains pair pi (once per run of consecutive notes). */
    private void note(int pi, int w) {
        if (lastWord[pi] == w) return;
        lastWord[pi] = w;
        int[] ws = words[pi];
        int n = wordsN[pi];
        if (ws == null) words[pi] = ws = new int[2];
        else if (n == ws.length) words[pi] = ws = Arrays.copyOf(ws, n * 2);
        ws[n] = w;
        wordsN[pi] = n + 1;
    }

    // Max-heap ordered by count, then by the smaller (left, right).
    private boolean above(long c1, int p1, long c2, int p2) {
        if (c1 != c2) return c1 > c2;
        if (left[p1] != left[p2]) return left[p1] < left[p2];
        return right[p1] < right[p2];
    }

    private void push(long c, int pi) {
        if (hsize == hcount.length) {
            hcount = Arrays.copyOf(hcount, hsize * 2);
            hpair = Arrays.copyOf(hpair, hsize * 2);
        }
        int i = hsize++;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (!above(c, pi, hcount[p], hpair[p])) break;
            hcount[i] = hcount[p];
            hpair[i] = hpair[p];
            i = p;
        }
        hcount[i] = c;
        hpair[i] = pi;
    }

    private void pop() {
        long c = hcount[--hsize];
        int pi = hpair[hsize];
        int i = 0;
        while (true) {
            int ch = 2 * i + 1;
            if (ch >= hsize) break;
            if (ch + 1 < hsize && above(hcount[ch + 1], hpair[ch + 1], hcount[ch], hpair[ch])) ch++;
            if (!above(hcount[ch], hpair[ch], c, pi)) break;
            hcount[i] = hcount[ch];
            hpair[i] = hpair[ch];
            i = ch;
        }
        if (hsize > 0) {
            hcount[i] = c;
            hpair[i] = pi;
        }
    }
}
