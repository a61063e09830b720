package dev.llmkit.tokenizertrainer;

import java.util.Arrays;

/** Counts of distinct byte strings (pre-tokens), in an open-addressing table over one byte pool. */
final class WordCounter {
    private int[] slots;         // entry index + 1, 0 = empty
    private int[] hash, off, len;
    private long[] count;
    private byte[] pool;
    private int size, poolUsed;

    WordCounter() {
        slots = new int[1 << 16];
        hash = new int[1 << 15];
        off = new int[1 << 15];
        len = new int[1 << 15];
        count = new long[1 << 15];
        pool = new byte[1 << 20];
    }

    static int hash(byte[] b, int o, int n) {
        int h = 0x811C9DC5;
        for (int i = o; i < o + n; i++) h = (h ^ b[i]) * 0x01000193;
        return h ^ (h >>> 15);
    }

    void add(byte[] b, int o, int n, long c) {
        add(b, o, n, c, hash(b, o, n));
    }

    private void add(byte[] b, int o, int n, long c, int h) {
        int mask = slots.length - 1;
        int s = h & mask;
        for (int e; (e = slots[s]) != 0; s = (s + 1) & mask) {
            int i = e - 1;
            if (hash[i] == h && len[i] == n && Arrays.equals(pool, off[i], off[i] + n, b, o, o + n)) {
                count[i] += c;
                return;
            }
        }
        if (size == hash.length) {
            hash = Arrays.copyOf(hash, size * 2);
            off = Arrays.copyOf(off, size * 2);
            len = Arrays.copyOf(len, size * 2);
            count = Arrays.copyOf(count, size * 2);
        }
        if (poolUsed + n > pool.length) pool = Arrays.copyOf(pool, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(2L * pool.length, poolUsed + n)));
        int i = size++;
        hash[i] = h;
        off[i] = poolUsed;
        len[i] = n;
        count[i] = c;
        System.arraycopy(b, o, pool, poolUsed, n);
        poolUsed += n;
        slots[s] = i + 1;
        if (2 * size > slots.length) rehash();
    }

    private void rehash() {
        slots = new int[slots.length * 2];
        int mask = slots.length - 1;
        for (int i = 0; i < size; i++) {
            int s = hash[i] & mask;
            while (slots[s] != 0) s = (s + 1) & mask;
            slots[s] = i + 1;
        }
    }

    /** Adds every word of {@code other} to this counter. */
    void addAll(WordCounter other) {
        for (int i = 0; i < other.size; i++) add(other.pool, other.off[i], other.len[i], other.count[i], other.hash[i]);
    }

    int size() { return size; }
    long count(int i) { return count[i]; }
    int length(int i) { return len[i]; }
    int offset(int i) { return off[i]; }
    byte[] pool() { return pool; }

    /** Total bytes of all distinct words. */
    long poolBytes() {
        return poolUsed;
    }
}
