package dev.llmkit.core.util;

import java.util.Arrays;

/** Open-addressing map from long keys to non-negative int values; {@code get} returns -1 when absent. */
public final class LongIntMap {
    private long[] keys;
    private int[] values;   // -1 marks an empty slot
    private int size, mask;

    public LongIntMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[cap];
        values = new int[cap];
        Arrays.fill(values, -1);
        mask = cap - 1;
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }

    public int get(long key) {
        int i = slot(key, mask);
        while (true) {
            int v = values[i];
            if (v < 0 || keys[i] == key) return v;
            i = (i + 1) & mask;
        }
    }

    /** Sets {@code key} to {@code value} (&gt;= 0); returns the previous value or -1. */
    public int put(long key, int value) {
        if (value < 0) throw new IllegalArgumentException("negative value " + value);
        if (2 * (size + 1) > keys.length) grow();
        int i = slot(key, mask);
        while (values[i] >= 0) {
            if (keys[i] == key) {
                int old = values[i];
                values[i] = value;
                return old;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
        return -1;
    }

    public int size() {
        return size;
    }

    private void grow() {
        long[] ok = keys;
        int[] ov = values;
        keys = new long[ok.length * 2];
        values = new int[ok.length * 2];
        Arrays.fill(values, -1);
        mask = keys.length - 1;
        for (int j = 0; j < ok.length; j++) {
            if (ov[j] < 0) continue;
            int i = slot(ok[j], mask);
            while (values[i] >= 0) i = (i + 1) & mask;
            keys[i] = ok[j];
            values[i] = ov[j];
        }
    }
}
