package dev.llmkit.core.util;

import java.util.Arrays;

/** A growable list of ints without boxing. */
public final class IntList {
    private int[] a;
    private int size;

    public IntList() {
        this(16);
    }

    public IntList(int capacity) {
        a = new int[Math.max(1, capacity)];
    }

    public void add(int v) {
        if (size == a.length) a = Arrays.copyOf(a, a.length * 2);
        a[size++] = v;
    }

    public void addAll(int[] src, int off, int len) {
        ensure(size + len);
        System.arraycopy(src, off, a, size, len);
        size += len;
    }

    public void ensure(int capacity) {
        if (capacity > a.length) a = Arrays.copyOf(a, Math.max(capacity, a.length * 2));
    }

    public int get(int i) {
        return a[i];
    }

    public int size() {
        return size;
    }

    public void clear() {
        size = 0;
    }

    /** The backing array; valid up to {@link #size()}. */
    public int[] array() {
        return a;
    }

    public int[] toArray() {
        return Arrays.copyOf(a, size);
    }
}
