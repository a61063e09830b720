package dev.llmkit.data.prepare;

/**
 * A set of 128-bit hashes (open addressing, linear probing), 16 bytes per entry at load &lt;= 1/2:
 * the exact-deduplication memory is about 32 bytes per unique document.
 */
final class HashSet128 {
    private long[] hi;
    private long[] lo;
    private boolean[] used;
    private int size;
    private int mask;

    HashSet128(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        alloc(cap);
    }

    private void alloc(int cap) {
        hi = new long[cap];
        lo = new long[cap];
        used = new boolean[cap];
        mask = cap - 1;
    }

    int size() {
        return size;
    }

    boolean contains(long h, long l) {
        for (int i = (int) h & mask; used[i]; i = (i + 1) & mask) {
            if (hi[i] == h && lo[i] == l) return true;
        }
        return false;
    }

    /** Adds the hash; returns false if it was present. */
    boolean add(long h, long l) {
        if ((size + 1) * 2 > hi.length) grow();
        int i = (int) h & mask;
        for (; used[i]; i = (i + 1) & mask) {
            if (hi[i] == h && lo[i] == l) return false;
        }
        used[i] = true;
        hi[i] = h;
        lo[i] = l;
        size++;
        return true;
    }

    void addAll(HashSet128 other) {
        for (int i = 0; i < other.used.length; i++) if (other.used[i]) add(other.hi[i], other.lo[i]);
    }

    void clear() {
        if (size > 0) alloc(16);
        size = 0;
    }

    private void grow() {
        long[] oh = hi;
        long[] ol = lo;
        boolean[] ou = used;
        alloc(oh.length * 2);
        size = 0;
        for (int i = 0; i < ou.length; i++) if (ou[i]) add(oh[i], ol[i]);
    }
}
